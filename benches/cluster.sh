#!/usr/bin/env bash
# Builds zhenjie in release and runs the cluster benchmark (issue 18): the
# governed query shapes on one node and on a local Ballista cluster (a
# scheduler and executors as processes on loopback), with one and then two
# executors, answers checked.
#   PERSONS=1000000 REPS=5 bash benches/cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
bench_city
for n in ${EXECUTOR_COUNTS:-1 2}; do
  EXECUTORS=$n python3 benches/cluster_bench.py
done
