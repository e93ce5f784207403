#!/usr/bin/env bash
# Builds and runs the CUDA kernel tests on a GPU machine (no MLIR is compiled:
# only mm-cuda-gpu-tests and its MLIR-free libraries), then prints pass/fail and
# the kernel timing table (lightning prefill at 64 heads x d 128 for n = 4K, 16K,
# 64K; lightning decode; attention decode). Everything printed also goes to
# $OUT/gpu-kernels.txt when $OUT is set. Exit status: that of the tests (77 when
# the machine has no usable GPU).
#
#   bash scripts/gpu-kernels-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -n "${OUT:-}" ]; then
  mkdir -p "$OUT"
  exec > >(tee "$OUT/gpu-kernels.txt") 2>&1
fi
start=$(date +%s)
jobs=${JOBS:-16}
build=${BUILD_DIR:-build-gpu}

echo "== gpu-kernels-check: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname)"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

configure() { cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null; }
if ! configure; then
  echo "== configure failed; installing dependencies (scripts/setup.sh) and retrying"
  bash scripts/setup.sh && configure || { echo "gpu-kernels-check: FAIL (configure)"; exit 1; }
fi
if ! cmake --build "$build" -j "$jobs" --target mm-cuda-gpu-tests; then
  echo "gpu-kernels-check: FAIL (build)"
  exit 1
fi
built=$(date +%s)
echo "== built in $((built - start)) s"

# NVRTC results are cached next to the build (the first run compiles them).
export MM_CACHE_DIR="$PWD/$build/nvrtc-cache"
timeout "${TEST_TIMEOUT:-200}" "$build/bin/mm-cuda-gpu-tests" --timing
rc=$?
end=$(date +%s)
case $rc in
  0) verdict="PASS" ;;
  77) verdict="SKIPPED (no usable GPU)" ;;
  124) verdict="FAIL (timed out)" ;;
  *) verdict="FAIL (exit status $rc)" ;;
esac
echo "== gpu-kernels-check: $verdict; build $((built - start)) s, tests and timings $((end - built)) s, total $((end - start)) s"
exit $rc
