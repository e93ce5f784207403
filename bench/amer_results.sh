#!/usr/bin/env bash
# AMER against its baselines: for each dataset and task, one three-stage
# search (seed 0), then the searched architecture and DIN, SASRec, DeepFM,
# DCN and MLP each trained from scratch with three seeds (early stopping on
# validation), test metrics as mean and spread. Writes the raw JSON lines to
# $OUT/*.jsonl and prints the markdown tables of docs/amer.md.
#
#   bash bench/amer_results.sh [OUT]        (default /tmp/amer-results)
#   DATASETS="planted ml-100k" TASKS="ctr seq" SEEDS="0 1 2" THREADS=2
# MovieLens-100K comes from scripts/fetch_movielens.sh (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/amer-results}
bin=${MM_BIN:-./build/bin}
seeds=${SEEDS:-"0 1 2"}
tasks=${TASKS:-"ctr seq"}
datasets=${DATASETS:-"planted ml-100k"}
threads=${THREADS:-2}
mkdir -p "$out"
export MM_CACHE_DIR=${MM_CACHE_DIR:-$out/kernel-cache}

for dataset in $datasets; do
  case $dataset in
    planted)
      data=$out/planted
      [ -s "$data/planted.inter" ] || "$bin/mm-amer" plant --out "$data" --seed 1 --users 1000 > /dev/null
      opts=(--max-sequence 8 --batch-size 256 --negatives 20) # planted: 60 items
      search=(--epochs 4 --children 16) ;;
    ml-100k)
      data=$(bash scripts/fetch_movielens.sh)
      opts=(--max-sequence 50 --batch-size 1024)
      search=(--epochs 2 --children 12) ;;
    *) echo "unknown dataset $dataset" >&2; exit 2 ;;
  esac
  for task in $tasks; do
    tag=$dataset-$task
    common=(--data "$data" --task "$task" --threads "$threads" "${opts[@]}")
    if [ ! -s "$out/$tag-search/architecture.json" ]; then
      /usr/bin/time -f "%e" -o "$out/$tag-search.seconds" \
        "$bin/mm-amer" search "${common[@]}" --seed 0 --stages 1,2,3 "${search[@]}" \
        --out "$out/$tag-search" > /dev/null 2> "$out/$tag-search.log"
    fi
    : > "$out/$tag.jsonl"
    for seed in $seeds; do
      "$bin/mm-amer" eval "${common[@]}" --seed "$seed" --json --epochs 20 \
        --arch "$out/$tag-search/architecture.json" 2> /dev/null | tail -1 >> "$out/$tag.jsonl"
      for baseline in din sasrec deepfm dcn mlp; do
        "$bin/mm-amer" eval "${common[@]}" --seed "$seed" --json --epochs 20 \
          --baseline "$baseline" 2> /dev/null | tail -1 >> "$out/$tag.jsonl"
      done
    done
  done
done
/usr/bin/python3 bench/amer_table.py "$out"
