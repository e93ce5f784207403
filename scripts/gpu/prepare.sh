#!/usr/bin/env bash
# Packs what scripts/gpu-check.sh needs on a GPU machine that has no MLIR and
# no package registry, into .gpu/ (git-ignored; carried to the machine):
#   bin/  mm-cuda-gpu-tests and AOT CUDA binaries (tiny models, a ~1B hybrid
#         config; f32, bf16 and int8 weights; a hand-written .mlir function;
#         a training step),
#         compiled here for sm_90 by mm-compile
#   lib/  the shared libraries those binaries need beyond a CUDA image
#   ref/  the reference executor's greedy ids and per-step logits (for bf16 /
#         int8 weights, the host-compiled path's with the same storage), and
#         the CPU target's results of the .mlir function and the training step
#   whl/  flash-linear-attention wheels, when pip can fetch them
#
#   bash scripts/gpu/prepare.sh      (after a build of build/)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${BUILD_DIR:-build}
pack=.gpu
cmake --build "$build" -j2 --target mm-compile mm-opt mm-run mm-aot-runner mm-cuda-gpu-tests >/dev/null
rm -rf "$pack"
mkdir -p "$pack"/{bin,lib,ref,whl}
cp "$build/bin/mm-cuda-gpu-tests" "$pack/bin/"
# Everything the runner links beyond the C/C++ runtime, zlib and OpenMP (which a
# CUDA image has, and which PyTorch in the same script must not get from here):
# protobuf, oniguruma, libpng / libjpeg for images, Open MPI for --parallel
# runs, and their dependencies.
for lib in $(ldd "$build/bin/mm-aot-runner" |
  awk '$3 ~ /^\// && $1 !~ /^(libc|libm|libstdc\+\+|libgcc_s|libdl|libpthread|librt|libz|libgomp)\.so/ {print $3}'); do
  cp -L "$lib" "$pack/lib/"
done

compile() {
  local name=$1
  shift
  "$build/bin/mm-compile" --target cuda --cuda-arch sm_90 -o "$pack/bin/$name" "$@" >/dev/null
}
compile tiny-hf --model test/data/minimax/hf-f32-packed --max-batch 4 --max-tokens 64 --max-context 128
compile tiny-official --model test/data/minimax/official-bf16 --max-batch 4 --max-tokens 64 --max-context 128
compile tiny-example --model examples/minimax-tiny --max-batch 4 --max-tokens 128 --max-context 256
for dtype in bf16 int8; do
  compile tiny-example-$dtype --model examples/minimax-tiny --max-batch 4 --max-tokens 128 \
    --max-context 256 --weight-dtype $dtype
  compile bench-1b-$dtype --config bench/configs/minimax-1b-hybrid.json --max-batch 8 \
    --max-tokens 512 --max-context 1024 --weight-dtype $dtype
done
compile bench-1b --config bench/configs/minimax-1b-hybrid.json --max-batch 8 --max-tokens 512 \
  --max-context 1024

# A hand-written module (not MiniMax: embedding, layer norm, GEMMs, log-softmax,
# matmul, transpose) for CUDA, with the CPU target's answers.
/usr/bin/python3 test/Tools/Inputs/make_block_data.py "$pack/ref/block"
"$build/bin/mm-compile" test/Tools/Inputs/block.mlir --function block --max N=8 --target cuda \
  --cuda-arch sm_90 -o "$pack/bin/block-cuda" >/dev/null
"$build/bin/mm-run" eval test/Tools/Inputs/block.mlir --function block --backend cpu \
  --input @"$pack/ref/block/x.npy" --input @"$pack/ref/block/ids.npy" \
  --params "$pack/ref/block/w.safetensors" --output @"$pack/ref/block/c0.npy" \
  --output @"$pack/ref/block/c1.npy" --output @"$pack/ref/block/c2.npy" >/dev/null

# A training step (forward, backward and AdamW of test/autodiff's tiny hybrid
# MoE language model, one function) for CUDA, with the CPU target's results.
/usr/bin/python3 scripts/gpu/make_train_step.py "$build/bin/mm-opt" "$build/bin/mm-run" "$pack/ref/train"
"$build/bin/mm-compile" "$pack/ref/train/step.mlir" --function tiny_lm_train_step --max B=2 --max T=8 \
  --target cuda --cuda-arch sm_90 -o "$pack/bin/train-step-cuda" >/dev/null

# The cases scripts/gpu-check.sh runs, with the reference executor's answers.
source scripts/gpu/cases.sh
for c in "${!CASES[@]}"; do
  read -r model args <<<"${CASES[$c]}"
  eval "\"$build/bin/mm-run\" generate --model $model $args ${REFERENCE[$c]:-} --greedy --ignore-eos \
    --json --dump-logits $pack/ref/$c.npy" >"$pack/ref/$c.json"
done

python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 -d "$pack/whl" flash-linear-attention==0.6.0 fla-core==0.6.0 \
  || echo "prepare: no flash-linear-attention wheels (the bench will say so)"
du -sh "$pack"
