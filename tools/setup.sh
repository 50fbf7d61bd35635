#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.tally-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "[setup] installing npm dependencies from package-lock.json"
  # `npm install`, not `npm ci`: the lockfile is complete for this platform, but npm ci also
  # insists on entries for other platforms' optional binaries (@swc/core-*, @nx/nx-*), which
  # the npm mirror reachable here does not carry.
  npm install --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
