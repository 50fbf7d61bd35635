#!/usr/bin/env bash
# npm start: install what is missing, start the infrastructure and the four services, run the demo
# (Tally's main job on the embedded default), then keep running until Ctrl-C, which stops everything
# this script started (infrastructure that was already running before it is left alone).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export SWC_NODE_PROJECT="$ROOT/tsconfig.base.json"
DATA_DIR=${TALLY_DATA_DIR:-$ROOT/.data}
LOGS="$DATA_DIR/logs"
RUN="$DATA_DIR/run/services"
mkdir -p "$LOGS" "$RUN"

bash tools/setup.sh

infra_was_up=false
bash tools/infra/infra.sh status >/dev/null 2>&1 && infra_was_up=true
bash tools/infra/infra.sh up

pids=()
stopping=false
cleanup() {
  stopping=true
  trap - INT TERM EXIT
  echo
  echo "[start] stopping services"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$RUN"/*.pid
  if [ "$infra_was_up" = false ]; then bash tools/infra/infra.sh down || true; fi
  echo "[start] stopped"
}
trap cleanup INT TERM EXIT

# The services run compiled (dist/); incremental, so a second start compiles only what changed.
node tools/build/compile.js

# One migration run before the services start (they also migrate at boot; this makes errors visible first).
node -r @swc-node/register libs/clickhouse/src/cli.ts migrate

declare -A ports=([gateway]=${GATEWAY_PORT:-3000} [query]=${QUERY_PORT:-3001} [writer]=${WRITER_PORT:-3002} [billing-worker]=${BILLING_WORKER_PORT:-3003})
for app in gateway writer query billing-worker; do
  if [ -f "$RUN/$app.pid" ] && kill -0 "$(cat "$RUN/$app.pid")" 2>/dev/null; then
    echo "[start] $app already running (pid $(cat "$RUN/$app.pid")); stop it first" >&2
    exit 1
  fi
  node "dist/apps/$app/src/main.js" >"$LOGS/$app.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  echo "$pid" >"$RUN/$app.pid"
  echo "[start] $app started (pid $pid, log $LOGS/$app.log)"
done

for app in gateway writer query billing-worker; do
  url="http://127.0.0.1:${ports[$app]}/health"
  for i in $(seq 1 120); do
    if curl -sf "$url" >/dev/null; then echo "[start] $app healthy at $url"; break; fi
    if [ "$i" = 120 ]; then echo "[start] $app did not become healthy; last log lines:" >&2; tail -n 30 "$LOGS/$app.log" >&2; exit 1; fi
    sleep 0.5
  done
done

node -r @swc-node/register tools/demo/demo.ts

cat <<MSG

Tally is running.
  Gateway (ingestion)  http://127.0.0.1:${ports[gateway]}     POST /v1/events, /health, /metrics
  Query API            http://127.0.0.1:${ports[query]}     /docs, /health
  Writer               http://127.0.0.1:${ports[writer]}     /health, /metrics
  Billing worker       http://127.0.0.1:${ports[billing-worker]}     /health
  Temporal Web UI      http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}
  Logs                 $LOGS
Press Ctrl-C to stop everything this command started.
MSG
wait -n "${pids[@]}" || true
if [ "$stopping" = false ]; then echo "[start] a service exited; see $LOGS" >&2; fi
