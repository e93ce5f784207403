#!/usr/bin/env bash
# The long soaks CI leaves out (ctest label `nightly`): today the full AMER
# search on planted data, which asserts the recovery (~11 minutes on 2 cores).
# Builds first, as scripts/test.sh does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja
cmake --build build -j "${JOBS:-2}"
ctest --test-dir build --output-on-failure -L nightly
