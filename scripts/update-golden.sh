#!/usr/bin/env bash
# Regenerates the golden generated sources under test/golden/ after an intended
# change to code generation; review the diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
./build/bin/mm-compile --model test/data/minimax/hf-f16-sharded-tied -o "$work/bin" \
  --emit-kernels "$work/k" --max-batch 2 --max-tokens 16 --max-context 32 > /dev/null
for f in "$work"/k/*.cpp; do
  echo "==== $(basename "$f")"
  sed -n '/^\/\/ ---- generated kernel ----$/,$p' "$f" | tail -n +2
done > test/golden/host-kernels-tiny.txt
echo "updated test/golden/host-kernels-tiny.txt"
./build/bin/mm-compile --model test/data/minimax/hf-f32-packed --target cuda -o "$work/cuda" \
  --emit-kernels "$work/cu" --max-batch 2 --max-tokens 16 --max-context 32 > /dev/null
for f in "$work"/cu/*.cu; do
  echo "==== $(basename "$f")"
  sed -n '/^\/\/ ---- generated kernel ----$/,$p' "$f" | tail -n +2
done > test/golden/cuda-kernels-tiny.txt
echo "updated test/golden/cuda-kernels-tiny.txt"
