#!/usr/bin/env bash
# `mm-train rl --backend cuda` on the fake CUDA toolkit: the rollout engine
# (@forward with bf16 weights) and the CISPO policy update both generated for
# CUDA and run on the CPU emulator, against `--backend cpu`, from the same
# briefly SFT-trained tiny model, seed and steps.
#
# The rollouts must be the same: the same reward, accuracy, response length
# and kept groups at every step. The engines' logits differ by float32
# summation order only (~1e-7 relative), and a sample flips only when its
# uniform draw falls that close to a boundary of the cumulative
# distribution; the 2 x 16 rollouts of this seed have no such draw. The loss
# is a mean of O(1) terms (clipped ratio times normalised advantage), so the
# two float32 sums agree to about n u max|term| ~ 1e-5 absolute at worst, and
# the gradient norm to 1e-5 relative (as train-cuda-on-emulator); a wrong
# policy-loss or backward kernel, or rollouts that differ, miss by far more.
#
#   check_rl_on_emulator.sh BUILD_DIR PYTHON
set -euo pipefail
cd "$(dirname "$0")/../.."
build=$(cd "$1" && pwd)
python=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=examples/minimax-tiny
"$build/bin/mm-train" sft --task add:1 --config $model/config.json --tokenizer $model/tokenizer.json \
  --steps 60 --seed 1 --threads 2 --lr 3e-3 --batch-size 32 --out "$work/sft" >"$work/sft.log" 2>&1 ||
  { echo "mm-train sft failed:"; tail -20 "$work/sft.log"; exit 1; }
for backend in cpu cuda; do
  env LD_LIBRARY_PATH="$build/lib/fake-cuda:$build/lib/fake-cuda-toolkit" \
    MM_CACHE_DIR="$build/emulated-nvrtc-cache" \
    "$build/bin/mm-train" rl --model "$work/sft" --task add:1 --objective cispo --steps 2 \
    --prompts-per-step 4 --group-size 4 --max-new-tokens 4 --updates-per-batch 2 --lr 1e-4 \
    --seed 3 --threads 2 --eval-prompts 16 --backend $backend --out "$work/$backend" \
    >"$work/$backend.log" 2>&1 ||
    { echo "mm-train rl --backend $backend failed:"; tail -20 "$work/$backend.log"; exit 1; }
done
"$python" - "$work/cpu/metrics.csv" "$work/cuda/metrics.csv" <<'PY'
import csv, sys
cpu, cuda = (list(csv.DictReader(open(p))) for p in sys.argv[1:3])
assert len(cpu) == len(cuda) == 2, (len(cpu), len(cuda))
ok = True
for a, b in zip(cpu, cuda):
    for field in ("reward_mean", "accuracy", "response_len", "kept_groups"):
        if a[field] != b[field]:
            print(f"step {a['step']}: rollouts differ: {field} {a[field]} (cpu) vs {b[field]} (cuda)")
            ok = False
    if not a["loss"] or not b["loss"]:
        print(f"step {a['step']}: no update (no group kept): the check needs one")
        ok = False
        continue
    dl = abs(float(a["loss"]) - float(b["loss"]))
    dg = abs(float(a["grad_norm"]) - float(b["grad_norm"])) / abs(float(a["grad_norm"]))
    print(f"step {a['step']}: same rollouts; loss within {dl:.1e} (bound 1e-5), "
          f"gradient norm within {dg:.1e} relative (bound 1e-5)")
    ok = ok and dl <= 1e-5 and dg <= 1e-5
sys.exit(0 if ok else 1)
PY
