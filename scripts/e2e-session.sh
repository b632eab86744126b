#!/usr/bin/env bash
# Runs inside `dbus-run-session`: unlocks a fresh gnome-keyring (a real Secret Service), writes
# the session bus address to $1 so the test can ask the keyring and the notifications too (dunst,
# a real notification daemon, is started by D-Bus on the first notification, on the test's X
# display), then runs tauri-driver (which starts WebKitWebDriver, which starts the studio)
# inside this session.
set -euo pipefail
out="$1"
shift
printf '%s' "switchyard-e2e" | gnome-keyring-daemon --unlock --components=secrets > "$out.keyring"
printf '%s' "$DBUS_SESSION_BUS_ADDRESS" > "$out"
exec tauri-driver "$@"
