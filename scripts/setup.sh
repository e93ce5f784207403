#!/usr/bin/env bash
# Installs every system dependency of mmc. Idempotent: packages already present are skipped.
#   scripts/setup.sh           build + test dependencies (what CI needs)
#   scripts/setup.sh --python  also the Python packages used by the oracle scripts and benches
set -euo pipefail

APT_PACKAGES=(
  cmake ninja-build g++ git
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools libzstd-dev
  clang-22 libclang-rt-22-dev libfuzzer-22-dev
  libprotobuf-dev protobuf-compiler
  libopenmpi-dev openmpi-bin
  nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  libonig-dev pkg-config zlib1g-dev libpng-dev libjpeg62-turbo-dev
  python3-numpy python3-pil
)

want_python=0
for arg in "$@"; do
  case "$arg" in
    --python) want_python=1 ;;
    *) echo "setup.sh: unknown argument '$arg'" >&2; exit 2 ;;
  esac
done

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup.sh: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: system packages already installed"
fi

if ((want_python)); then
  # The oracle scripts (test data generation) and benches use torch, transformers,
  # tokenizers and safetensors from PyPI (the versions the committed data was made
  # with are in docs/design.md; newer ones should agree).
  PY=${PYTHON:-python3}
  if ! "$PY" -c 'import torch, transformers, tokenizers, safetensors, numpy' 2>/dev/null; then
    "$PY" -m pip install -q torch transformers tokenizers safetensors numpy
  else
    echo "setup.sh: python packages already installed"
  fi
fi
