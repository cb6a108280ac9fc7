#!/usr/bin/env bash
# Builds zhenjie in release and runs the cluster benchmark (issue 18): the
# governed query shapes on one node and on a local Ballista cluster (a
# scheduler and executors as processes on loopback), with one and then two
# executors, answers checked.
#   PERSONS=1000000 REPS=5 bash benches/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb, psycopg' 2>/dev/null || pip install -q duckdb 'psycopg[binary]'
cargo build --release
export ZJ_BIN=target/release/zhenjie ZJ_DATA="${ZJ_DATA:-data/bench-${PERSONS:-1000000}}"
if [ ! -f "$ZJ_DATA/catalog.toml" ]; then
  "$ZJ_BIN" demo --persons "${PERSONS:-1000000}" --out "$ZJ_DATA"
fi
for n in ${EXECUTOR_COUNTS:-1 2}; do
  EXECUTORS=$n python3 benches/cluster_bench.py
done
