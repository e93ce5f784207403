#!/usr/bin/env bash
# The main job on the bundled default: installs dependencies, builds mmc, and
# compiles the bundled example graph through the registered inference pipeline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja
cmake --build build -j "${JOBS:-2}"
./build/bin/mm-opt examples/hybrid-block.mlir -mm-inference-pipeline "$@"
