#!/usr/bin/env python3
"""The CPU kernel kinds of any mm module against NumPy and the reference
executor, in one script, on this machine.

    /usr/bin/python3 bench/generic_cpu_bench.py [--repeat 10] [--threads N]

For each function of bench/modules/kinds.mlir (one op each): the median time
per call of
  * mmc compiled: `mm-run eval --backend cpu --repeat` (generated C++; the
    compile is not timed, the call is: kernels plus argument checks);
  * mmc reference: `mm-run eval --backend reference --repeat` (the oracle);
  * NumPy float32 (OpenBLAS for the matmuls), timed in process.
It prints achieved GFLOP/s (matmul, conv) or GB/s (the rest: bytes read plus
written once) next to the limits of this machine: the float32 FMA peak from
/proc/cpuinfo (cores x MHz x 2 FMA units x vector lanes x 2; AVX-512: 16
lanes, AVX2: 8; the two-unit count is an assumption this script states) and
the memory bandwidth of a 256 MiB NumPy copy.
The table goes to docs/performance.md.
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MM_RUN = os.path.join(ROOT, "build", "bin", "mm-run")
MODULE = os.path.join(ROOT, "bench", "modules", "kinds.mlir")
F = np.float32


def cases(rng):
    x4k = rng.standard_normal((4096, 1024)).astype(F)
    a, b = rng.standard_normal((512, 512)).astype(F), rng.standard_normal((512, 512)).astype(F)
    g, beta = rng.standard_normal(1024).astype(F), rng.standard_normal(1024).astype(F)
    logits = rng.standard_normal((1024, 8192)).astype(F)
    labels = rng.integers(0, 8192, 1024).astype(np.int64)
    img = rng.standard_normal((4, 3, 224, 224)).astype(F)
    w = (rng.standard_normal((768, 3, 16, 16)) / 16).astype(F)
    t = rng.standard_normal((2048, 2048)).astype(F)

    def softmax(x):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    def layer_norm(x):
        m = x.mean(-1, keepdims=True)
        return (x - m) / np.sqrt(x.var(-1, keepdims=True) + F(1e-5)) * g + beta

    def cross_entropy(x):
        m = x.max(-1, keepdims=True)
        lse = np.log(np.exp(x - m).sum(-1)) + m[:, 0]
        return (lse - x[np.arange(len(labels)), labels]).mean()

    def patches(x):  # conv2d at stride = kernel: a reshape and one matmul
        p = x.reshape(4, 3, 14, 16, 14, 16).transpose(0, 2, 4, 1, 3, 5).reshape(4 * 196, 768)
        return (p @ w.reshape(768, 768).T).reshape(4, 14, 14, 768).transpose(0, 3, 1, 2)

    dy = rng.standard_normal((4, 768, 14, 14)).astype(F)

    def patches_grad(x):  # its backward: two matmuls and the inverse reshape
        p = x.reshape(4, 3, 14, 16, 14, 16).transpose(0, 2, 4, 1, 3, 5).reshape(4 * 196, 768)
        g = dy.transpose(0, 2, 3, 1).reshape(4 * 196, 768)
        dw = (g.T @ p).reshape(768, 3, 16, 16)
        dp = g @ w.reshape(768, 768)
        return dp.reshape(4, 14, 14, 3, 16, 16).transpose(0, 3, 1, 4, 2, 5).reshape(x.shape), dw

    mb = lambda *arrays: sum(x.nbytes for x in arrays)
    # name, inputs, numpy function, flops (0: bandwidth-bound), bytes moved
    return [
        ("matmul", [a, b], lambda: a @ b, 2 * 512**3, 0),
        ("matmul_bt", [a, b], lambda: a @ b.T, 2 * 512**3, 0),
        ("softmax", [x4k], lambda: softmax(x4k), 0, 2 * mb(x4k)),
        ("layer_norm", [x4k, g, beta], lambda: layer_norm(x4k), 0, 2 * mb(x4k)),
        ("reduce_sum", [x4k], lambda: x4k.sum(1), 0, mb(x4k)),
        ("transpose", [t], lambda: np.ascontiguousarray(t.T), 0, 2 * mb(t)),
        ("cross_entropy", [logits, labels], lambda: cross_entropy(logits), 0, mb(logits)),
        ("conv2d_patches", [img, w], lambda: patches(img), 2 * 4 * 768 * 196 * 768, 0),
        ("conv2d_patches_grad", [img, w, dy], lambda: patches_grad(img), 2 * 2 * 4 * 768 * 196 * 768, 0),
    ]


def numpy_median(fn, repeat):
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1e3


def mmc_median(function, files, backend, repeat, threads):
    args = [MM_RUN, "eval", MODULE, "--function", function, "--backend", backend,
            "--repeat", str(repeat)]
    if threads:
        args += ["--threads", str(threads)]
    for f in files:
        args += ["--input", "@" + f]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return float(re.search(r"median ([0-9.e+-]+) ms", out).group(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--reference-repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="run these functions only")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    big = np.ones(64 << 20, F)  # 256 MiB
    copy_ms = numpy_median(lambda: big.copy(), 5)
    bandwidth = 2 * big.nbytes / copy_ms / 1e6  # read + write, GB/s
    info = open("/proc/cpuinfo").read()
    mhz = float(re.search(r"cpu MHz\s*:\s*([0-9.]+)", info).group(1))
    lanes = 16 if " avx512f" in info else 8 if " avx2" in info else 4
    peak = os.cpu_count() * mhz * 1e-3 * 2 * lanes * 2  # GFLOP/s
    model = re.search(r"model name\s*:\s*(.*)", info).group(1)
    print(f"# {model}, {os.cpu_count()} cores at {mhz:.0f} MHz, {lanes} float lanes; "
          f"threads {args.threads or 'all'}; numpy {np.__version__}")
    print(f"# limits: {bandwidth:.1f} GB/s (256 MiB copy), {peak:.0f} GFLOP/s float32 FMA peak "
          f"(assuming 2 FMA units per core)")
    print("| function | mmc compiled ms | NumPy ms | reference ms | compiled / NumPy | "
          "compiled / reference | achieved | of limit |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, inputs, fn, flops, moved in cases(rng):
            if args.only and name not in args.only:
                continue
            files = []
            for i, x in enumerate(inputs):
                files.append(os.path.join(tmp, f"{name}.{i}.npy"))
                np.save(files[-1], x)
            ours = mmc_median(name, files, "cpu", args.repeat, args.threads)
            ref = mmc_median(name, files, "reference", args.reference_repeat, args.threads)
            theirs = numpy_median(fn, args.repeat)
            if flops:
                rate, limit, unit = flops / ours / 1e6, peak, "GFLOP/s"
            else:
                rate, limit, unit = moved / ours / 1e6, bandwidth, "GB/s"
            print(f"| {name} | {ours:.2f} | {theirs:.2f} | {ref:.2f} | {theirs / ours:.2f}x | "
                  f"{ref / ours:.2f}x | {rate:.1f} {unit} | {rate / limit:.2f} |")


if __name__ == "__main__":
    main()
