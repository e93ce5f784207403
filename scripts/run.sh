#!/usr/bin/env bash
# The main job: installs dependencies, builds mmc, and generates text with the
# bundled tiny MiniMax model (examples/minimax-tiny) on the compiled host path
# (mm-run --backend cpu: generated C++, compiled and cached), printing the
# text, tokens/s and the path that ran. Arguments replace the defaults, so the
# same command runs any Hugging Face-format MiniMax checkpoint folder:
#   bash scripts/run.sh --model /path/to/MiniMax-Text-01-hf --prompt "Hello" --max-new-tokens 32
# Without a --backend among them it is still the compiled host path;
# --backend reference runs the reference executor (the oracle), --backend cuda
# the CUDA one.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja
cmake --build build -j "${JOBS:-2}"
if [ $# -eq 0 ]; then
  set -- --model examples/minimax-tiny --prompt "Beautiful is better than" --max-new-tokens 48 --greedy
fi
backend=cpu
for arg in "$@"; do
  case "$arg" in --backend | --backend=*) backend= ;; esac
done
if [ -n "$backend" ]; then
  set -- "$@" --backend "$backend"
  echo "scripts/run.sh: mm-run generate on the compiled host path (--backend cpu; give" \
    "--backend reference for the reference executor)" >&2
fi
./build/bin/mm-run generate "$@"
