#!/usr/bin/env bash
# Installs the peers (PostgreSQL 15 from Debian, DuckDB and psycopg from PyPI),
# builds zhenjie in release and runs the wire benchmark over a demo city.
#   PERSONS=1000000 REPS=5 bash benches/wire_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
fi
python3 -c 'import duckdb, psycopg' 2>/dev/null || pip install -q duckdb 'psycopg[binary]'
cargo build --release
export ZJ_BIN=target/release/zhenjie ZJ_DATA="${ZJ_DATA:-data/bench-${PERSONS:-1000000}}"
python3 benches/wire_bench.py
