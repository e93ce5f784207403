#!/usr/bin/env bash
# Regenerates the golden generated sources under test/golden/ after an intended
# change to code generation; review the diff before committing it.
#   scripts/update-golden.sh            rewrite test/golden/
#   scripts/update-golden.sh OUT_DIR    write them to OUT_DIR (the lit test
#                                       test/Tools/golden-kernels.test diffs)
# Every kernel kind of the test models, the bundled model, the full-size
# MiniMax-Text-01 (deduplicated by scripts/golden_kernels.py) and hand-written
# modules, for both targets where the target has the kind.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-test/golden}
bin=${MM_BIN:-./build/bin}
py=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

# The generated part of every kernel, one file per kernel (as reviewed so far).
tiny() { # name target model
  "$bin/mm-compile" --model "$3" --target "$2" --cuda-arch jit --compile-to sources \
    --emit-kernels "$work/$1" --max-batch 2 --max-tokens 16 --max-context 32 > /dev/null
  for f in "$work/$1"/*.c*; do
    echo "==== $(basename "$f")"
    sed -n '/^\/\/ ---- generated kernel ----$/,$p' "$f" | tail -n +2 |
      sed -E 's/\bmmk_[0-9a-f]{16}\b/mm_kernel_N/g' # named by content: a hash
  done > "$out/$1.txt"
}
tiny host-kernels-tiny cpu test/data/minimax/hf-f16-sharded-tied
tiny cuda-kernels-tiny cuda test/data/minimax/hf-f32-packed

# Distinct kernels only (layers repeat).
distinct() { # name target args...
  local name=$1 target=$2
  shift 2
  "$bin/mm-compile" "$@" --target "$target" --cuda-arch jit --compile-to sources \
    --emit-kernels "$work/$name" > /dev/null
  "$py" scripts/golden_kernels.py "$work/$name" > "$out/$name.txt"
}
for target in cpu cuda; do
  t=$([ $target = cpu ] && echo host || echo cuda)
  distinct "$t-kernels-minimax-tiny" $target --model examples/minimax-tiny \
    --max-batch 2 --max-tokens 16 --max-context 64
  distinct "$t-kernels-minimax-text-01" $target --config test/data/configs/minimax-text-01.json \
    --max-batch 4 --max-tokens 256 --max-context 8192
done
distinct host-kernels-block cpu test/Tools/Inputs/block.mlir --function block --max N=8
distinct host-kernels-generic-kinds cpu test/Tools/Inputs/generic-kinds.mlir --function kinds --max B=4
distinct host-kernels-generic-kinds-more cpu test/Tools/Inputs/generic-kinds.mlir --function more --max B=4
echo "wrote $(ls "$out" | wc -l) golden files to $out"
