#!/usr/bin/python3
"""Packs a training step for scripts/gpu-check.sh: one AdamW step of the tiny
hybrid MoE language model of test/autodiff/cases/model.mlir (forward,
backward and optimizer kernels in one function), with its arguments and the
CPU target's results.

Usage: make_train_step.py MM_OPT MM_RUN OUT_DIR [RESULTS_DIR]

Writes OUT_DIR/step.mlir (@tiny_lm_train_step), in<i>.npy (the arguments:
the data, weights, zero moments, lr 3e-3, step 1), cpu<j>.npy (what the CPU
target computes), flags.txt (the --input / --output flags of an AOT binary of
the step, which writes RESULTS_DIR/gpu-step<j>.npy; default /tmp) and
layout.txt (the weight count and lr, for compare_train_step.py). The CPU
target itself is checked against NumPy AdamW by
test/autodiff/check_training_step.py.
"""
import os
import subprocess
import sys

import numpy as np

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(root, "test", "autodiff"))
import check_gradients as cg  # noqa: E402

LR = 3e-3


def main(argv):
    if len(argv) not in (4, 5):
        print(__doc__)
        return 2
    mm_opt, mm_run, out = argv[1], argv[2], argv[3]
    results = argv[4] if len(argv) == 5 else "/tmp"
    os.makedirs(out, exist_ok=True)
    src = os.path.join(root, "test", "autodiff", "cases", "model.mlir")
    step = os.path.join(out, "step.mlir")
    subprocess.run([mm_opt, src, "-mm-autodiff=function=tiny_lm",
                    "-mm-training-step=function=tiny_lm", "-o", step], check=True)
    cg.build_cases()
    case = next(c for c in cg.CASES if c.fn == "tiny_lm")
    args, _, params = cg.make_inputs(case, open(src).read(), seed=99)
    names = list(params)
    step_args = list(args) + [params[k] for k in names] + \
        [np.zeros_like(params[k]) for k in names] * 2 + [np.array(LR), np.array(1.0)]
    flags, cpu = [], [mm_run, "eval", step, "--function", "tiny_lm_train_step", "--backend", "cpu"]
    for i, a in enumerate(step_args):
        path = os.path.join(out, f"in{i}.npy")
        np.save(path, a.astype(np.float32) if a.dtype == np.float64 else a)
        flags += ["--input", "@" + path]
        cpu += ["--input", "@" + path]
    count = 2 + 3 * len(names)  # loss, gradient norm, then weights, m, v
    for j in range(count):
        flags += ["--output", "@" + os.path.join(results, f"gpu-step{j}.npy")]
        cpu += ["--output", "@" + os.path.join(out, f"cpu{j}.npy")]
    subprocess.run(cpu, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "flags.txt"), "w") as f:
        f.write(" ".join(flags) + "\n")
    with open(os.path.join(out, "layout.txt"), "w") as f:
        f.write(f"{len(names)} {LR}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
