#!/usr/bin/env bash
# The main job: installs dependencies, builds mmc, and generates text with the
# bundled tiny MiniMax model (examples/minimax-tiny) on the reference executor,
# printing the text and tokens/s. Arguments replace the defaults, so the same
# command runs any Hugging Face-format MiniMax checkpoint folder:
#   bash scripts/run.sh --model /path/to/MiniMax-Text-01-hf --prompt "Hello" --max-new-tokens 32
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja
cmake --build build -j "${JOBS:-2}"
if [ $# -eq 0 ]; then
  set -- --model examples/minimax-tiny --prompt "Beautiful is better than" --max-new-tokens 48 --greedy
fi
./build/bin/mm-run generate "$@"
