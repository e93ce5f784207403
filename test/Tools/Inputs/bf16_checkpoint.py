#!/usr/bin/env python3
"""Writes a bf16 copy of a float32 Hugging Face checkpoint folder (config.json
and one model.safetensors): every F32 tensor rounded to bf16, nearest even.

usage: bf16_checkpoint.py SRC_DIR DST_DIR
"""
import json
import os
import shutil
import struct
import sys

import numpy as np


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    shutil.copy(os.path.join(src, "config.json"), dst)
    with open(os.path.join(src, "model.safetensors"), "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out, blobs, off = {}, [], 0
    for name, t in header.items():
        if name == "__metadata__":
            continue
        raw = data[t["data_offsets"][0]:t["data_offsets"][1]]
        dtype = t["dtype"]
        if dtype == "F32":
            bits = np.frombuffer(raw, "<u4").astype(np.uint64)
            raw = (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype("<u2")).tobytes()
            dtype = "BF16"
        out[name] = {"dtype": dtype, "shape": t["shape"], "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(out).encode()
    h += b" " * (-len(h) % 8)
    with open(os.path.join(dst, "model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


if __name__ == "__main__":
    main(*sys.argv[1:3])
