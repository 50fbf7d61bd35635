#!/usr/bin/env bash
# npm start: install what is missing, start the infrastructure and the four services, run the demo
# (Tally's main job on the embedded default), then keep running until stopped. It stops everything it
# started (infrastructure that was already running before it is left alone) on Ctrl-C, on SIGINT or
# SIGTERM to this script or to the npm process that runs it, and on `npm stop` from another terminal.
#
# Why a watcher: `npm start` runs `sh -c "bash tools/start.sh"`; npm passes a SIGTERM to that `sh`,
# which dies without passing it on, so this script would be orphaned and keep everything running.
# It watches its parent and grandparent (sh and npm) and stops as soon as either is gone.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export SWC_NODE_PROJECT="$ROOT/tsconfig.base.json"
DATA_DIR=${TALLY_DATA_DIR:-$ROOT/.data}
LOGS="$DATA_DIR/logs"
RUN="$DATA_DIR/run/services"
PIDFILE="$DATA_DIR/run/start.pid"
mkdir -p "$LOGS" "$RUN"
# A late event is adjusted after this many quiet seconds (300 in production): short, so the demo shows it.
export BILLING_REBILL_QUIET_SECONDS=${BILLING_REBILL_QUIET_SECONDS:-5}

if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "[start] already running (pid $(cat "$PIDFILE")); \`npm stop\` stops it" >&2
  exit 1
fi
echo $$ >"$PIDFILE"

pids=()
current=""
stopping=false
infra_was_up=true
watcher=""
cleanup() {
  stopping=true
  trap - INT TERM EXIT HUP
  [ -n "$watcher" ] && kill "$watcher" 2>/dev/null || true
  echo
  echo "[start] stopping services"
  [ -n "$current" ] && kill -TERM "$current" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in $current "${pids[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -f "$RUN"/*.pid
  if [ "$infra_was_up" = false ]; then bash tools/infra/infra.sh down || true; fi
  rm -f "$PIDFILE"
  echo "[start] stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# Stop when the parent (npm's sh) or the grandparent (npm) goes away.
watched="$PPID $(ps -o ppid= -p "$PPID" 2>/dev/null | tr -d ' ')"
(
  trap - INT TERM EXIT HUP
  while :; do
    for p in $watched; do
      if [ "$p" -gt 1 ] && ! kill -0 "$p" 2>/dev/null; then kill -TERM $$ 2>/dev/null; exit 0; fi
    done
    sleep 0.5
  done
) &
watcher=$!

# Long steps run in the background and are waited for, so a signal stops them at once (bash runs a
# trap only after a foreground command ends).
run() {
  "$@" &
  current=$!
  wait "$current"
  current=""
}

run bash tools/setup.sh

bash tools/infra/infra.sh status >/dev/null 2>&1 || infra_was_up=false
run bash tools/infra/infra.sh up
# The services' NATS credentials on the development server (tools/infra/nats/accounts.conf), unless set.
if [ -z "${NATS_USER:-}" ]; then eval "$(bash tools/infra/infra.sh env | grep -E '^export NATS_(USER|PASSWORD)=')"; fi
# The read-only ClickHouse user of tenants' queries, and below each service's own user, when the
# development server has them (tools/infra/clickhouse/users.xml.tmpl; docs/security.md#clickhouse).
if [ -z "${CLICKHOUSE_READER_USER:-}" ]; then eval "$(bash tools/infra/infra.sh env | grep -E '^export CLICKHOUSE_READER_(USER|PASSWORD)=' || true)"; fi

# The services run compiled (dist/); incremental, so a second start compiles only what changed.
run node tools/build/compile.js

# One migration run before the services start (they also migrate at boot; this makes errors visible first).
run node -r @swc-node/register libs/clickhouse/src/cli.ts migrate

declare -A ports=([gateway]=${GATEWAY_PORT:-3000} [query]=${QUERY_PORT:-3001} [writer]=${WRITER_PORT:-3002})
# /metrics and the detailed /health are on each service's internal port (docs/operations.md#internal-port);
# the billing worker has no public port, only this one.
declare -A internal=([gateway]=${GATEWAY_INTERNAL_PORT:-9400} [query]=${QUERY_INTERNAL_PORT:-9401} [writer]=${WRITER_INTERNAL_PORT:-9402} [billing-worker]=${BILLING_WORKER_INTERNAL_PORT:-9403})
internal_host=${TALLY_INTERNAL_HOST:-127.0.0.1}
for app in gateway writer query billing-worker; do
  if [ -f "$RUN/$app.pid" ] && kill -0 "$(cat "$RUN/$app.pid")" 2>/dev/null; then
    echo "[start] $app already running (pid $(cat "$RUN/$app.pid")); stop it first" >&2
    exit 1
  fi
  service_env=""
  if [ -z "${CLICKHOUSE_USER:-}" ]; then service_env=$(bash tools/infra/infra.sh service-env "$app"); fi
  (eval "$service_env"; exec node "dist/apps/$app/src/main.js") >"$LOGS/$app.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  echo "$pid" >"$RUN/$app.pid"
  echo "[start] $app started (pid $pid, log $LOGS/$app.log)"
done

for app in gateway writer query billing-worker; do
  # The detailed /health: 200 once the service's dependencies answer.
  url="http://${internal_host}:${internal[$app]}/health"
  for i in $(seq 1 120); do
    if curl -sf "$url" >/dev/null; then echo "[start] $app healthy at $url"; break; fi
    if [ "$i" = 120 ]; then echo "[start] $app did not become healthy; last log lines:" >&2; tail -n 30 "$LOGS/$app.log" >&2; exit 1; fi
    sleep 0.5
  done
done

if [ "${TALLY_DEMO:-1}" != 0 ]; then run node -r @swc-node/register tools/demo/demo.ts; fi

cat <<MSG

Tally is running.
  Gateway (ingestion)  http://127.0.0.1:${ports[gateway]}     POST /v1/events, /health (liveness)
  Query API            http://127.0.0.1:${ports[query]}     /docs, /health (liveness)
  Writer               http://127.0.0.1:${ports[writer]}     /health (liveness)
  Internal ports       http://${internal_host}:<port>/metrics and /health (details): gateway ${internal[gateway]}, query ${internal[query]}, writer ${internal[writer]}, billing worker ${internal[billing-worker]}
  Temporal Web UI      http://127.0.0.1:${TEMPORAL_UI_PORT:-8233}
  Logs                 $LOGS
Press Ctrl-C (or run \`npm stop\` elsewhere) to stop everything this command started.
MSG
wait -n "${pids[@]}" || true
if [ "$stopping" = false ]; then echo "[start] a service exited; see $LOGS" >&2; fi
