#!/usr/bin/env bash
# Runs inside `dbus-run-session`: unlocks a fresh gnome-keyring (a real Secret Service), starts
# dunst (a real notification daemon, on the test's X display), writes the session bus address to
# $1 so the test can ask the keyring and the notifications too, then runs tauri-driver (which
# starts WebKitWebDriver, which starts the studio) inside this session.
set -euo pipefail
out="$1"
shift
printf '%s' "switchyard-e2e" | gnome-keyring-daemon --unlock --components=secrets > "$out.keyring"
dunst > "$out.dunst" 2>&1 &
# The notification service answers before the studio starts (bounded: 10 s).
for _ in $(seq 100); do
  dunstctl is-paused > /dev/null 2>&1 && break
  sleep 0.1
done
printf '%s' "$DBUS_SESSION_BUS_ADDRESS" > "$out"
exec tauri-driver "$@"
