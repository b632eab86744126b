#!/usr/bin/env bash
# Starts a local switchyard-node with a data folder under .switchyard/ and prints how to reach it.
# The admin password is generated once into .switchyard/admin-password (mode 600).
set -euo pipefail
cd "$(dirname "$0")/.."
port="${PORT:-9925}"
data=".switchyard/local"
mkdir -p .switchyard
if [[ ! -s .switchyard/admin-password ]]; then
  (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' > .switchyard/admin-password)
fi
password="$(cat .switchyard/admin-password)"
cat <<MSG

  switchyard-node is starting on http://127.0.0.1:${port}
    user:      admin
    password:  in .switchyard/admin-password
    data:      ${data}

  try:  curl -s -u "admin:\$(cat .switchyard/admin-password)" http://127.0.0.1:${port}/ \\
          -H 'content-type: application/json' -d '{"operation":"describe_all"}'

  Stop with Ctrl-C.

MSG
SWITCHYARD_ADMIN_PASSWORD="$password" exec ./target/release/switchyard-node --data "$data" --port "$port" --node-name local
