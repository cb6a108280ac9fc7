#!/usr/bin/env bash
# Installs the peers (PostgreSQL 15 from Debian, DuckDB and psycopg from PyPI),
# builds zhenjie in release and runs the load benchmark (issue 17) over a demo
# city: CONNS concurrent clients spread over the five levels' users, ROUNDS
# rounds each of lookups, small aggregates, scenario and report views and a
# roster, against zhenjie and then PostgreSQL 15; errors counted (the goal is
# none), first-round answers checked, throughput, latency and peak memory.
#   CONNS=200 ROUNDS=20 PERSONS=1000000 bash benches/load_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
bench_postgres
bench_city
python3 benches/load_bench.py
