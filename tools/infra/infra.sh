#!/usr/bin/env bash
# Tally local infrastructure: ClickHouse, NATS (JetStream) and a Temporal dev server.
#
#   bash tools/infra/infra.sh up       install what is missing, start what is not running, wait until ready
#   bash tools/infra/infra.sh status   show each component (exit 0 if all are up, 3 otherwise)
#   bash tools/infra/infra.sh down     stop what `up` started (and nothing else)
#   bash tools/infra/infra.sh env      print `export ...` lines for the apps
#   bash tools/infra/infra.sh tools    install prometheus, promtool, helm and stripe-mock (go install), chromium and
#                                      poppler-utils (apt) if missing; the tests use them
#   bash tools/infra/infra.sh documents   only chromium, poppler-utils and stripe-mock (invoice PDFs, payment export)
#
# State lives under $TALLY_DATA_DIR (default <repo>/.data): logs/ run/ (pid files) clickhouse/ nats/ temporal.db
# A service that already answers on its port and was not started by this script is reused, never touched.
# See tools/infra/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

DATA_DIR=${TALLY_DATA_DIR:-$REPO_ROOT/.data}
case "$DATA_DIR" in /*) ;; *) DATA_DIR="$PWD/$DATA_DIR" ;; esac
DATA_DIR=${DATA_DIR%/}
LOG_DIR="$DATA_DIR/logs"
RUN_DIR="$DATA_DIR/run"
CH_DIR="$DATA_DIR/clickhouse"
NATS_DIR="$DATA_DIR/nats"
TEMPORAL_DB="$DATA_DIR/temporal.db"

HOST=127.0.0.1
CH_HTTP_PORT=${CLICKHOUSE_HTTP_PORT:-8123}
CH_TCP_PORT=${CLICKHOUSE_TCP_PORT:-9000}
CH_NICE=${TALLY_CLICKHOUSE_NICE:-10}
NATS_PORT=${NATS_PORT:-4322}
NATS_MONITOR_PORT=${NATS_MONITOR_PORT:-8322}
TEMPORAL_PORT=${TEMPORAL_PORT:-7233}
TEMPORAL_UI_PORT=${TEMPORAL_UI_PORT:-8233}

NATS_SERVER_MODULE=github.com/nats-io/nats-server/v2
NATS_SERVER_VERSION=v2.15.3 # the version every test and benchmark runs on
NATS_CONF="$SCRIPT_DIR/nats/tally.conf"
NATS_NAME=${TALLY_NATS_SERVER_NAME:-tally}
# The services' NATS user (tools/infra/nats/accounts.conf reads its password from the server's
# environment). The development value is public; set TALLY_NATS_SERVICES_PASSWORD for anything else.
NATS_SERVICES_USER=tally-services
export TALLY_NATS_SERVICES_PASSWORD=${TALLY_NATS_SERVICES_PASSWORD:-tally-dev-services}

TEMPORAL_CLI_MODULE=github.com/temporalio/cli/cmd/temporal
TEMPORAL_CLI_VERSION=v1.5.1 # later tags cannot be `go install`ed
TEMPORAL_SEARCH_ATTRIBUTES=(TallyTenant TallyCustomer TallyPeriod TallyKind) # all Keyword

# ClickHouse users (tools/infra/clickhouse/users.xml.tmpl, docs/security.md#clickhouse): one per service and
# tally_reader for tenants' queries. The development passwords are public; set these for anything else.
export TALLY_CLICKHOUSE_WRITER_PASSWORD=${TALLY_CLICKHOUSE_WRITER_PASSWORD:-tally-dev-writer}
export TALLY_CLICKHOUSE_QUERY_PASSWORD=${TALLY_CLICKHOUSE_QUERY_PASSWORD:-tally-dev-query}
export TALLY_CLICKHOUSE_BILLING_PASSWORD=${TALLY_CLICKHOUSE_BILLING_PASSWORD:-tally-dev-billing}
export TALLY_CLICKHOUSE_READER_PASSWORD=${TALLY_CLICKHOUSE_READER_PASSWORD:-tally-dev-reader}
# tally_reader's settings profile (per query) and quota (all tenants' queries per minute).
CH_READER_MAX_MEMORY=${TALLY_CLICKHOUSE_READER_MAX_MEMORY:-1073741824}
CH_READER_MAX_MEMORY_FOR_USER=${TALLY_CLICKHOUSE_READER_MAX_MEMORY_FOR_USER:-4000000000}
CH_READER_MAX_BYTES_TO_READ=${TALLY_CLICKHOUSE_READER_MAX_BYTES_TO_READ:-10737418240}
CH_READER_MAX_ROWS_TO_READ=${TALLY_CLICKHOUSE_READER_MAX_ROWS_TO_READ:-200000000}
CH_READER_MAX_RESULT_ROWS=${TALLY_CLICKHOUSE_READER_MAX_RESULT_ROWS:-1000000}
CH_READER_MAX_RESULT_BYTES=${TALLY_CLICKHOUSE_READER_MAX_RESULT_BYTES:-268435456}
CH_READER_MAX_EXECUTION_TIME=${TALLY_CLICKHOUSE_READER_MAX_EXECUTION_TIME:-60}
CH_READER_QUOTA_QUERIES=${TALLY_CLICKHOUSE_READER_QUOTA_QUERIES:-60000}
CH_READER_QUOTA_READ_ROWS=${TALLY_CLICKHOUSE_READER_QUOTA_READ_ROWS:-20000000000}
CH_READER_QUOTA_EXECUTION_TIME=${TALLY_CLICKHOUSE_READER_QUOTA_EXECUTION_TIME:-1200}

CH_TIMEOUT=${TALLY_CH_TIMEOUT:-60}
NATS_TIMEOUT=${TALLY_NATS_TIMEOUT:-30}
TEMPORAL_TIMEOUT=${TALLY_TEMPORAL_TIMEOUT:-120}
STOP_TIMEOUT=${TALLY_STOP_TIMEOUT:-30}
GO_BUILD_TIMEOUT=${TALLY_GO_BUILD_TIMEOUT:-3600}

export PATH="$PATH:/usr/sbin:/sbin:/usr/local/go/bin"

# validate ports (internal name:environment variable)
for _v in CH_HTTP_PORT:CLICKHOUSE_HTTP_PORT CH_TCP_PORT:CLICKHOUSE_TCP_PORT NATS_PORT:NATS_PORT \
  NATS_MONITOR_PORT:NATS_MONITOR_PORT TEMPORAL_PORT:TEMPORAL_PORT TEMPORAL_UI_PORT:TEMPORAL_UI_PORT; do
  _n=${_v%%:*}
  _p=${!_n}
  _min=1
  if ! [[ "$_p" =~ ^[0-9]{1,5}$ ]] || [ "$_p" -lt "$_min" ] || [ "$_p" -gt 65535 ]; then
    printf '[infra] ERROR: %s=%s is not a valid port number\n' "${_v#*:}" "$_p" >&2
    exit 2
  fi
done

# ---------------------------------------------------------------------------- output

say() { printf '[infra] %s\n' "$*"; }
warn() { printf '[infra] WARNING: %s\n' "$*" >&2; }

# die COMPONENT MESSAGE [LOGFILE]
die() {
  local comp=$1 msg=$2 logfile=${3:-}
  printf '[infra] ERROR (%s): %s\n' "$comp" "$msg" >&2
  if [ -n "$logfile" ] && [ -s "$logfile" ]; then
    printf '[infra] --- last 25 lines of %s ---\n' "$logfile" >&2
    tail -n 25 "$logfile" | sed 's/^/    /' >&2
    printf '[infra] ---\n' >&2
  fi
  exit 1
}

# ---------------------------------------------------------------------------- helpers

have() { command -v "$1" >/dev/null 2>&1; }

# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" >/dev/null 2>&1; }

pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# pid_alive PID: process exists and is not a zombie
pid_alive() {
  local pid=$1 state
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [ "$state" != Z ] && [ "$state" != X ]
}

# our_pid NAME MARKER: print the pid recorded for NAME if that process is alive and its
# command line contains MARKER (a path inside our data dir), so a recycled pid never matches.
our_pid() {
  local f pid
  f=$(pid_file "$1")
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  pid_alive "$pid" || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  printf '%s' "$pid"
}

# drop_stale_pid NAME MARKER: remove a pid file that no longer points at our process
drop_stale_pid() {
  local f
  f=$(pid_file "$1")
  if [ -e "$f" ] && ! our_pid "$1" "$2" >/dev/null; then rm -f "$f"; fi
}

# start_bg NAME LOGFILE CMD...: start CMD in its own session (survives this shell and its
# process group), append output to LOGFILE, record its pid in run/NAME.pid.
start_bg() {
  local name=$1 logfile=$2 f
  shift 2
  f=$(pid_file "$name")
  rm -f "$f"
  printf '\n===== %s: started by infra.sh at %s =====\n' "$name" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$logfile"
  # New session (setsid) so the server survives this shell, its terminal and its process
  # group. The inner bash writes its own pid and then execs the server, so the pid file
  # holds the server's pid even if setsid had to fork. Every layer execs: no wrapper
  # process stays behind, and none keeps fd 9 (the lock of this script).
  (
    exec 9>&- </dev/null >>"$logfile" 2>&1
    cd "$DATA_DIR"
    # shellcheck disable=SC2016 # expanded by the inner bash
    exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$f" "$@"
  ) &
  for _ in $(seq 1 50); do
    [ -s "$f" ] && return 0
    sleep 0.1
  done
  die "$name" "could not start (no pid recorded)" "$logfile"
}

# stop_pid NAME PID: SIGTERM, wait, SIGKILL as a last resort
stop_pid() {
  local name=$1 pid=$2
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((STOP_TIMEOUT * 5))); do
    pid_alive "$pid" || return 0
    sleep 0.2
  done
  warn "$name (pid $pid) did not exit within ${STOP_TIMEOUT}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 25); do
    pid_alive "$pid" || return 0
    sleep 0.2
  done
  die "$name" "pid $pid is still alive after SIGKILL"
}

# wait_ready NAME TIMEOUT LOGFILE MARKER CHECK...: poll CHECK until it succeeds. If our
# process dies meanwhile, or the timeout passes (then it is stopped), fail with the log tail.
wait_ready() {
  local name=$1 timeout_s=$2 logfile=$3 marker=$4 deadline pid
  shift 4
  deadline=$((SECONDS + timeout_s))
  while :; do
    if "$@"; then return 0; fi
    if ! pid=$(our_pid "$name" "$marker"); then
      rm -f "$(pid_file "$name")"
      die "$name" "the server process exited during startup" "$logfile"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      stop_pid "$name" "$pid"
      rm -f "$(pid_file "$name")"
      die "$name" "not ready after ${timeout_s}s (stopped it again)" "$logfile"
    fi
    sleep 1
  done
}

# require_free_port COMPONENT PORT WHAT
require_free_port() {
  if port_open "$2"; then
    die "$1" "port $HOST:$2 ($3) is already in use by another process; free it or set a different port (see tools/infra/README.md)"
  fi
}

# ---------------------------------------------------------------------------- installing

APT_UPDATED=0
POLICY_RC_CREATED=0

cleanup() {
  if [ "$POLICY_RC_CREATED" = 1 ]; then
    as_root rm -f /usr/sbin/policy-rc.d || true
  fi
}
trap cleanup EXIT

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif have sudo; then
    sudo -n "$@"
  else
    return 1
  fi
}

# apt_install COMPONENT PACKAGE...
apt_install() {
  local comp=$1 aptlog="$LOG_DIR/apt.log"
  shift
  have apt-get || die "$comp" "$* is not installed and apt-get is not available; install it by hand"
  if [ "$(id -u)" -ne 0 ] && ! sudo -n true 2>/dev/null; then
    die "$comp" "$* is not installed; installing needs root (run as root or configure passwordless sudo)"
  fi
  # Keep the packages' maintainer scripts from starting system-wide services (they would
  # take our ports); a policy-rc.d that already exists is left as it is.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d' &&
      POLICY_RC_CREATED=1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    say "$comp: apt-get update (log: $aptlog)"
    as_root apt-get -o DPkg::Lock::Timeout=900 update >>"$aptlog" 2>&1 || die "$comp" "apt-get update failed" "$aptlog"
    APT_UPDATED=1
  fi
  say "$comp: apt-get install $* (log: $aptlog)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y "$@" >>"$aptlog" 2>&1 ||
    die "$comp" "apt-get install $* failed" "$aptlog"
  if [ "$POLICY_RC_CREATED" = 1 ]; then
    as_root rm -f /usr/sbin/policy-rc.d || true
    POLICY_RC_CREATED=0
  fi
}

ensure_prereqs() {
  have curl || apt_install prerequisites curl
  have setsid || die prerequisites "setsid (util-linux) is required"
  have timeout || die prerequisites "timeout (coreutils) is required"
}

# ---------------------------------------------------------------------------- ClickHouse

CH_MARKER="$CH_DIR/config.xml"
CH_LOG="$LOG_DIR/clickhouse.log"

ch_ready() {
  [ "$(curl -sf --max-time 3 "http://$HOST:$CH_HTTP_PORT/?query=SELECT%201" 2>/dev/null)" = 1 ]
}

ch_server_bin() {
  if have clickhouse-server; then command -v clickhouse-server; return 0; fi
  [ -x /usr/sbin/clickhouse-server ] && { echo /usr/sbin/clickhouse-server; return 0; }
  return 1
}

sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

ch_render_config() {
  local d l
  d=$(sed_escape "$CH_DIR")
  l=$(sed_escape "$LOG_DIR")
  mkdir -p "$CH_DIR/tmp" "$CH_DIR/user_files" "$CH_DIR/format_schemas"
  sed -e "s|@@DATA_DIR@@|$d|g" -e "s|@@LOG_DIR@@|$l|g" \
    -e "s|@@HTTP_PORT@@|$CH_HTTP_PORT|g" -e "s|@@TCP_PORT@@|$CH_TCP_PORT|g" \
    "$SCRIPT_DIR/clickhouse/config.xml.tmpl" >"$CH_DIR/config.xml.new"
  mv -f "$CH_DIR/config.xml.new" "$CH_DIR/config.xml"
  ch_render_users
  # include_from target: empty, so nothing from /etc/metrika.xml leaks in
  [ -e "$CH_DIR/metrika.xml" ] || printf '<?xml version="1.0"?>\n<yandex/>\n' >"$CH_DIR/metrika.xml"
}

sha256_hex() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# ch_render_users: users.xml from its template. Also run for a server that is already running: ClickHouse
# re-reads users.xml by itself within seconds, so new users, passwords and limits apply without a restart.
# Written only when it changes (the server logs every reload).
ch_render_users() {
  ch_users_xml >"$CH_DIR/users.xml.new" || exit 1
  if cmp -s "$CH_DIR/users.xml.new" "$CH_DIR/users.xml"; then
    rm -f "$CH_DIR/users.xml.new"
  else
    mv -f "$CH_DIR/users.xml.new" "$CH_DIR/users.xml"
    say "clickhouse: users written to $CH_DIR/users.xml (the server re-reads it within seconds)"
  fi
}

# ch_users_xml: the rendered users.xml on stdout (also for tools/cluster/cluster.sh's servers).
ch_users_xml() {
  local v
  for v in CH_READER_MAX_MEMORY CH_READER_MAX_MEMORY_FOR_USER CH_READER_MAX_BYTES_TO_READ CH_READER_MAX_ROWS_TO_READ \
    CH_READER_MAX_RESULT_ROWS CH_READER_MAX_RESULT_BYTES CH_READER_MAX_EXECUTION_TIME CH_READER_QUOTA_QUERIES \
    CH_READER_QUOTA_READ_ROWS CH_READER_QUOTA_EXECUTION_TIME; do
    [[ "${!v}" =~ ^[0-9]+$ ]] || die clickhouse "TALLY_CLICKHOUSE_${v#CH_}='${!v}' must be a whole number"
  done
  sed -e "s|@@WRITER_SHA256@@|$(sha256_hex "$TALLY_CLICKHOUSE_WRITER_PASSWORD")|g" \
    -e "s|@@QUERY_SHA256@@|$(sha256_hex "$TALLY_CLICKHOUSE_QUERY_PASSWORD")|g" \
    -e "s|@@BILLING_SHA256@@|$(sha256_hex "$TALLY_CLICKHOUSE_BILLING_PASSWORD")|g" \
    -e "s|@@READER_SHA256@@|$(sha256_hex "$TALLY_CLICKHOUSE_READER_PASSWORD")|g" \
    -e "s|@@READER_MAX_MEMORY@@|$CH_READER_MAX_MEMORY|g" \
    -e "s|@@READER_MAX_MEMORY_FOR_USER@@|$CH_READER_MAX_MEMORY_FOR_USER|g" \
    -e "s|@@READER_MAX_BYTES_TO_READ@@|$CH_READER_MAX_BYTES_TO_READ|g" \
    -e "s|@@READER_MAX_ROWS_TO_READ@@|$CH_READER_MAX_ROWS_TO_READ|g" \
    -e "s|@@READER_MAX_RESULT_ROWS@@|$CH_READER_MAX_RESULT_ROWS|g" \
    -e "s|@@READER_MAX_RESULT_BYTES@@|$CH_READER_MAX_RESULT_BYTES|g" \
    -e "s|@@READER_MAX_EXECUTION_TIME@@|$CH_READER_MAX_EXECUTION_TIME|g" \
    -e "s|@@READER_QUOTA_QUERIES@@|$CH_READER_QUOTA_QUERIES|g" \
    -e "s|@@READER_QUOTA_READ_ROWS@@|$CH_READER_QUOTA_READ_ROWS|g" \
    -e "s|@@READER_QUOTA_EXECUTION_TIME@@|$CH_READER_QUOTA_EXECUTION_TIME|g" \
    "$SCRIPT_DIR/clickhouse/users.xml.tmpl"
}

# ch_has_users: the server on our port is ours and its users file has Tally's users.
ch_has_users() {
  our_pid clickhouse "$CH_MARKER" >/dev/null 2>&1 && grep -q '<tally_reader>' "$CH_DIR/users.xml" 2>/dev/null
}

# ch_deprioritize PID: on one small machine ClickHouse's inserts and background merges are
# throughput work that can wait a few milliseconds; the gateway's answers are latency work that
# cannot. The server runs under `nice`, and its scheduler autogroup (a setsid session is one: with
# autogroups on, CPU is shared between sessions first, whatever the nice of their threads) gets the
# same nice. Measured: the gateway's p99 at half rate 66-76 ms without, 23 ms with.
# TALLY_CLICKHOUSE_NICE=0 turns it off.
ch_deprioritize() {
  local pid=$1
  [ "$CH_NICE" -gt 0 ] 2>/dev/null || return 0
  if [ -w "/proc/$pid/autogroup" ]; then echo "$CH_NICE" >"/proc/$pid/autogroup" 2>/dev/null || true; fi
}

ch_up() {
  local pid bin
  drop_stale_pid clickhouse "$CH_MARKER"
  if pid=$(our_pid clickhouse "$CH_MARKER"); then
    ch_render_users
    if ch_ready; then
      ch_deprioritize "$pid"
      say "clickhouse: already running (ours, pid $pid) at http://$HOST:$CH_HTTP_PORT"
      return 0
    fi
    say "clickhouse: our server (pid $pid) is not answering yet, waiting up to ${CH_TIMEOUT}s"
    wait_ready clickhouse "$CH_TIMEOUT" "$CH_LOG" "$CH_MARKER" ch_ready
    say "clickhouse: ready at http://$HOST:$CH_HTTP_PORT"
    return 0
  fi
  if ch_ready; then
    say "clickhouse: reusing a server that is already running at http://$HOST:$CH_HTTP_PORT (not started by infra.sh)"
    return 0
  fi
  require_free_port clickhouse "$CH_HTTP_PORT" "ClickHouse HTTP; it does not answer SELECT 1"
  require_free_port clickhouse "$CH_TCP_PORT" "ClickHouse native TCP"

  if ! bin=$(ch_server_bin) || ! have clickhouse-client; then
    apt_install clickhouse clickhouse-server clickhouse-client
    bin=$(ch_server_bin) || die clickhouse "clickhouse-server is still missing after apt-get install" "$LOG_DIR/apt.log"
  fi

  ch_render_config
  say "clickhouse: starting on http://$HOST:$CH_HTTP_PORT (native $HOST:$CH_TCP_PORT), data $CH_DIR, log $CH_LOG"
  start_bg clickhouse "$CH_LOG" nice -n "$CH_NICE" "$bin" --config-file="$CH_DIR/config.xml"
  wait_ready clickhouse "$CH_TIMEOUT" "$CH_LOG" "$CH_MARKER" ch_ready
  pid=$(our_pid clickhouse "$CH_MARKER")
  ch_deprioritize "$pid"
  say "clickhouse: ready (pid $pid, nice $CH_NICE)"
}

# ---------------------------------------------------------------------------- NATS

NATS_MARKER="$NATS_DIR"
NATS_LOG="$LOG_DIR/nats.log"
NATS_BUILD_LOG="$LOG_DIR/nats-build.log"
NATS_BIN=""

# nats_info: the INFO line a NATS server sends on connect (empty if none)
nats_info() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$NATS_PORT && IFS= read -r -t 2 line <&3 && printf '%s\n' \"\$line\"" 2>/dev/null || true
}

nats_is_nats() { nats_info | grep -q '^INFO '; }

# JetStream check through the project's own client when node_modules is there
# (connect, jetstreamManager(), getAccountInfo()); otherwise the INFO line's "jetstream":true.
nats_js_ok() {
  local info
  info=$(nats_info)
  case "$info" in INFO*) ;; *) return 1 ;; esac
  if have node && [ -d "$REPO_ROOT/node_modules/@nats-io/jetstream" ] && [ -d "$REPO_ROOT/node_modules/@nats-io/transport-node" ]; then
    (cd "$REPO_ROOT" && timeout 15 node -e '
      const { connect } = require("@nats-io/transport-node");
      const { jetstreamManager } = require("@nats-io/jetstream");
      (async () => {
        const nc = await connect({ servers: process.argv[1], timeout: 3000, reconnect: false, user: process.argv[2], pass: process.argv[3] });
        try { await (await jetstreamManager(nc, { timeout: 3000 })).getAccountInfo(); }
        finally { await nc.close(); }
      })().catch(() => process.exit(1));
    ' "nats://$HOST:$NATS_PORT" "$NATS_SERVICES_USER" "$TALLY_NATS_SERVICES_PASSWORD" >/dev/null 2>&1)
  else
    printf '%s' "$info" | grep -q '"jetstream":true'
  fi
}

# nats_version BIN: the version a nats-server binary reports, e.g. 2.15.3
nats_version() { "$1" --version 2>/dev/null | sed -nE 's/^nats-server: v?([0-9][0-9.]*).*/\1/p' | head -n 1; }

# nats_running_version: the version in the INFO line of the server on $NATS_PORT
nats_running_version() { nats_info | sed -nE 's/.*"version":"([^"]*)".*/\1/p'; }

# find_nats_server: $TALLY_NATS_SERVER_BIN if set, else the first nats-server of the pinned version
# in ~/go/bin, Go's GOBIN / GOPATH/bin, then PATH. Only the version counts: a distribution's older
# nats-server (Debian's is 2.9) in PATH is never used.
find_nats_server() {
  local c go candidates=()
  if [ -n "${TALLY_NATS_SERVER_BIN:-}" ]; then
    [ -x "$TALLY_NATS_SERVER_BIN" ] || die nats "TALLY_NATS_SERVER_BIN=$TALLY_NATS_SERVER_BIN is not an executable"
    echo "$TALLY_NATS_SERVER_BIN"
    return 0
  fi
  candidates+=("$HOME/go/bin/nats-server")
  if go=$(go_bin); then
    c=$("$go" env GOBIN 2>/dev/null || true)
    [ -n "$c" ] && candidates+=("$c/nats-server")
    c=$("$go" env GOPATH 2>/dev/null || true)
    [ -n "$c" ] && candidates+=("${c%%:*}/bin/nats-server")
  fi
  have nats-server && candidates+=("$(command -v nats-server)")
  for c in "${candidates[@]}"; do
    [ -x "$c" ] && [ "$(nats_version "$c")" = "${NATS_SERVER_VERSION#v}" ] && { echo "$c"; return 0; }
  done
  return 1
}

# ensure_nats_server: NATS_BIN = a nats-server of the pinned version, built with go install if needed
ensure_nats_server() {
  if NATS_BIN=$(find_nats_server); then return 0; fi
  go_install nats "$NATS_SERVER_MODULE" "$NATS_SERVER_VERSION" "$NATS_BUILD_LOG"
  NATS_BIN=$(find_nats_server) ||
    die nats "go install succeeded but no nats-server $NATS_SERVER_VERSION was found in ~/go/bin, GOBIN or GOPATH/bin" "$NATS_BUILD_LOG"
  say "nats: server built: $NATS_BIN"
}

nats_up() {
  local pid version
  drop_stale_pid nats "$NATS_MARKER"
  if pid=$(our_pid nats "$NATS_MARKER"); then
    if nats_js_ok; then
      say "nats: already running (ours, pid $pid, $(nats_running_version)) at nats://$HOST:$NATS_PORT"
      return 0
    fi
    say "nats: our server (pid $pid) is not ready yet, waiting up to ${NATS_TIMEOUT}s"
    wait_ready nats "$NATS_TIMEOUT" "$NATS_LOG" "$NATS_MARKER" nats_js_ok
    say "nats: ready at nats://$HOST:$NATS_PORT"
    return 0
  fi
  if nats_is_nats; then
    if nats_js_ok; then
      version=$(nats_running_version)
      say "nats: reusing a server that is already running at nats://$HOST:$NATS_PORT with JetStream, version $version (not started by infra.sh)"
      [ "$version" = "${NATS_SERVER_VERSION#v}" ] ||
        warn "nats: that server is $version, Tally is tested on ${NATS_SERVER_VERSION#v}"
      return 0
    fi
    die nats "a NATS server without JetStream (or JetStream not usable) is listening on $HOST:$NATS_PORT and was not started by infra.sh; restart it with -js, or set NATS_PORT to use another port"
  fi
  require_free_port nats "$NATS_PORT" "NATS client port; what listens there is not NATS"
  require_free_port nats "$NATS_MONITOR_PORT" "NATS monitoring"

  ensure_nats_server
  mkdir -p "$NATS_DIR"
  say "nats: starting $NATS_BIN ($(nats_version "$NATS_BIN")) on nats://$HOST:$NATS_PORT (monitoring http://$HOST:$NATS_MONITOR_PORT), config $NATS_CONF, store $NATS_DIR, log $NATS_LOG"
  start_bg nats "$NATS_LOG" "$NATS_BIN" -c "$NATS_CONF" -n "$NATS_NAME" -a "$HOST" -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -sd "$NATS_DIR"
  wait_ready nats "$NATS_TIMEOUT" "$NATS_LOG" "$NATS_MARKER" nats_js_ok
  say "nats: ready (pid $(our_pid nats "$NATS_MARKER"), $(nats_running_version))"
}

# ---------------------------------------------------------------------------- Temporal

TEMPORAL_MARKER="$TEMPORAL_DB"
TEMPORAL_LOG="$LOG_DIR/temporal.log"
TEMPORAL_BUILD_LOG="$LOG_DIR/temporal-build.log"
TEMPORAL_BIN=""

go_bin() {
  if have go; then command -v go; return 0; fi
  [ -x /usr/local/go/bin/go ] && { echo /usr/local/go/bin/go; return 0; }
  return 1
}

# find_temporal: PATH, then ~/go/bin, then wherever this machine's go installs binaries
find_temporal() { find_go_binary temporal; }

# go_install_pids MODULE: pids of a `go install` of MODULE already running on this machine
go_install_pids() { pgrep -f "go install .*$1" 2>/dev/null || true; }

# wait_for_pids COMPONENT WHAT PIDS
wait_for_pids() {
  local comp=$1 what=$2 pids=$3 start=$SECONDS p alive
  while :; do
    alive=""
    for p in $pids; do pid_alive "$p" && alive="$alive $p"; done
    [ -z "$alive" ] && return 0
    if [ $((SECONDS - start)) -ge "$GO_BUILD_TIMEOUT" ]; then
      die "$comp" "$what still running after ${GO_BUILD_TIMEOUT}s"
    fi
    if [ $(((SECONDS - start) % 60)) -eq 0 ] && [ "$SECONDS" -gt "$start" ]; then
      say "$comp: ... still building ($((SECONDS - start))s)"
    fi
    sleep 1
  done
}

# go_install COMPONENT MODULE VERSION LOG: build MODULE@VERSION into Go's bin directory. If such a
# `go install` is already running on the machine, wait for it instead of starting a second one.
go_install() {
  local comp=$1 module=$2 version=$3 log=$4 go pids bpid
  pids=$(go_install_pids "$module")
  if [ -n "$pids" ]; then
    say "$comp: a 'go install' of $module is already running (pid ${pids//$'\n'/ }); waiting for it instead of starting another"
    wait_for_pids "$comp" "the running go install" "$pids"
    return 0
  fi
  go=$(go_bin) || die "$comp" "no $comp binary of the expected version found and no Go toolchain to build one (expected /usr/local/go/bin/go); install Go, or put $module $version in PATH"
  say "$comp: building $module@$version with $go (go install; this takes minutes on a small machine; log: $log)"
  printf '\n===== go install %s@%s at %s =====\n' "$module" "$version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >>"$log"
  PATH="$PATH:$(dirname "$go")" GOFLAGS=-mod=mod "$go" install "$module@$version" >>"$log" 2>&1 </dev/null 9>&- &
  bpid=$!
  wait_for_pids "$comp" "go install" "$bpid"
  wait "$bpid" || die "$comp" "go install $module@$version failed" "$log"
}

ensure_temporal_cli() {
  if TEMPORAL_BIN=$(find_temporal); then return 0; fi
  go_install temporal "$TEMPORAL_CLI_MODULE" "$TEMPORAL_CLI_VERSION" "$TEMPORAL_BUILD_LOG"
  TEMPORAL_BIN=$(find_temporal) || die temporal "go install succeeded but no temporal binary was found in ~/go/bin, GOBIN or GOPATH/bin" "$TEMPORAL_BUILD_LOG"
  say "temporal: CLI built: $TEMPORAL_BIN"
}

# ---------------------------------------------------------------------------- ops tools

# Prometheus and promtool (the metrics test and `promtool test rules`) and Helm (the chart test),
# built from the Go module proxy. `infra.sh tools` installs what is missing; nothing runs.
OPS_TOOLS=(
  "prometheus github.com/prometheus/prometheus/cmd/prometheus v0.316.0"
  "promtool github.com/prometheus/prometheus/cmd/promtool v0.316.0"
  "helm helm.sh/helm/v4/cmd/helm v4.3.2"
)
# stripe-mock: Stripe's API mock, the payment-export test starts it (docs/documents.md).
STRIPE_MOCK_TOOL="stripe-mock github.com/stripe/stripe-mock v0.203.0"

# Debian packages of the documents (docs/documents.md): the query service prints invoice PDFs with headless
# Chromium; the PDF test reads them back with poppler-utils (pdftotext, pdftoppm). "command package" pairs.
DOC_TOOLS=(
  "chromium chromium"
  "pdftotext poppler-utils"
)

# find_go_binary NAME: PATH, then ~/go/bin, then Go's GOBIN and GOPATH/bin
find_go_binary() {
  local name=$1 go c
  if have "$name"; then command -v "$name"; return 0; fi
  [ -x "$HOME/go/bin/$name" ] && { echo "$HOME/go/bin/$name"; return 0; }
  if go=$(go_bin); then
    c=$("$go" env GOBIN 2>/dev/null || true)
    [ -n "$c" ] && [ -x "$c/$name" ] && { echo "$c/$name"; return 0; }
    c=$("$go" env GOPATH 2>/dev/null || true)
    c=${c%%:*}
    [ -n "$c" ] && [ -x "$c/bin/$name" ] && { echo "$c/bin/$name"; return 0; }
  fi
  return 1
}

# ensure_go_tool "NAME MODULE VERSION": NAME's binary, built with go install when missing
ensure_go_tool() {
  local name module version bin
  read -r name module version <<<"$1"
  if bin=$(find_go_binary "$name"); then
    say "$name: $bin"
    return 0
  fi
  go_install "$name" "$module" "$version" "$LOG_DIR/$name-build.log"
  bin=$(find_go_binary "$name") || die "$name" "go install succeeded but no $name binary was found in ~/go/bin, GOBIN or GOPATH/bin" "$LOG_DIR/$name-build.log"
  say "$name: built $bin"
}

# What the documents need (invoice PDFs, payment export): Debian's chromium and poppler-utils, stripe-mock.
cmd_documents() {
  local entry name package missing=()
  mkdir -p "$LOG_DIR"
  for entry in "${DOC_TOOLS[@]}"; do
    read -r name package <<<"$entry"
    if have "$name"; then say "$name: $(command -v "$name")"; else missing+=("$package"); fi
  done
  [ ${#missing[@]} -eq 0 ] || apt_install documents "${missing[@]}"
  ensure_go_tool "$STRIPE_MOCK_TOOL"
}

cmd_tools() {
  local entry
  cmd_documents
  for entry in "${OPS_TOOLS[@]}"; do
    ensure_go_tool "$entry"
  done
}

# temporal_health: frontend reports SERVING. Uses the CLI when we have it, otherwise a raw
# gRPC health check over HTTP/2 with curl (grpc.health.v1.Health/Check).
temporal_health() {
  if [ -n "$TEMPORAL_BIN" ]; then
    "$TEMPORAL_BIN" operator cluster health --address "$HOST:$TEMPORAL_PORT" \
      --command-timeout 5s --color never 2>/dev/null | grep -q SERVING
  else
    local svc=temporal.api.workflowservice.v1.WorkflowService
    printf '\x00\x00\x00\x00\x31\x0a\x2f%s' "$svc" |
      curl -s --max-time 3 --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
        --data-binary @- "http://$HOST:$TEMPORAL_PORT/grpc.health.v1.Health/Check" 2>/dev/null |
      od -An -tx1 | tr -d ' \n' | grep -q '00000000020801$'
  fi
}

temporal_ui_ok() { curl -sf -o /dev/null --max-time 3 "http://$HOST:$TEMPORAL_UI_PORT/"; }

temporal_ready() { temporal_health && temporal_ui_ok; }

temporal_missing_search_attributes() {
  local list a
  list=$("$TEMPORAL_BIN" operator search-attribute list --address "$HOST:$TEMPORAL_PORT" --namespace default \
    --command-timeout 10s --color never 2>/dev/null) || return 1
  for a in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do
    printf '%s\n' "$list" | grep -qw "$a" || printf '%s ' "$a"
  done
}

# ensure_search_attributes: make sure the Tally* Keyword attributes exist in namespace default
ensure_search_attributes() {
  local missing a args=()
  if ! missing=$(temporal_missing_search_attributes); then
    warn "temporal: could not list search attributes; check them with: temporal operator search-attribute list"
    return 0
  fi
  [ -z "$missing" ] && return 0
  for a in $missing; do args+=(--name "$a"); done
  say "temporal: creating search attributes: $missing(Keyword)"
  "$TEMPORAL_BIN" operator search-attribute create --address "$HOST:$TEMPORAL_PORT" --namespace default \
    --command-timeout 30s --color never "${args[@]}" --type Keyword >>"$TEMPORAL_LOG" 2>&1 ||
    die temporal "could not create search attributes $missing" "$TEMPORAL_LOG"
}

temporal_up() {
  local pid sa_args=() a
  drop_stale_pid temporal "$TEMPORAL_MARKER"
  if pid=$(our_pid temporal "$TEMPORAL_MARKER"); then
    TEMPORAL_BIN=$(find_temporal || true)
    if temporal_ready; then
      say "temporal: already running (ours, pid $pid) at $HOST:$TEMPORAL_PORT, UI http://$HOST:$TEMPORAL_UI_PORT"
    else
      say "temporal: our server (pid $pid) is not ready yet, waiting up to ${TEMPORAL_TIMEOUT}s"
      wait_ready temporal "$TEMPORAL_TIMEOUT" "$TEMPORAL_LOG" "$TEMPORAL_MARKER" temporal_ready
      say "temporal: ready at $HOST:$TEMPORAL_PORT, UI http://$HOST:$TEMPORAL_UI_PORT"
    fi
    [ -n "$TEMPORAL_BIN" ] && ensure_search_attributes
    return 0
  fi
  if port_open "$TEMPORAL_PORT"; then
    TEMPORAL_BIN=$(find_temporal || true)
    if temporal_health; then
      say "temporal: reusing a server that is already running at $HOST:$TEMPORAL_PORT (not started by infra.sh)"
      if [ -n "$TEMPORAL_BIN" ]; then
        ensure_search_attributes
      else
        warn "temporal: no temporal CLI on this machine, cannot check the Tally* search attributes of that server"
      fi
      temporal_ui_ok || warn "temporal: nothing answers on the UI port http://$HOST:$TEMPORAL_UI_PORT"
      return 0
    fi
    die temporal "port $HOST:$TEMPORAL_PORT is in use by a process that is not a healthy Temporal frontend (and not started by infra.sh); free it or set TEMPORAL_PORT"
  fi
  require_free_port temporal "$TEMPORAL_UI_PORT" "Temporal UI"

  ensure_temporal_cli
  for a in "${TEMPORAL_SEARCH_ATTRIBUTES[@]}"; do sa_args+=(--search-attribute "$a=Keyword"); done
  say "temporal: starting dev server on $HOST:$TEMPORAL_PORT (UI http://$HOST:$TEMPORAL_UI_PORT), db $TEMPORAL_DB, log $TEMPORAL_LOG"
  start_bg temporal "$TEMPORAL_LOG" "$TEMPORAL_BIN" server start-dev \
    --db-filename "$TEMPORAL_DB" --ip "$HOST" --port "$TEMPORAL_PORT" --ui-port "$TEMPORAL_UI_PORT" \
    --log-level warn --color never "${sa_args[@]}"
  wait_ready temporal "$TEMPORAL_TIMEOUT" "$TEMPORAL_LOG" "$TEMPORAL_MARKER" temporal_ready
  ensure_search_attributes
  say "temporal: ready (pid $(our_pid temporal "$TEMPORAL_MARKER"))"
}

# ---------------------------------------------------------------------------- commands

print_env() {
  printf '%sCLICKHOUSE_URL=http://%s:%s\n' "${1:-}" "$HOST" "$CH_HTTP_PORT"
  printf '%sNATS_URL=nats://%s:%s\n' "${1:-}" "$HOST" "$NATS_PORT"
  printf '%sNATS_USER=%s\n' "${1:-}" "$NATS_SERVICES_USER"
  printf '%sNATS_PASSWORD=%s\n' "${1:-}" "$TALLY_NATS_SERVICES_PASSWORD"
  printf '%sTEMPORAL_ADDRESS=%s:%s\n' "${1:-}" "$HOST" "$TEMPORAL_PORT"
  # Tenants' queries in the query service run as the read-only user once our server has it.
  if ch_has_users; then
    printf '%sCLICKHOUSE_READER_USER=tally_reader\n' "${1:-}"
    printf '%sCLICKHOUSE_READER_PASSWORD=%s\n' "${1:-}" "$TALLY_CLICKHOUSE_READER_PASSWORD"
  fi
}

# print_service_env SERVICE: CLICKHOUSE_USER / CLICKHOUSE_PASSWORD of one service (writer, query,
# billing-worker) on our server; nothing for other services or a server without Tally's users.
print_service_env() {
  local user pw
  case "${1:-}" in
    writer) user=tally_writer pw=$TALLY_CLICKHOUSE_WRITER_PASSWORD ;;
    query) user=tally_query pw=$TALLY_CLICKHOUSE_QUERY_PASSWORD ;;
    billing-worker) user=tally_billing pw=$TALLY_CLICKHOUSE_BILLING_PASSWORD ;;
    gateway) return 0 ;;
    *) echo "infra.sh service-env: unknown service '${1:-}' (writer, query, billing-worker, gateway)" >&2; return 2 ;;
  esac
  ch_has_users || return 0
  printf 'export CLICKHOUSE_USER=%s\nexport CLICKHOUSE_PASSWORD=%s\n' "$user" "$pw"
}

# take_lock: one up/down at a time (a second concurrent `up` waits instead of racing)
take_lock() {
  mkdir -p "$RUN_DIR"
  if have flock; then
    exec 9>>"$RUN_DIR/infra.sh.lock"
    if ! flock -n 9; then
      say "another infra.sh up/down is running; waiting for it"
      flock -w 3600 9 || die infra "timed out waiting for $RUN_DIR/infra.sh.lock"
    fi
  fi
}

# cmd_up [COMPONENT...]: all components, or only those named (clickhouse, nats, temporal)
cmd_up() {
  local c
  for c in "$@"; do
    case "$c" in clickhouse | nats | temporal) ;; *) echo "infra.sh up: unknown component '$c' (clickhouse, nats, temporal)" >&2; exit 2 ;; esac
  done
  mkdir -p "$LOG_DIR" "$RUN_DIR"
  take_lock
  ensure_prereqs
  say "data dir: $DATA_DIR"
  if [ $# -eq 0 ]; then set -- clickhouse nats temporal; fi
  for c in "$@"; do
    case "$c" in clickhouse) ch_up ;; nats) nats_up ;; temporal) temporal_up ;; esac
  done
  say "$* up. Environment for the apps:"
  print_env
}

# stop_component NAME MARKER PORT
stop_component() {
  local name=$1 marker=$2 port=$3 pid f
  f=$(pid_file "$name")
  if pid=$(our_pid "$name" "$marker"); then
    say "$name: stopping pid $pid"
    stop_pid "$name" "$pid"
    rm -f "$f"
    say "$name: stopped"
  else
    [ -e "$f" ] && rm -f "$f" && say "$name: removed a stale pid file"
    if port_open "$port"; then
      say "$name: running on port $port but not started by infra.sh: left alone"
    else
      say "$name: not running"
    fi
  fi
}

cmd_down() {
  [ -d "$RUN_DIR" ] || { say "nothing to stop (no $RUN_DIR)"; return 0; }
  take_lock
  # reverse start order
  stop_component temporal "$TEMPORAL_MARKER" "$TEMPORAL_PORT"
  stop_component nats "$NATS_MARKER" "$NATS_PORT"
  stop_component clickhouse "$CH_MARKER" "$CH_HTTP_PORT"
}

# status_line NAME OK(0/1) PID ADDRESS
status_line() {
  local name=$1 ok=$2 pid=$3 addr=$4 state
  if [ "$ok" = 1 ] && [ -n "$pid" ]; then
    state="running (ours, pid $pid)"
  elif [ "$ok" = 1 ]; then
    state="running (external)"
  elif [ -n "$pid" ]; then
    state="NOT READY (ours, pid $pid)"
  else
    state="stopped"
  fi
  printf '%-11s %-28s %s\n' "$name" "$state" "$addr"
}

cmd_status() {
  local pid ok all=0
  pid=$(our_pid clickhouse "$CH_MARKER" || true)
  ok=0; ch_ready && ok=1
  [ "$ok" = 1 ] || all=3
  status_line clickhouse "$ok" "$pid" "http://$HOST:$CH_HTTP_PORT (native $HOST:$CH_TCP_PORT)"

  pid=$(our_pid nats "$NATS_MARKER" || true)
  ok=0; nats_js_ok && ok=1
  [ "$ok" = 1 ] || all=3
  if [ "$ok" = 0 ] && nats_is_nats; then
    printf '%-11s %-28s %s\n' nats "running WITHOUT JetStream" "nats://$HOST:$NATS_PORT"
  else
    local version
    version=$(nats_running_version)
    status_line nats "$ok" "$pid" "nats://$HOST:$NATS_PORT, monitoring http://$HOST:$NATS_MONITOR_PORT${version:+, nats-server $version}"
  fi

  pid=$(our_pid temporal "$TEMPORAL_MARKER" || true)
  TEMPORAL_BIN=$(find_temporal || true)
  ok=0; port_open "$TEMPORAL_PORT" && temporal_health && ok=1
  [ "$ok" = 1 ] || all=3
  local ui="UI http://$HOST:$TEMPORAL_UI_PORT"
  [ "$ok" = 1 ] && ! temporal_ui_ok && ui="$ui (not answering)"
  status_line temporal "$ok" "$pid" "$HOST:$TEMPORAL_PORT, $ui"
  return "$all"
}

# cmd_reload: our NATS server re-reads tools/infra/nats/*.conf (SIGHUP; no restart, clients stay)
cmd_reload() {
  local pid
  pid=$(our_pid nats "$NATS_MARKER") || die nats "no NATS server started by infra.sh is running (data dir $DATA_DIR)"
  kill -HUP "$pid"
  say "nats: pid $pid reloads $NATS_CONF (see $NATS_LOG)"
}

usage() {
  cat <<EOF
usage: bash tools/infra/infra.sh up [clickhouse|nats|temporal...]|down|status|env|service-env SERVICE|reload|tools
  up      install missing components, start what is not running, wait until ready (all, or those named);
          rewrites ClickHouse's users.xml, which a running server re-reads (no restart)
  down    stop what 'up' started (pid files in $RUN_DIR), nothing else
  status  show each component (exit 0 if all are running, 3 otherwise)
  env     print 'export ...' lines: eval "\$(bash tools/infra/infra.sh env)"
  service-env SERVICE   CLICKHOUSE_USER/PASSWORD of writer, query or billing-worker (export lines)
  users-xml   print ClickHouse's rendered users.xml (tools/cluster uses it)
  reload  make the running NATS server re-read tools/infra/nats/*.conf (SIGHUP, no restart)
  tools   install prometheus, promtool and helm (go install) when missing, and what 'documents' installs
  documents  install chromium and poppler-utils (apt) and stripe-mock (go install) when missing
  nats-bin   print the path of the pinned nats-server (built when missing; tools/cluster uses it)
  zookeeper  install Debian's zookeeper when missing (the ClickHouse cluster of tools/cluster needs it)
EOF
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  service-env) print_service_env "${2:-}" ;;
  users-xml) ch_users_xml ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reload) cmd_reload ;;
  tools) cmd_tools ;;
  documents) cmd_documents ;;
  env) print_env 'export ' ;;
  nats-bin) mkdir -p "$LOG_DIR"; ensure_nats_server >&2; printf '%s\n' "$NATS_BIN" ;;
  zookeeper) mkdir -p "$LOG_DIR"; [ -e /usr/share/java/zookeeper.jar ] || apt_install zookeeper zookeeper ;;
  -h | --help | help) usage ;;
  *) usage >&2; exit 2 ;;
esac
