#!/usr/bin/env bash
# npm stop: stops a running `npm start` (of this checkout, or of $TALLY_DATA_DIR) from another terminal,
# exactly as Ctrl-C would: its services, the demo if still running, and the infrastructure it started.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR=${TALLY_DATA_DIR:-$PWD/.data}
PIDFILE="$DATA_DIR/run/start.pid"
if [ ! -f "$PIDFILE" ] || ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "[stop] npm start is not running (no live $PIDFILE)"
  exit 0
fi
pid=$(cat "$PIDFILE")
echo "[stop] stopping npm start (pid $pid)"
kill -TERM "$pid"
for _ in $(seq 1 ${TALLY_STOP_TIMEOUT:-60}0); do
  kill -0 "$pid" 2>/dev/null || { echo "[stop] stopped"; exit 0; }
  sleep 0.1
done
echo "[stop] pid $pid still running after ${TALLY_STOP_TIMEOUT:-60} s" >&2
exit 1
