#!/usr/bin/env bash
# The venv bench/amer_peer_recbole.py runs in: RecBole 1.2.1 and the torch,
# numpy and pandas it works with, from PyPI, outside the repository.
#
#   bash bench/amer_peer_setup.sh [VENV]      (default /work/venv-peer)
#
# Pins: numpy < 2 (RecBole uses np.float_), torch < 2.6 (its checkpoint
# reload calls torch.load without weights_only), pandas < 3 (its in-place
# fillna calls do nothing under pandas 3). recbole is installed --no-deps:
# its requirements pull in ray, which quick_start imports at the top; the
# bench drives RecBole's pieces as run_recbole does, without it.
set -euo pipefail
venv=${1:-/work/venv-peer}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c 'import recbole, torch' 2> /dev/null; then
  "$venv/bin/pip" install -q "torch==2.5.1" "numpy<2"
  "$venv/bin/pip" install -q "numpy<2" "pandas<3" scipy scikit-learn pyyaml tqdm colorlog==4.7.2 \
    colorama==0.4.4 tensorboard texttable tabulate psutil thop
  "$venv/bin/pip" install -q --no-deps recbole==1.2.1
fi
echo "$venv/bin/python"
