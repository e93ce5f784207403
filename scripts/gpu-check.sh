#!/usr/bin/env bash
# The GPU check of the compiled CUDA path, run on a GPU machine from the repo
# root after scripts/gpu/prepare.sh packed .gpu/ (binaries built here, since
# the GPU machine has no MLIR). Prints, and writes to $OUT/gpu-check.txt:
#   1. AOT CUDA binaries of tiny models against the reference executor:
#      identical greedy ids, per-step logits within 1e-4 (scripts/gpu/
#      compare_outputs.py argues the bound), batch of mixed lengths included;
#      with bf16 and int8 weights against the host-compiled path's; a
#      hand-written .mlir function (generic kinds) and one training step
#      (forward, backward and AdamW kernels) against the CPU target;
#   2. mm-cuda-gpu-tests: every library kernel against the CPU reference
#      kernels (float32, and bf16 cuBLAS), full-size shapes included, then
#      mmc's kernel timing table;
#   3. bench/gpu_bench.py kernels: lightning prefill / decode and attention
#      decode against PyTorch eager and flash-linear-attention;
#   4. bench/gpu_bench.py model: a ~1B hybrid model, mmc's AOT binary against
#      transformers eager (prefill, decode, the MoE layer); decode with f32,
#      bf16 and int8 weights as a fraction of the HBM roofline.
# Exit status: non-zero when a correctness check failed.
#
#   bash scripts/gpu/prepare.sh            # here, before
#   bash scripts/gpu-check.sh              # there, with .gpu/ carried
set -uo pipefail
cd "$(dirname "$0")/.."
pack=.gpu
if [ ! -x "$pack/bin/mm-cuda-gpu-tests" ]; then
  echo "gpu-check: $pack/ is missing; run scripts/gpu/prepare.sh on the build machine first" >&2
  exit 2
fi
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
exec > >(tee "$out/gpu-check.txt") 2>&1
export LD_LIBRARY_PATH="$PWD/$pack/lib:${LD_LIBRARY_PATH:-}"
export MM_CACHE_DIR=/tmp/mm-nvrtc-cache PYTHONUNBUFFERED=1
python=$(command -v python3)
status=0
section() { echo; echo "######## $* ($(date -u +%H:%M:%S))"; }
# PARTS="1 4" runs only those parts (3 needs 2's table).
parts=${PARTS:-1 2 3 4}
want() { [[ " $parts " == *" $1 "* ]]; }

section "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
"$python" -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)"
if ls "$pack"/whl/*.whl >/dev/null 2>&1; then
  "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$pack"/whl/*.whl && export PYTHONPATH=/tmp/site
fi

if want 1; then
section "1. compiled models (AOT CUDA binaries) against the reference executor"
source scripts/gpu/cases.sh
for c in tiny-hf tiny-hf-batch tiny-official tiny-example tiny-example-bf16 tiny-example-int8; do
  read -r model args <<<"${CASES[$c]}"
  if eval "timeout 120 $pack/bin/${BINARIES[$c]} --model $model $args --greedy --ignore-eos --json \
      --dump-logits /tmp/$c.npy" >"/tmp/$c.json" 2>"/tmp/$c.err"; then
    "$python" scripts/gpu/compare_outputs.py "$c" "$pack/ref/$c.json" "$pack/ref/$c.npy" \
      "/tmp/$c.json" "/tmp/$c.npy" || status=1
  else
    echo "$c: the binary failed:"; tail -20 "/tmp/$c.err"; status=1
    MM_CUDA_SYNC_EACH_KERNEL=1 eval "timeout 60 $pack/bin/${BINARIES[$c]} --model $model $args \
      --greedy --ignore-eos --json" 2>&1 | tail -5
  fi
done
grep -h tokens_per_second /tmp/tiny-example.json | tail -1
# A hand-written function (generic kinds, typed launch steps) against the CPU
# target: float32 sums in another order, 1e-5 on values of order 1.
b="$pack/ref/block"
if timeout 60 "$pack/bin/block-cuda" --input @"$b/x.npy" --input @"$b/ids.npy" --params "$b/w.safetensors" \
    --output @/tmp/g0.npy --output @/tmp/g1.npy --output @/tmp/g2.npy >/dev/null 2>/tmp/block.err; then
  "$python" -c "import numpy as n, sys; e = max(float(abs(n.load(f'/tmp/g{i}.npy') - n.load('$b/c%d.npy' % i)).max()) for i in range(3)); print(f'block.mlir on CUDA: max |cuda - cpu| {e:.2e}', 'PASS' if e <= 1e-5 else 'FAIL'); sys.exit(e > 1e-5)" || status=1
else
  echo "block.mlir on CUDA: the binary failed:"; tail -5 /tmp/block.err; status=1
fi
# One training step (forward, backward, AdamW) against the CPU target, within
# twice the bounds that hold each target to NumPy (compare_train_step.py).
if timeout 60 "$pack/bin/train-step-cuda" $(cat "$pack/ref/train/flags.txt") >/dev/null 2>/tmp/train.err; then
  "$python" scripts/gpu/compare_train_step.py "$pack/ref/train" /tmp || status=1
else
  echo "training step on CUDA: the binary failed:"; tail -5 /tmp/train.err; status=1
fi
fi

if want 2; then
section "2. kernel tests against the CPU reference, and kernel timings"
timeout "${KERNEL_TEST_TIMEOUT:-150}" "$pack/bin/mm-cuda-gpu-tests" --timing >"$out/kernels.txt" 2>&1
rc=$?
grep -E "^\[  (PASSED|FAILED) |^\[  FAILED|tests ran|^Device|compiled in" "$out/kernels.txt"
sed -n '/=== kernel timings/,$p' "$out/kernels.txt"
[ $rc -eq 0 ] || { echo "mm-cuda-gpu-tests: exit status $rc"; tail -40 "$out/kernels.txt"; status=1; }
fi

if want 3; then
section "3. kernels against PyTorch eager and flash-linear-attention"
timeout 100 "$python" bench/gpu_bench.py kernels --mm-table "$out/kernels.txt" || echo "(kernel bench failed: $?)"
fi

if want 4; then
section "4. ~1B hybrid model: mmc AOT binary against transformers eager"
timeout "${MODEL_BENCH_TIMEOUT:-150}" "$python" bench/gpu_bench.py model --binary "$pack/bin/bench-1b" \
  --config bench/configs/minimax-1b-hybrid.json --workdir /tmp \
  --stored bf16="$pack/bin/bench-1b-bf16" --stored int8="$pack/bin/bench-1b-int8" \
  || echo "(model bench failed: $?)"
fi

section "gpu-check: $([ $status -eq 0 ] && echo PASS || echo FAIL)"
exit $status
