#!/usr/bin/env bash
# MiniMax-M1's recipe at toy scale: a supervised warm-up of the bundled tiny
# MiniMax model on 1-digit addition, then CISPO with rollouts from mmc's
# compiled engine, then the accuracy of both (avg@4 at temperature 1, and
# greedy). About 80 seconds on two cores.
#
#   bash scripts/rl_demo.sh [OUT_DIR] [OBJECTIVE] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/rl-demo}
objective=${2:-cispo}
steps=${3:-120}
build/bin/mm-train sft --task add:1 --config examples/minimax-tiny/config.json \
  --tokenizer examples/minimax-tiny/tokenizer.json --steps 80 --seed 1 --threads 2 \
  --lr 3e-3 --out "$out/sft" --resume
build/bin/mm-train rl --model "$out/sft" --task add:1 --objective "$objective" \
  --steps "$steps" --prompts-per-step 64 --group-size 8 --max-new-tokens 4 \
  --updates-per-batch 8 --lr 3e-4 --seed 0 --threads 2 --eval-every 10 \
  --out "$out/$objective" --resume
for model in "$out/sft" "$out/$objective"; do
  echo "$model: $(build/bin/mm-train rl --model "$model" --task add:1 --max-new-tokens 4 \
    --seed 0 --threads 2 --eval-only)"
done
