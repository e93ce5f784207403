#!/usr/bin/python3
"""Compares the GPU's training step (scripts/gpu/make_train_step.py) with the
CPU target's.

Usage: compare_train_step.py PACK_DIR GPU_DIR

Bounds: test/autodiff/check_training_step.py holds each compiled target
within 2^12 u32 (relative) of NumPy float64 on the gradient norm, and within
2^12 u32 lr (max|w| + lr) on the weights after the AdamW step; so two targets
are within twice that of each other. The gradients themselves are held to
2^12 u32 of their float64 values (check_gradients.py); the loss, a float32
sum of the same terms, and the moments m = (1 - beta1) g and v = (1 - beta2)
g^2 of the clipped gradient get that bound (twice, for v's square) relative
to their largest entry, doubled for two targets.
"""
import os
import sys

import numpy as np

U = 2.0 ** -24 * 2.0 ** 12


def main(argv):
    pack, gpu = argv[1], argv[2]
    n, lr = open(os.path.join(pack, "layout.txt")).read().split()
    n, lr = int(n), float(lr)
    worst, failed = {}, False
    for j in range(2 + 3 * n):
        want = np.load(os.path.join(pack, f"cpu{j}.npy")).astype(np.float64)
        got = np.load(os.path.join(gpu, f"gpu-step{j}.npy")).astype(np.float64)
        what = "loss" if j == 0 else "grad_norm" if j == 1 else ["weights", "m", "v"][(j - 2) // n]
        scale = np.abs(want).max() if want.size else 0.0
        bound = {"loss": 2 * U * scale, "grad_norm": 2 * U * scale, "weights": 2 * U * lr * (scale + lr),
                 "m": 2 * U * scale, "v": 4 * U * scale}[what]
        diff = float(np.abs(got - want).max()) if want.size else 0.0
        if got.shape != want.shape or not diff <= bound:
            print(f"training step output {j} ({what}): shape {got.shape} vs {want.shape}, "
                  f"max |gpu - cpu| {diff:.3g} > {bound:.3g}")
            failed = True
        worst[what] = max(worst.get(what, 0.0), diff / bound if bound else 0.0)
    print("training step (tiny_lm, AdamW) on CUDA against the CPU target: worst error / bound " +
          ", ".join(f"{k} {v:.2g}" for k, v in worst.items()) + (" FAIL" if failed else " PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
