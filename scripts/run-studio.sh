#!/usr/bin/env bash
# Opens the studio (release build). On first launch it starts one local switchyard-node; its data
# lives in the app data folder (~/.local/share/dev.switchyard.studio/instances/).
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
  echo "error: no display to open the studio window on (DISPLAY and WAYLAND_DISPLAY are unset)." >&2
  echo "       Run it from a desktop session, or headless with: xvfb-run -a make run" >&2
  echo "       (\`make node\` starts only a local switchyard-node, without a window.)" >&2
  exit 1
fi
exec ./target/release/switchyard-studio
