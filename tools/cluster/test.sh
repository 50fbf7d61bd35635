#!/usr/bin/env bash
# npm run test:cluster: bring the cluster topology up on loopback (tools/cluster/cluster.sh), run the
# cluster tests, take it down again, whatever happened. The single-server infrastructure
# (tools/infra/infra.sh up) must be running: the tests compare the cluster's answers with it.
# TALLY_CLUSTER_KEEP=1 leaves the topology running afterwards (to look at it).
set -uo pipefail
cd "$(dirname "$0")/../.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false FORCE_COLOR=0
export SWC_NODE_PROJECT="$PWD/tsconfig.base.json"
export TALLY_CLUSTER_DIR=${TALLY_CLUSTER_DIR:-$(mktemp -d /tmp/tally-cluster.XXXXXX)}

down() { [ "${TALLY_CLUSTER_KEEP:-0}" = 1 ] || { bash tools/cluster/cluster.sh down; rm -rf "$TALLY_CLUSTER_DIR"; }; }
trap down EXIT
bash tools/cluster/cluster.sh up || exit 1
eval "$(bash tools/cluster/cluster.sh env)"
mkdir -p .reports/jest
nice -n 10 npx jest -c tools/cluster/jest.config.js --runInBand --json --outputFile=.reports/jest/tools-cluster.json "$@"
