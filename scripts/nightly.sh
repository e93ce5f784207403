#!/usr/bin/env bash
# The long soaks CI leaves out: the tests labelled `nightly` (today the full
# AMER search on planted data, which asserts the recovery, ~11 minutes on 2
# cores), then the multi-rank training runs (label long-sanitized) under the
# sanitizers, which CI runs only in its release pass (~7 minutes).
# Builds first, as scripts/test.sh does (release, then the sanitizer build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -G Ninja
cmake --build build -j "${JOBS:-2}"
ctest --test-dir build --output-on-failure -L nightly
# The sanitizer build of scripts/test.sh --sanitize (its cmake flags, one place).
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1
MM_CONFIGURE_ONLY=1 bash scripts/test.sh --sanitize
cmake --build build-asan -j "${JOBS:-2}"
ctest --test-dir build-asan --output-on-failure -L long-sanitized
