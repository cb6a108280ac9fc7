#!/usr/bin/env bash
# Builds zhenjie in release, generates a demo city of PERSONS residents (if
# ZJ_DATA has none) and runs the scenario benchmark against DuckDB in-process.
#   PERSONS=1000000 REPS=3 bash benches/scenario_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -c 'import duckdb, psycopg' 2>/dev/null || pip install -q duckdb 'psycopg[binary]'
cargo build --release
export ZJ_BIN=target/release/zhenjie ZJ_DATA="${ZJ_DATA:-data/scenario-${PERSONS:-1000000}}"
python3 benches/scenario_bench.py
