#!/usr/bin/env bash
# Installs the npm dependencies when they are missing or older than the lockfile. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.tally-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "[setup] installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
