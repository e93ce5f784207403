#!/usr/bin/env bash
# Time and peak memory of compiling the full-size MiniMax-Text-01 (80 layers,
# from its config alone: no weights are read) for each target, with and
# without --emit-kernels, from cold kernel caches (MM_CACHE_DIR is a fresh
# folder per run) and again warm. Issue 12 asks for under 10 s and 2 GiB on
# a 2-core machine. Needs a build; the CUDA target compiles with NVRTC, which
# needs no GPU.
#
#   bash bench/compile_cost.sh [CONFIG]
set -euo pipefail
cd "$(dirname "$0")/.."
cfg=${1:-test/data/configs/minimax-text-01.json}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; config $cfg"
echo "| target | --emit-kernels | cache | wall s | peak resident MiB |"
echo "|---|---|---|---:|---:|"
for target in cpu cuda; do
  for emit in no yes; do
    export MM_CACHE_DIR=$work/cache-$target-$emit
    for cache in cold warm; do
      args=(--config "$cfg" --target "$target" -o "$work/bin")
      [ "$emit" = yes ] && args+=(--emit-kernels "$work/kernels")
      /usr/bin/time -f "%e %M" -o "$work/time" build/bin/mm-compile "${args[@]}" > /dev/null
      read -r wall kb < "$work/time"
      echo "| $target | $emit | $cache | $wall | $((kb / 1024)) |"
      rm -rf "$work/kernels" "$work/bin"
    done
  done
done
