# Sourced by the benchmark scripts: what they all need before they run.
#   bench_postgres   installs PostgreSQL 15 from Debian if it is not there
#   bench_city       installs DuckDB and psycopg if missing, builds zhenjie in
#                    release, exports ZJ_BIN and ZJ_DATA (a demo city of
#                    PERSONS residents laid out as LAYOUT, flat or by-county,
#                    generated if it is not there yet)

bench_postgres() {
  if [ ! -x /usr/lib/postgresql/15/bin/postgres ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql
  fi
}

bench_city() {
  python3 -c 'import duckdb, psycopg' 2>/dev/null || pip install -q duckdb 'psycopg[binary]'
  cargo build --release
  # LAYOUT=by-county: the tables placed by grid in one folder per county.
  local layout="${LAYOUT:-flat}" suffix=""
  [ "$layout" = flat ] || suffix="-$layout"
  export ZJ_BIN=target/release/zhenjie ZJ_DATA="${ZJ_DATA:-data/bench-${PERSONS:-1000000}$suffix}"
  if [ ! -f "$ZJ_DATA/catalog.toml" ]; then
    "$ZJ_BIN" demo --persons "${PERSONS:-1000000}" --out "$ZJ_DATA" --layout "$layout"
  fi
}
