#!/usr/bin/env bash
# Part 1 of scripts/gpu-check.sh without a GPU (its .mlir function and
# training step too): the compiled tiny models run
# through the real CUDA backend on the fake toolkit (build/lib/fake-cuda*:
# libcuda runs kernels on the CPU emulator, libnvrtc builds the generated
# source for it, libcublas multiplies on the CPU), and must match the reference
# executor (f32) or the host-compiled path with the same weight storage (bf16,
# int8) as the GPU check demands: identical greedy ids, logits within 1e-4 of
# each step's largest (scripts/gpu/compare_outputs.py argues the bound).
# Every generated kernel, the launch plans, the weight upload and the decode
# loop run as they do on a GPU; only cuBLAS, timing and graphs are stand-ins.
#
#   check_backend_on_emulator.sh BUILD_DIR PYTHON
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "$1" && pwd)
python=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fake="LD_LIBRARY_PATH=$build/lib/fake-cuda:$build/lib/fake-cuda-toolkit MM_CACHE_DIR=$build/emulated-nvrtc-cache"

# The AOT binaries, compiled as scripts/gpu/prepare.sh compiles them (the
# fake NVRTC builds their code objects).
compile() {
  local name=$1
  shift
  env $fake "$build/bin/mm-compile" --target cuda --cuda-arch sm_90 -o "$work/$name" "$@" >/dev/null
}
compile tiny-hf --model test/data/minimax/hf-f32-packed --max-batch 4 --max-tokens 64 --max-context 128
compile tiny-official --model test/data/minimax/official-bf16 --max-batch 4 --max-tokens 64 --max-context 128
compile tiny-example --model examples/minimax-tiny --max-batch 4 --max-tokens 128 --max-context 256
for dtype in bf16 int8; do
  compile tiny-example-$dtype --model examples/minimax-tiny --max-batch 4 --max-tokens 128 \
    --max-context 256 --weight-dtype $dtype
done

source scripts/gpu/cases.sh
status=0
for c in tiny-hf tiny-hf-batch tiny-official tiny-example tiny-example-bf16 tiny-example-int8; do
  read -r model args <<<"${CASES[$c]}"
  eval "\"$build/bin/mm-run\" generate --model $model $args ${REFERENCE[$c]:-} --greedy --ignore-eos \
    --json --dump-logits $work/$c.ref.npy" >"$work/$c.ref.json"
  if ! eval "env $fake $work/${BINARIES[$c]} --model $model $args --greedy --ignore-eos --json \
      --dump-logits $work/$c.npy" >"$work/$c.json" 2>"$work/$c.err"; then
    echo "$c: the binary failed:"; tail -20 "$work/$c.err"; status=1; continue
  fi
  "$python" scripts/gpu/compare_outputs.py "$c" "$work/$c.ref.json" "$work/$c.ref.npy" \
    "$work/$c.json" "$work/$c.npy" || status=1
done

# The in-process path (mm-run compiles for the request) and the emulator's
# device name in its report.
read -r model args <<<"${CASES[tiny-hf-batch]}"
eval "env $fake \"$build/bin/mm-run\" generate --model $model $args --backend cuda --greedy \
  --ignore-eos --json --dump-logits $work/in-process.npy" >"$work/in-process.json" 2>"$work/in-process.err" \
  || { echo "mm-run --backend cuda failed:"; tail -20 "$work/in-process.err"; status=1; }
"$python" scripts/gpu/compare_outputs.py "mm-run --backend cuda" "$work/tiny-hf-batch.ref.json" \
  "$work/tiny-hf-batch.ref.npy" "$work/in-process.json" "$work/in-process.npy" || status=1
# A hand-written function (not MiniMax) compiled ahead of time for CUDA: its
# binary runs it on .npy files like `mm-run eval`, and matches the CPU target.
"$python" - "$work" <<'PY'
import sys, numpy as np
r = np.random.default_rng(7)
np.save(f"{sys.argv[1]}/x.npy", r.standard_normal((2, 3, 16)).astype(np.float32))
np.save(f"{sys.argv[1]}/w.npy", r.standard_normal((5, 16)).astype(np.float32))
PY
env $fake "$build/bin/mm-compile" test/eval/cases/linear_norm.mlir --function linear --target cuda \
  --max B=4 -o "$work/linear" >/dev/null
env $fake "$work/linear" --input @"$work/x.npy" --input @"$work/w.npy" --output @"$work/y.cuda.npy" \
  >/dev/null 2>"$work/linear.err" || { echo "AOT @linear failed:"; tail -5 "$work/linear.err"; status=1; }
"$build/bin/mm-run" eval test/eval/cases/linear_norm.mlir --function linear --backend cpu \
  --input @"$work/x.npy" --input @"$work/w.npy" --output @"$work/y.cpu.npy" >/dev/null
# float32 dot products of 16 terms in another order: |error| <= 16 u sum|x w|
"$python" - "$work" <<'PY' || status=1
import sys, numpy as np
w = sys.argv[1]
got, want = np.load(f"{w}/y.cuda.npy"), np.load(f"{w}/y.cpu.npy")
x, m = np.load(f"{w}/x.npy").astype(np.float64), np.load(f"{w}/w.npy").astype(np.float64)
bound = 16 * 2.0**-24 * (np.abs(x) @ np.abs(m).T) * 2
ok = got.shape == want.shape and bool(np.all(np.abs(got - want) <= bound))
print(f"AOT @linear (.mlir) on CUDA: max |cuda - cpu| {np.abs(got - want).max():.2e}: {'PASS' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
# The GPU check's training step (forward, backward, AdamW) as prepare.sh packs
# it and gpu-check.sh compares it with the CPU target.
"$python" scripts/gpu/make_train_step.py "$build/bin/mm-opt" "$build/bin/mm-run" "$work/train" "$work"
env $fake "$build/bin/mm-compile" "$work/train/step.mlir" --function tiny_lm_train_step --max B=2 \
  --max T=8 --target cuda --cuda-arch sm_90 -o "$work/train-step-cuda" >/dev/null
if env $fake "$work/train-step-cuda" $(cat "$work/train/flags.txt") >/dev/null 2>"$work/train.err"; then
  "$python" scripts/gpu/compare_train_step.py "$work/train" "$work" || status=1
else
  echo "training step on CUDA: the binary failed:"; tail -5 "$work/train.err"; status=1
fi
exit $status
