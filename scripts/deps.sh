#!/usr/bin/env bash
# Installs what building and testing need, when it is missing. Idempotent and quick when present.
# Usage: scripts/deps.sh [node]   (node: also Node.js + npm, for HarperDB and JS tools)
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }

if ! have cargo; then
  echo "error: cargo (Rust 1.80 or newer) is not installed." >&2
  echo "       Install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
have cc || need_apt+=(gcc libc6-dev)
have make || need_apt+=(make)
have curl || need_apt+=(curl)
if [[ "${1:-}" == "node" ]]; then
  have node || need_apt+=(nodejs)
  have npm || need_apt+=(npm)
fi

if ((${#need_apt[@]})); then
  echo "installing with apt: ${need_apt[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
fi
