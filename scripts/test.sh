#!/usr/bin/env bash
# Builds mmc and runs every test: the lit suite (check-mm) and the GoogleTest
# unit tests, both through ctest. Installs its dependencies first (idempotent).
#
#   scripts/test.sh              Release build in build/, every test but the
#                                long soaks (label nightly: scripts/nightly.sh)
#   scripts/test.sh --sanitize   clang-22 AddressSanitizer + UBSan build in
#                                build-asan/: lit + unit tests under the
#                                sanitizers (but label long-sanitized, the
#                                multi-rank training runs: nightly.sh), then
#                                the fuzzers for FUZZ_SECONDS (default 60) s
set -euo pipefail
cd "$(dirname "$0")/.."

mode=release
for arg in "$@"; do
  case "$arg" in
    --sanitize) mode=sanitize ;;
    *) echo "test.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
jobs=${JOBS:-2}

if [ "$mode" = release ]; then
  cmake -S . -B build -G Ninja
  cmake --build build -j "$jobs"
  ctest --test-dir build --output-on-failure -j "$jobs" -LE nightly
  exit 0
fi

# Sanitizer run. Sanitizer reports abort (a crash), so `not mm-opt` in lit tests
# cannot mistake one for an expected failure.
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1
# Line tables are all a sanitizer report needs (file:line in each frame); full
# debug info (-g) only adds compile and link time on two cores.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
  -DMM_SANITIZE=ON -DMM_ENABLE_FUZZERS=ON
[ "${MM_CONFIGURE_ONLY:-0}" = 1 ] && exit 0 # scripts/nightly.sh builds and tests itself
cmake --build build-asan -j "$jobs"
ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE "nightly|long-sanitized"
bash scripts/fuzz.sh build-asan "${FUZZ_SECONDS:-60}"
