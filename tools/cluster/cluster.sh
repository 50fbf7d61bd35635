#!/usr/bin/env bash
# Tally's scale-out topology on loopback, for `npm run test:cluster` and for trying it by hand
# (docs/scaling.md, "The cluster topology"):
#
#   3 nats-server 2.15.3 nodes (JetStream, routes)     clients 24331-24333, routes 26331-26333, monitor 28331-28333
#   1 ZooKeeper 3.8 (Debian's package)                 22181
#   4 clickhouse-server 18.16: 2 shards x 2 replicas   HTTP 28123-28126, native 29001-29004, interserver 29011-29014
#
#   bash tools/cluster/cluster.sh up          install what is missing (zookeeper), start everything, wait until ready
#   bash tools/cluster/cluster.sh down        stop every process `up` started (pid files), nothing else
#   bash tools/cluster/cluster.sh env         print the cluster's addresses as `export ...` lines
#   bash tools/cluster/cluster.sh stop NODE   SIGTERM one node and wait (NODE: nats1..3, ch-s1r1, ch-s1r2, ch-s2r1, ch-s2r2, zk)
#   bash tools/cluster/cluster.sh kill NODE   SIGKILL one node
#   bash tools/cluster/cluster.sh start NODE  start one stopped node again (same data)
#
# Everything lives under $TALLY_CLUSTER_DIR (default /tmp/tally-cluster): configs, data, logs, pids.
# The NATS nodes run the repository's own config (tools/infra/nats/tally.conf: the same accounts and
# permissions as the single server); only the name, ports, store and routes come from the command line.
# The ClickHouse configs are kept small (caches, pools, memory per query): 4 servers, ZooKeeper and 3
# NATS nodes share a small machine with everything else.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
DIR=${TALLY_CLUSTER_DIR:-/tmp/tally-cluster}
HOST=127.0.0.1
CLUSTER_NAME=tally_cluster
export TALLY_NATS_SERVICES_PASSWORD=${TALLY_NATS_SERVICES_PASSWORD:-tally-dev-services}
export PATH="$PATH:/usr/sbin:/sbin"

NATS_NODES=(nats1 nats2 nats3)
nats_port() { echo $((24330 + ${1#nats})); }
nats_route_port() { echo $((26330 + ${1#nats})); }
nats_monitor_port() { echo $((28330 + ${1#nats})); }

CH_NODES=(ch-s1r1 ch-s1r2 ch-s2r1 ch-s2r2)
ch_index() { case $1 in ch-s1r1) echo 1 ;; ch-s1r2) echo 2 ;; ch-s2r1) echo 3 ;; ch-s2r2) echo 4 ;; esac; }
ch_http_port() { echo $((28122 + $(ch_index "$1"))); }
ch_tcp_port() { echo $((29000 + $(ch_index "$1"))); }
ch_interserver_port() { echo $((29010 + $(ch_index "$1"))); }
ZK_PORT=22181

say() { printf '[cluster] %s\n' "$*"; }
die() { printf '[cluster] ERROR: %s\n' "$*" >&2; exit 1; }

pid_of() { local f="$DIR/run/$1.pid"; [ -s "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

# start_bg NAME CMD...: own session, output to logs/NAME.log, pid to run/NAME.pid
start_bg() {
  local name=$1
  shift
  mkdir -p "$DIR/run" "$DIR/logs"
  (
    exec </dev/null >>"$DIR/logs/$name.log" 2>&1
    # shellcheck disable=SC2016 # expanded by the inner bash
    exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$DIR/run/$name.pid" "$@"
  ) &
  for _ in $(seq 1 50); do [ -s "$DIR/run/$name.pid" ] && return 0; sleep 0.1; done
  die "$name did not start"
}

wait_for() {
  local what=$1 timeout=$2
  shift 2
  local deadline=$((SECONDS + timeout))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "$what not ready after ${timeout}s (logs in $DIR/logs)"
    sleep 0.5
  done
}

# ---------------------------------------------------------------------------- NATS

nats_bin() {
  TALLY_DATA_DIR=${TALLY_DATA_DIR:-$REPO_ROOT/.data} bash "$REPO_ROOT/tools/infra/infra.sh" nats-bin
}

nats_start() {
  local n=$1 routes=() m
  for m in "${NATS_NODES[@]}"; do [ "$m" = "$n" ] || routes+=("nats://$HOST:$(nats_route_port "$m")"); done
  mkdir -p "$DIR/$n"
  start_bg "$n" "$NATS_BIN" -c "$REPO_ROOT/tools/infra/nats/tally.conf" -n "tally-$n" -a "$HOST" \
    -p "$(nats_port "$n")" -m "$(nats_monitor_port "$n")" -sd "$DIR/$n" \
    --cluster_name tally --cluster "nats://$HOST:$(nats_route_port "$n")" --routes "$(IFS=,; echo "${routes[*]}")"
}

nats_ready() { curl -sf --max-time 2 "http://$HOST:$(nats_monitor_port "$1")/healthz?js-enabled-only=true" >/dev/null; }

# the JetStream meta group has a leader and every node sees the other two
nats_cluster_ready() {
  local n
  for n in "${NATS_NODES[@]}"; do nats_ready "$n" || return 1; done
  curl -sf --max-time 2 "http://$HOST:$(nats_monitor_port nats1)/jsz" | grep -q '"leader"'
}

# ---------------------------------------------------------------------------- ZooKeeper

zk_start() {
  mkdir -p "$DIR/zk/data"
  cat >"$DIR/zk/zoo.cfg" <<EOF
tickTime=2000
dataDir=$DIR/zk/data
clientPort=$ZK_PORT
clientPortAddress=$HOST
admin.enableServer=false
maxClientCnxns=0
4lw.commands.whitelist=ruok,srvr
EOF
  cp /etc/zookeeper/conf/log4j.properties "$DIR/zk/" 2>/dev/null || true
  start_bg zk java -Xms64m -Xmx256m -cp "$DIR/zk:/usr/share/java/zookeeper.jar" \
    -Dzookeeper.log.dir="$DIR/logs" -Dzookeeper.root.logger=WARN,CONSOLE \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$DIR/zk/zoo.cfg"
}

zk_ready() { [ "$( (exec 3<>"/dev/tcp/$HOST/$ZK_PORT" && printf ruok >&3 && timeout 2 cat <&3) 2>/dev/null)" = imok ]; }

# ---------------------------------------------------------------------------- ClickHouse

ch_config() {
  local n=$1 d="$DIR/$1" shard replica
  shard=${n#ch-s}; shard=${shard%r*}; replica=${n#*r}
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas"
  local replicas_xml=""
  local s r
  for s in 1 2; do
    replicas_xml+="                <shard>\n                    <internal_replication>true</internal_replication>\n"
    for r in 1 2; do
      replicas_xml+="                    <replica><host>$HOST</host><port>$(ch_tcp_port "ch-s${s}r${r}")</port></replica>\n"
    done
    replicas_xml+="                </shard>\n"
  done
  {
    cat <<EOF
<?xml version="1.0"?>
<!-- Generated by tools/cluster/cluster.sh: node $n (shard $shard, replica $replica) of $CLUSTER_NAME. -->
<yandex>
    <logger><level>warning</level><log>$DIR/logs/$n.log</log><errorlog>$DIR/logs/$n.err.log</errorlog><size>20M</size><count>2</count></logger>
    <listen_host>$HOST</listen_host>
    <http_port>$(ch_http_port "$n")</http_port>
    <tcp_port>$(ch_tcp_port "$n")</tcp_port>
    <interserver_http_port>$(ch_interserver_port "$n")</interserver_http_port>
    <interserver_http_host>$HOST</interserver_http_host>
    <max_connections>256</max_connections>
    <max_concurrent_queries>32</max_concurrent_queries>
    <!-- Small on purpose: four servers share the machine. -->
    <uncompressed_cache_size>16777216</uncompressed_cache_size>
    <mark_cache_size>33554432</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/tmp/</tmp_path>
    <user_files_path>$d/user_files/</user_files_path>
    <format_schema_path>$d/format_schemas/</format_schema_path>
    <users_config>users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <include_from>$d/metrika.xml</include_from>
    <max_table_size_to_drop>0</max_table_size_to_drop>
    <max_partition_size_to_drop>0</max_partition_size_to_drop>
    <remote_servers>
        <$CLUSTER_NAME>
EOF
    printf '%b' "$replicas_xml"
    cat <<EOF
        </$CLUSTER_NAME>
    </remote_servers>
    <zookeeper>
        <node><host>$HOST</host><port>$ZK_PORT</port></node>
        <session_timeout_ms>10000</session_timeout_ms>
    </zookeeper>
    <macros><shard>$shard</shard><replica>$n</replica></macros>
    <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
EOF
  } >"$d/config.xml"
  # The repository's users (infra.sh renders them: default without a password, the services', the reader) with
  # smaller pools and per-query memory.
  sed -e "s|<max_memory_usage>[0-9]*<|<max_memory_usage>1000000000<|" \
    -e "s|<max_memory_usage_for_all_queries>[0-9]*<|<max_memory_usage_for_all_queries>1500000000<|" \
    -e "s|<log_queries>0</log_queries>|<log_queries>0</log_queries><background_pool_size>4</background_pool_size><background_schedule_pool_size>4</background_schedule_pool_size>|" \
    <(bash "$REPO_ROOT/tools/infra/infra.sh" users-xml) >"$d/users.xml"
  printf '<?xml version="1.0"?>\n<yandex/>\n' >"$d/metrika.xml"
}

ch_start() {
  local n=$1
  [ -e "$DIR/$n/config.xml" ] || ch_config "$n"
  start_bg "$n" nice -n 10 clickhouse-server --config-file="$DIR/$n/config.xml"
}

ch_ready() { [ "$(curl -sf --max-time 3 "http://$HOST:$(ch_http_port "$1")/?query=SELECT%201" 2>/dev/null)" = 1 ]; }

# ---------------------------------------------------------------------------- commands

node_start() {
  case $1 in
    nats*) nats_start "$1"; wait_for "$1" 30 nats_ready "$1" ;;
    zk) zk_start; wait_for zk 60 zk_ready ;;
    ch-*) ch_start "$1"; wait_for "$1" 60 ch_ready "$1" ;;
    *) die "unknown node '$1'" ;;
  esac
}

node_signal() {
  local sig=$1 n=$2 pid
  pid=$(pid_of "$n") || { say "$n is not running"; return 0; }
  kill "-$sig" "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || { rm -f "$DIR/run/$n.pid"; return 0; }; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$DIR/run/$n.pid"
}

ensure_zookeeper() {
  [ -e /usr/share/java/zookeeper.jar ] && return 0
  TALLY_DATA_DIR=${TALLY_DATA_DIR:-$REPO_ROOT/.data} bash "$REPO_ROOT/tools/infra/infra.sh" zookeeper
}

cmd_up() {
  mkdir -p "$DIR"
  ensure_zookeeper
  command -v clickhouse-server >/dev/null || die "clickhouse-server is missing (bash tools/infra/infra.sh up installs it)"
  NATS_BIN=$(nats_bin)
  local n
  pid_of zk >/dev/null || zk_start
  for n in "${NATS_NODES[@]}"; do pid_of "$n" >/dev/null || nats_start "$n"; done
  wait_for zk 60 zk_ready
  for n in "${CH_NODES[@]}"; do pid_of "$n" >/dev/null || ch_start "$n"; done
  for n in "${CH_NODES[@]}"; do wait_for "$n" 90 ch_ready "$n"; done
  wait_for "the NATS cluster" 60 nats_cluster_ready
  say "up: NATS $(for n in "${NATS_NODES[@]}"; do printf 'nats://%s:%s ' "$HOST" "$(nats_port "$n")"; done)"
  say "up: ClickHouse $CLUSTER_NAME $(for n in "${CH_NODES[@]}"; do printf '%s=http://%s:%s ' "$n" "$HOST" "$(ch_http_port "$n")"; done)"
}

cmd_down() {
  local n
  for n in "${CH_NODES[@]}" "${NATS_NODES[@]}" zk; do node_signal TERM "$n"; done
  say "down"
}

cmd_env() {
  local urls=() n
  for n in "${NATS_NODES[@]}"; do urls+=("nats://$HOST:$(nats_port "$n")"); done
  echo "export TALLY_CLUSTER_DIR=$DIR"
  echo "export TALLY_CLUSTER_NATS_URLS=$(IFS=,; echo "${urls[*]}")"
  echo "export TALLY_CLUSTER_NAME=$CLUSTER_NAME"
  for n in "${CH_NODES[@]}"; do echo "export TALLY_CLUSTER_$(echo "${n#ch-}" | tr a-z A-Z)_URL=http://$HOST:$(ch_http_port "$n")"; done
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  stop) node_signal TERM "${2:?node}" ;;
  kill) node_signal KILL "${2:?node}" ;;
  start) [[ ${2:?node} == nats* ]] && NATS_BIN=$(nats_bin); node_start "$2" ;;
  *) sed -n '2,20p' "$0" >&2; exit 2 ;;
esac
