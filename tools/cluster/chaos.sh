#!/usr/bin/env bash
# npm run chaos:cluster -- [options]: issue 14's chaos run (tools/cluster/chaos.ts). Brings the cluster
# topology up on loopback (tools/cluster/cluster.sh), compiles the services (dist/), runs the chaos tool
# with the given options, takes the topology down again, whatever happened. Exits with the tool's status.
# TALLY_CLUSTER_KEEP=1 leaves the topology running afterwards (run again with the same TALLY_CLUSTER_DIR
# to reuse it). `npm run chaos:cluster -- --help` lists the options.
set -uo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false FORCE_COLOR=0
export SWC_NODE_PROJECT="$PWD/tsconfig.base.json"
export TALLY_CLUSTER_DIR=${TALLY_CLUSTER_DIR:-$(mktemp -d /tmp/tally-cluster.XXXXXX)}

down() { [ "${TALLY_CLUSTER_KEEP:-0}" = 1 ] || { bash tools/cluster/cluster.sh down >&2; rm -rf "$TALLY_CLUSTER_DIR"; }; }
trap down EXIT
bash tools/cluster/cluster.sh up >&2 || exit 1
eval "$(bash tools/cluster/cluster.sh env)"
node tools/build/compile.js --test-faults >&2 || exit 1
node -r @swc-node/register tools/cluster/chaos.ts "$@"
