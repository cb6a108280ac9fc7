#!/usr/bin/env bash
# Installs the peers (PostgreSQL 15 from Debian, DuckDB and psycopg from PyPI),
# builds zhenjie in release and runs the governed query benchmark (issue 16)
# over a demo city: every query shape as every level's user, against the
# same binary ungoverned, DuckDB and PostgreSQL, answers checked.
#   PERSONS=1000000 REPS=5 bash benches/query_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
python3 -c 'import duckdb, psycopg' 2>/dev/null || pip install -q duckdb 'psycopg[binary]'
cargo build --release
export ZJ_BIN=target/release/zhenjie ZJ_DATA="${ZJ_DATA:-data/bench-${PERSONS:-1000000}}"
if [ ! -f "$ZJ_DATA/catalog.toml" ]; then
  "$ZJ_BIN" demo --persons "${PERSONS:-1000000}" --out "$ZJ_DATA"
fi
python3 benches/query_bench.py
