#!/usr/bin/env bash
# Runs every test target of the workspace and ends with one summary line: "tests: N passed, M failed".
set -uo pipefail
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
RUST_BACKTRACE=0 "${CARGO:-cargo}" test --workspace --lib --bins --tests --locked "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
if [[ $status -eq 0 && $passed -eq 0 ]]; then
  echo "error: no test ran" >&2
  status=1
fi
echo
echo "tests: ${passed} passed, ${failed} failed"
exit "$status"
