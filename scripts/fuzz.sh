#!/usr/bin/env bash
# Runs the parse + verify fuzzer for a bounded time, seeded with every case of
# the lit suite. Usage: scripts/fuzz.sh BUILD_DIR SECONDS
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir with -DMM_ENABLE_FUZZERS=ON}
seconds=${2:-60}
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
# One seed per `// -----` case of the lit tests.
n=0
for f in test/IR/*.mlir test/Passes/*.mlir test/BadInput/*.mlir; do
  awk -v dir="$corpus" -v base="$(basename "$f")" '
    /^\/\/ -----/ { i++; next } { print > (dir "/" base "." i) }' "$f"
done
echo "fuzz.sh: $(ls "$corpus" | wc -l) seeds, ${seconds}s"
# -timeout flags any single input taking over 10 s as a hang.
"$build/bin/mm-parse-fuzzer" "$corpus" -max_total_time="$seconds" -timeout=10 \
  -dict=test/fuzz/mm.dict -max_len=16384 -rss_limit_mb=4096 -print_final_stats=1
