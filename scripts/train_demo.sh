#!/usr/bin/env bash
# Trains a small hybrid lightning-attention MoE model (examples/minimax-small-moe:
# 4 layers, 3 lightning + 1 softmax, 8 experts top-2, 2.9M parameters, with the
# load-balancing loss) from scratch on a real corpus: The Python Tutorial, the
# reStructuredText sources Debian's python3.11-doc package ships
# (/usr/share/doc/python3.11/html/_sources/tutorial, 256 KB, PSF License v2).
# The tokenizer is the bundled byte-level BPE (any UTF-8 encodes).
#
#   bash scripts/train_demo.sh [OUT_DIR] [STEPS]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-runs/python-tutorial}
steps=${2:-600}
src=/usr/share/doc/python3.11/html/_sources/tutorial
if [ ! -d "$src" ]; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q python3.11-doc; else sudo apt-get install -y -q python3.11-doc; fi
fi
build/bin/mm-train pretrain --config examples/minimax-small-moe/config.json \
  --tokenizer examples/minimax-tiny/tokenizer.json --data "$src"/*.rst.txt \
  --steps "$steps" --batch-size 8 --seq-len 128 --lr 2e-3 --seed 0 --threads 2 \
  --save-every 100 --out "$out" --resume
build/bin/mm-run generate --model "$out" --prompt "Python is" --max-new-tokens 64 --greedy
