#!/usr/bin/env bash
# `mm-train pretrain --backend cuda` on the fake CUDA toolkit (the training
# step's forward, backward and AdamW kernels generated for CUDA, run on the CPU
# emulator) against `--backend cpu`: the same data, seed and steps must give
# the same loss and gradient norm at every step, to 1e-5 relative. Both run
# float32 with different summation orders (a few ulps, ~1e-6, per step's
# loss and norm; the weights then differ by as little); a wrong backward
# kernel moves the gradient norm by far more.
#
#   check_training_on_emulator.sh BUILD_DIR PYTHON
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "$1" && pwd)
python=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -c "import this" > "$work/zen.txt"
model=examples/minimax-tiny
for backend in cpu cuda; do
  env LD_LIBRARY_PATH="$build/lib/fake-cuda:$build/lib/fake-cuda-toolkit" \
    MM_CACHE_DIR="$build/emulated-nvrtc-cache" \
    "$build/bin/mm-train" pretrain --config $model/config.json --tokenizer $model/tokenizer.json \
    --data "$work/zen.txt" --steps 4 --batch-size 2 --seq-len 32 --lr 3e-3 --seed 0 \
    --threads 1 --save-every 4 --log-every 1 --backend $backend --out "$work/$backend" >"$work/$backend.log" 2>&1 ||
    { echo "mm-train --backend $backend failed:"; tail -20 "$work/$backend.log"; exit 1; }
done
"$python" - "$work/cpu/metrics.csv" "$work/cuda/metrics.csv" <<'PY'
import csv, sys
cpu, cuda = (list(csv.DictReader(open(p))) for p in sys.argv[1:3])
assert len(cpu) == len(cuda) == 4, (len(cpu), len(cuda))
worst = 0.0
for a, b in zip(cpu, cuda):
    for field in ("loss", "grad_norm"):
        x, y = float(a[field]), float(b[field])
        worst = max(worst, abs(x - y) / abs(x))
print(f"4 steps: loss and gradient norm of --backend cuda within {worst:.2e} of --backend cpu (bound 1e-5)")
sys.exit(0 if worst <= 1e-5 else 1)
PY
