#!/usr/bin/env bash
# Installs the peers (PostgreSQL 15 from Debian, DuckDB and psycopg from PyPI),
# builds zhenjie in release and runs the governed query benchmark (issue 16)
# over a demo city: every query shape as every level's user, against the
# same binary ungoverned, DuckDB and PostgreSQL, answers checked.
#   PERSONS=1000000 REPS=5 bash benches/query_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source benches/setup.sh
bench_postgres
bench_city
python3 benches/query_bench.py
