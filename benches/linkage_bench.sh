#!/usr/bin/env bash
# Record linkage against the peer, in one run on the same data: `zhenjie link`
# (the batch form of link_persons) and Splink (DuckDB backend, configured with
# the same cleaning, blocking and comparison levels: benches/linkage_splink.py)
# link the demo city's dirty department list to its register; both are scored
# against the truth the demo writes beside the list.
#
#   PERSONS=1000000 SHARES="0.03 0.1" bash benches/linkage_bench.sh
#
# SHARES: share of living residents on the list (0.1 of 1M ≈ 100k rows; 1.0 ≈
# 1M rows). SPLINK=0 skips the peer (its 1M-row run takes many minutes).
# Needs: pip install splink pypinyin opencc pandas pyarrow.
set -euo pipefail
cd "$(dirname "$0")/.."
PERSONS=${PERSONS:-1000000}
SHARES=${SHARES:-0.03 0.1}
BIN=target/release/zhenjie
cargo build --release --bin zhenjie >&2
for share in $SHARES; do
  dir=data/linkbench-$PERSONS-$share
  [ -f "$dir/catalog.toml" ] || "$BIN" demo --persons "$PERSONS" --list-share "$share" --out "$dir" >&2
  echo "== $PERSONS residents, list share $share"
  /usr/bin/time -f "%e %M" -o "$dir/zhenjie.time" \
    "$BIN" link --catalog "$dir/catalog.toml" --as admin --list dept_list \
    --out "$dir/linked.parquet" 2> "$dir/zhenjie.log"
  grep -o 'link_persons(.*' "$dir/zhenjie.log" || true
  read -r secs kib < "$dir/zhenjie.time"
  python3 benches/linkage_quality.py "$dir" "$dir/linked.parquet" "$secs" "$kib"
  if [ "${SPLINK:-1}" = 1 ]; then
    python3 benches/linkage_splink.py "$dir" 2>/dev/null
  fi
done
