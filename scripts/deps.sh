#!/usr/bin/env bash
# Installs what building and testing need, when it is missing. Idempotent and quick when present.
# Usage: scripts/deps.sh [node|gui]
#   node: also Node.js + npm (HarperDB, the UI build, JS test peers)
#   gui:  also the studio's build and test stack: WebKitGTK, Xvfb, WebKitWebDriver, tauri-driver,
#         gnome-keyring (a Secret Service) and secret-tool; and what packaging and the install
#         test use (binutils' strip, x11-utils' xwininfo, util-linux's script and setpriv)
set -euo pipefail

need_apt=()
have() { command -v "$1" >/dev/null 2>&1; }
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

if ! have cargo; then
  echo "error: cargo (Rust 1.80 or newer) is not installed." >&2
  echo "       Install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
have cc || need_apt+=(gcc libc6-dev)
have make || need_apt+=(make)
have curl || need_apt+=(curl)
if [[ "${1:-}" == "node" || "${1:-}" == "gui" ]]; then
  have node || need_apt+=(nodejs)
  have npm || need_apt+=(npm)
fi
if [[ "${1:-}" == "gui" ]]; then
  for p in pkg-config libssl-dev libwebkit2gtk-4.1-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev \
           librsvg2-dev libxdo-dev libdbus-1-dev xvfb webkit2gtk-driver gnome-keyring libsecret-tools \
           dbus dbus-daemon dunst binutils x11-utils util-linux bsdutils; do
    have_pkg "$p" || need_apt+=("$p")
  done
fi

if ((${#need_apt[@]})); then
  echo "installing with apt: ${need_apt[*]}"
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if [[ "${1:-}" == "gui" ]] && ! have tauri-driver && [[ ! -x "$HOME/.cargo/bin/tauri-driver" ]]; then
  echo "installing tauri-driver (cargo install --locked)"
  cargo install tauri-driver --locked --version 2.1.0 -q
fi
