#!/usr/bin/env bash
# Runs every fuzzer for a bounded time, seeded from the test suite:
#   mm-parse-fuzzer        parse + verify + canonicalize + print of mm IR
#   mm-safetensors-fuzzer  the safetensors reader
#   mm-config-fuzzer       config.json parsing
#   mm-executable-fuzzer   the executable reader and its interface
#   mm-image-fuzzer        the PNG / JPEG decoders and the anyres tiling
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS   (the parse fuzzer gets SECONDS,
# the four reader fuzzers SECONDS / 2 each)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?build dir with -DMM_ENABLE_FUZZERS=ON}
seconds=${2:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/ir" "$work/st" "$work/cfg" "$work/exe" "$work/img"
# One IR seed per `// -----` case of the lit tests.
for f in test/IR/*.mlir test/Passes/*.mlir test/BadInput/*.mlir; do
  awk -v dir="$work/ir" -v base="$(basename "$f")" '
    /^\/\/ -----/ { i++; next } { print > (dir "/" base "." i) }' "$f"
done
i=0
for f in test/fuzz/corpus/safetensors/*; do cp "$f" "$work/st/seed$((i++))"; done
for f in test/fuzz/corpus/images/*; do cp "$f" "$work/img/seed$((i++))"; done
for f in test/data/minimax/*/config.json test/data/configs/*.json test/fuzz/regressions/config-*; do cp "$f" "$work/cfg/seed$((i++))"; done
# Executables of hand-written modules, compiled now (MiniMax ones exceed -max_len).
"$build/bin/mm-compile" test/Tools/Inputs/block.mlir --function block --max N=8 \
  -o "$work/exe.bin" --executable "$work/exe/block" > /dev/null
"$build/bin/mm-compile" test/Tools/Inputs/generic-kinds.mlir --function kinds --max B=4 \
  -o "$work/exe.bin" --executable "$work/exe/kinds" > /dev/null

run() { # fuzzer corpus seconds [extra flags]
  local bin=$1 corpus=$2 secs=$3; shift 3
  echo "fuzz.sh: $bin, $(ls "$corpus" | wc -l) seeds, ${secs}s"
  # -timeout flags any single input taking over 10 s as a hang.
  if ! "$build/bin/$bin" "$corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 \
      -print_final_stats=1 "$@" > "$work/log" 2>&1; then
    cat "$work/log"
    echo "fuzz.sh: $bin found a failure (input saved as ./crash-* / ./timeout-*)" >&2
    return 1
  fi
  tail -n 6 "$work/log"
}
run mm-parse-fuzzer "$work/ir" "$seconds" -dict=test/fuzz/mm.dict -max_len=16384
run mm-safetensors-fuzzer "$work/st" $((seconds / 2)) -max_len=65536
run mm-config-fuzzer "$work/cfg" $((seconds / 2)) -max_len=16384
run mm-executable-fuzzer "$work/exe" $((seconds / 2)) -max_len=65536
run mm-image-fuzzer "$work/img" $((seconds / 2)) -max_len=16384
