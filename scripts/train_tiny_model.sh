#!/usr/bin/env bash
# Retrains the bundled demo model, examples/minimax-tiny, with mm-train: a
# 0.5M-parameter MiniMax-Text-01 (three lightning layers, one softmax layer,
# 4 experts, top-2) taught to recite The Zen of Python, so that the README's
# main job prints readable text in a second on any machine. The tokenizer
# (examples/minimax-tiny/tokenizer.json, a 384-token byte-level BPE fitted to
# the same text) and config.json are kept; only model.safetensors changes.
#
#   bash scripts/train_tiny_model.sh [OUT_DIR]     # default: a fresh temp dir
#
# It is deterministic: the same build and --threads give the same bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-$(mktemp -d)/minimax-tiny-run}
data=$(mktemp)
python3 -c 'import codecs, contextlib, io
with contextlib.redirect_stdout(io.StringIO()):
    import this
print(codecs.decode(this.s, "rot13"), end="")' > "$data"
build/bin/mm-train pretrain --config examples/minimax-tiny/config.json \
  --tokenizer examples/minimax-tiny/tokenizer.json --data "$data" \
  --steps 400 --batch-size 8 --seq-len 32 --lr 3e-3 --warmup-steps 40 --min-lr 3e-4 \
  --weight-decay 0 --seed 0 --threads 2 --save-every 100 --out "$out"
cp "$out/model.safetensors" examples/minimax-tiny/model.safetensors
echo "examples/minimax-tiny/model.safetensors retrained (run: $out)"
