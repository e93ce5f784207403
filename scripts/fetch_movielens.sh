#!/usr/bin/env bash
# MovieLens-100K as RecBole atomic files, from the RecBole wheel on PyPI (its
# dataset_example/ml-100k), into a cache outside the repository: the
# MovieLens terms forbid redistribution, so it is fetched at run time and
# never committed. Prints the dataset folder.
#
#   bash scripts/fetch_movielens.sh [CACHE_DIR]   (default ~/.cache/mmc)
set -euo pipefail
cache=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/mmc}
dir="$cache/ml-100k"
if [ ! -s "$dir/ml-100k.inter" ]; then
  mkdir -p "$cache/wheel" "$dir"
  python3 -m pip download --quiet --no-deps recbole==1.2.1 -d "$cache/wheel" >&2
  python3 - "$cache/wheel/recbole-1.2.1-py3-none-any.whl" "$dir" <<'PY'
import os, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as z:
    for ext in ("inter", "user", "item"):
        data = z.read(f"recbole/dataset_example/ml-100k/ml-100k.{ext}")
        tmp = os.path.join(out, f"ml-100k.{ext}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(out, f"ml-100k.{ext}"))
PY
fi
echo "$dir"
