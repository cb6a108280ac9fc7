#!/usr/bin/env bash
# A longer fuzzing run than CI's (tests/e2e/fuzz.rs): every target for
# FUZZ_SECONDS each (default 300), from a random seed printed per target.
# A finding is saved to tests/fuzz/crashes/<target>/ and fails the run; add
# the input to tests/fuzz/corpus/<target>/ once fixed, so CI replays it.
#   FUZZ_SECONDS=600 bash benches/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_SECONDS="${FUZZ_SECONDS:-300}"
cargo test --test e2e fuzz_ -- --nocapture --test-threads 1
