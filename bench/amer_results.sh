#!/usr/bin/env bash
# AMER against its baselines: for each dataset and task, one three-stage
# search (seed 0), then the searched architecture and DIN, SASRec, DeepFM,
# DCN and MLP each trained from scratch with three seeds (early stopping on
# validation), test metrics as mean and spread. Writes the raw JSON lines to
# $OUT/*.jsonl and prints the markdown tables of docs/amer.md.
#
#   bash bench/amer_results.sh [OUT]        (default /tmp/amer-results)
#   DATASETS="planted ml-100k" TASKS="ctr seq" SEEDS="0 1 2" THREADS=2
#   MODELS="searched din sasrec deepfm dcn mlp"
# Resumable: a (model, seed) already in $OUT/TAG.jsonl is not run again, so a
# long table (MovieLens-100K: hours on 2 cores) can be filled over several
# runs; delete the .jsonl (or OUT) to start over after the code changes.
# MovieLens-100K comes from scripts/fetch_movielens.sh (never committed).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/amer-results}
bin=${MM_BIN:-./build/bin}
seeds=${SEEDS:-"0 1 2"}
tasks=${TASKS:-"ctr seq"}
datasets=${DATASETS:-"planted ml-100k"}
models=${MODELS:-"searched din sasrec deepfm dcn mlp"}
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
    rows=$out/$tag.jsonl
    touch "$rows"
    # has MODEL SEED: is that run's JSON line already in $rows?
    has() {
      /usr/bin/python3 -c 'import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
sys.exit(not any(r["model"] == sys.argv[2] and r["seed"] == int(sys.argv[3]) for r in rows))' \
        "$rows" "$1" "$2"
    }
    for seed in $seeds; do
      for model in $models; do
        has "$model" "$seed" && continue
        if [ "$model" = searched ]; then
          if [ ! -s "$out/$tag-search/architecture.json" ]; then
            /usr/bin/time -f "%e" -o "$out/$tag-search.seconds" \
              "$bin/mm-amer" search "${common[@]}" --seed 0 --stages 1,2,3 "${search[@]}" \
              --out "$out/$tag-search" > /dev/null 2> "$out/$tag-search.log"
          fi
          which=(--arch "$out/$tag-search/architecture.json")
        else
          which=(--baseline "$model")
        fi
        line=$("$bin/mm-amer" eval "${common[@]}" --seed "$seed" --json --epochs 20 \
          "${which[@]}" 2> /dev/null | tail -1)
        case $line in
          "{"*) echo "$line" >> "$rows" ;;
          *) echo "$tag $model seed $seed failed: $line" >&2; exit 1 ;;
        esac
      done
    done
  done
done
/usr/bin/python3 bench/amer_table.py "$out"
