#!/usr/bin/env bash
# Runs the UI's unit tests (Vitest) and every Rust test target of the workspace, and ends with
# one summary line over both: "tests: N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
log="$(mktemp)"
vlog="$(mktemp)"
trap 'rm -f "$log" "$vlog"' EXIT

(cd ui && NO_COLOR=1 FORCE_COLOR=0 npx vitest run --reporter=default) 2>&1 | tee "$vlog"
vstatus=${PIPESTATUS[0]}
# "Tests  16 passed (16)" or "Tests  1 failed | 15 passed (16)"
vline=$(sed -E 's/\x1b\[[0-9;]*m//g' "$vlog" | grep -E '^\s*Tests\s' | tail -1)
vpassed=$(sed -nE 's/.* ([0-9]+) passed.*/\1/p' <<<"$vline")
vfailed=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$vline")
vpassed=${vpassed:-0}
vfailed=${vfailed:-0}
if [[ $vstatus -ne 0 && $vfailed -eq 0 ]]; then vfailed=1; fi

# Four tests in flight per binary on two cores: most of them wait (timeouts, sockets, child
# processes), and the node's tests end in 35 s instead of 71. Studio windows still take turns.
RUST_TEST_THREADS="${RUST_TEST_THREADS:-4}" RUST_BACKTRACE=0 "${CARGO:-cargo}" test --workspace --lib --bins --tests --locked --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) passed.*/\1/' | awk '{s+=$1} END {print s+0}')
failed=$(grep -E '^test result:' "$log" | sed -E 's/.* ([0-9]+) failed.*/\1/' | awk '{s+=$1} END {print s+0}')
if [[ $status -eq 0 && $passed -eq 0 ]]; then
  echo "error: no Rust test ran" >&2
  status=1
fi
if [[ $vstatus -eq 0 && $vpassed -eq 0 ]]; then
  echo "error: no UI test ran" >&2
  vstatus=1
fi
echo
echo "tests: $((passed + vpassed)) passed, $((failed + vfailed)) failed"
if [[ $status -ne 0 || $vstatus -ne 0 ]]; then exit 1; fi
exit 0
