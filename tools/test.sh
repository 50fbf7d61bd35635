#!/usr/bin/env bash
# npm test: install what is missing, bring the infrastructure up, then lint, typecheck and run every
# unit and integration test. Jest writes one JSON report per project and kind to .reports/jest.
set -uo pipefail
cd "$(dirname "$0")/.."
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false FORCE_COLOR=0
export SWC_NODE_PROJECT="$PWD/tsconfig.base.json"

bash tools/setup.sh || exit 1
bash tools/infra/infra.sh up || { echo "[test] infrastructure did not come up" >&2; exit 1; }
# prometheus, promtool and helm for the metrics and chart tests (built with go install when missing)
bash tools/infra/infra.sh tools || { echo "[test] prometheus, promtool or helm could not be installed" >&2; exit 1; }

rm -rf .reports/jest && mkdir -p .reports/jest
status=0
step() { echo; echo "=== $1"; shift; "$@" || { echo "[test] FAILED: $*" >&2; status=1; }; }

step "typecheck" npx tsc -p tsconfig.json --noEmit
# The module-boundary rule reads Nx's project graph; compute it first or a fresh clone skips the rule.
step "project graph" npx nx show projects
step "lint" env NODE_OPTIONS=--max-old-space-size=4096 npx eslint .
step "unit tests" npx nx run-many -t test --skipNxCache --outputStyle=stream --parallel=2
step "integration tests" npx nx run-many -t integration --skipNxCache --outputStyle=stream --parallel=1
# 3 NATS nodes, ZooKeeper and ClickHouse 2 shards x 2 replicas on loopback, up for these tests only (~1.5 min)
step "cluster tests" bash tools/cluster/test.sh
echo
# Every project with a test or integration target (Nx graph) must have reported at least one test.
node tools/ci/jest-summary.js .reports/jest --expect-reports || status=1
exit $status
