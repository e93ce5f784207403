#!/usr/bin/env bash
# Prints the "what fits where" table of docs/parallelism.md: mm-plan on the
# full MiniMax-Text-01 config for 1-64 GPUs, bf16 / int8 weights, 128K and 1M
# tokens, inference (batch 1) and training (bf16, batch = one sequence per GPU),
# then the published training points (M1's RL on 512 H800s at 40K and 80K
# tokens, pretraining on 1,536 and 2,048 H800s at 8K tokens, 128M tokens a
# step); mm-plan chooses each layout. H800 / H100 figures except the H200 rows.
#
#   bash scripts/plan_table.sh [BUILD_DIR]      # default: build
set -euo pipefail
cd "$(dirname "$0")/.."
plan="${1:-build}/bin/mm-plan"
config=test/data/configs/minimax-text-01.json
h200="--hbm-gbps 4800 --intra-node-gbps 450" # H200: 4.8 TB/s HBM3e, NVLink 900 GB/s both ways

echo "| GPUs | GiB each | mode | weights | context | batch | fits | layout (mm-plan's choice) | GiB per GPU | step s | decode step ms |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
row() { # gpus memory mode dtype context [extra flags]
  local gpus=$1 mem=$2 mode=$3 dtype=$4 ctx=$5
  shift 5
  local train=""
  [[ $mode == training ]] && train=--train
  "$plan" --config "$config" --gpus "$gpus" --gpu-memory-gb "$mem" --weight-dtype "$dtype" --context "$ctx" \
    $train "$@" --json | tail -1 | python3 -c '
import json, sys
j = json.load(sys.stdin)
gib = j["per_gpu_bytes"]["total"] / 2**30
ctx = {131072: "128K", 1048576: "1M", 40960: "40K", 81920: "80K", 8192: "8K"}.get(j["context"], j["context"])
decode = "%.1f" % (j["decode_step_seconds"] * 1e3) if "decode_step_seconds" in j else "-"
print("| %d | %s | %s | %s | %s | %d | %s | `%s` | %.1f | %.3g | %s |" % (j["gpus"], sys.argv[1], j["mode"],
      j["weight_dtype"], ctx, j["batch"], "yes" if j["fits"] else "**no**", j["layout"], gib, j["step_seconds"], decode))
' "$mem"
}
for ctx in 131072 1048576; do
  for dtype in bf16 int8; do
    for gpus in 1 2 4 8; do row $gpus 80 inference $dtype $ctx; done
    row 8 140 inference $dtype $ctx $h200
    row 16 80 inference $dtype $ctx
    row 64 80 inference $dtype $ctx
  done
done
for ctx in 131072 1048576; do
  row 8 80 training bf16 $ctx
  row 8 140 training bf16 $ctx $h200
  for gpus in 16 64 512 2048; do row $gpus 80 training bf16 $ctx; done
done
row 512 80 training bf16 40960
row 512 80 training bf16 81920
row 1536 80 training bf16 8192 --batch 16384
row 2048 80 training bf16 8192 --batch 16384
