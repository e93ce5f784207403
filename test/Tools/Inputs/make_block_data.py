"""Writes the inputs and weights of Inputs/block.mlir into the folder argv[1]."""
import json
import os
import struct
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
np.save(os.path.join(out, "x.npy"), rng.standard_normal((5, 16)).astype(np.float32))
np.save(os.path.join(out, "ids.npy"), np.array([1, 0, 9, 3, 3], dtype=np.int64))
np.save(os.path.join(out, "x4.npy"), np.arange(4, dtype=np.float32))
weights = {
    "norm.weight": rng.standard_normal(16), "norm.bias": rng.standard_normal(16),
    "up.weight": rng.standard_normal((32, 16)) / 4, "down.weight": rng.standard_normal((4, 32)) / 6,
    "embed": rng.standard_normal((10, 16)),
}
header, blob = {}, b""
for name, value in weights.items():
    data = value.astype("<f4").tobytes()
    header[name] = {"dtype": "F32", "shape": list(value.shape),
                    "data_offsets": [len(blob), len(blob) + len(data)]}
    blob += data
text = json.dumps(header).encode()
with open(os.path.join(out, "w.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + blob)
