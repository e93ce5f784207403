#!/usr/bin/env python3
"""Checks weight-only int8 (`--weight-dtype int8`) against NumPy float64.

The int8 storage is defined in runtime/compiled/WeightQuantization.h:
scale_r = max_k |w[r, k]| / 127 in float32, q = round-half-even(w / scale_r)
in float32, element = q * scale_r. This script quantizes the same way in
NumPy float32 (the same IEEE operations, so the same q and scales), then
computes each function in float64 on the dequantized weights q * scale_r
(exact in float64: 7 + 24 bits). The compiled kernel sums x . q in float32
and multiplies by scale_r once, so against that oracle it is within the
float32 bound of check_ops.py: K * n * u * (|want| + max|want|), n the
reduction length, u = 2^-24.

Also checked:
  * against the float32 weights, each output of a linear layer moves by at
    most sum_k |x_k| * scale_r / 2 (the quantization bound) plus rounding,
    and the int8 run is not the f32 run (the int8 path really ran);
  * which weights int8 holds: a table read by mm.embedding and tied to the
    linear's weight stays f32 (`--info` of a compiled binary);
  * a bf16 weight that a kernel reads through a view (a top-level mm.reshape)
    is widened, not read as float32;
  * refusals: the reference backend, int8 rows the CUDA kernels cannot read
    (K = 70, not a multiple of 4), non-finite weights
    (naming the weight and row), --lm-head-dtype on a .mlir module;
  * a row's result does not depend on its neighbours, for f32, bf16 and
    int8: each row computed alone (decode) is bit-identical to the same row
    in a batch (prefill pairs rows into 2 x 4 tiles), for the linear layer
    and the MoE block.

usage: check_int8_weights.py MM_RUN MM_COMPILE
"""
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "eval"))
from check_ops import (U32, grouped_matmul, moe_combine, moe_dispatch, moe_router, silu,  # noqa: E402
                       within, write_safetensors)

F32 = np.float32

MODULE = r"""
// One linear with a bias and an epilogue; K = 70 leaves a tail after the
// 32-wide vector loop, N = 37 a short group of four rows.
func.func @linear(%x: tensor<?x70xf32> {mm.dims = ["N", ""]}) -> tensor<?x37xf32> {
  %w = mm.param "fc.weight" : tensor<37x70xf32>
  %b = mm.param "fc.bias" : tensor<37xf32>
  %y = mm.linear %x, %w, %b : (tensor<?x70xf32>, tensor<37x70xf32>, tensor<37xf32>) -> tensor<?x37xf32>
  %s = mm.silu %y : tensor<?x37xf32>
  return %s : tensor<?x37xf32>
}
// The MoE block: the gate/up pair (fused grouped_gemm_swiglu) and the down
// projection (grouped_gemm) are int8; the router's linear keeps f32.
func.func @moe(%x: tensor<?x64xf32> {mm.dims = ["N", ""]}) -> tensor<?x64xf32> {
  %wr = mm.param "router.weight" : tensor<4x64xf32>
  %w1 = mm.param "w1" : tensor<4x48x64xf32>
  %w3 = mm.param "w3" : tensor<4x48x64xf32>
  %w2 = mm.param "w2" : tensor<4x64x48xf32>
  %l = mm.linear %x, %wr : (tensor<?x64xf32>, tensor<4x64xf32>) -> tensor<?x4xf32>
  %w, %e = mm.moe_router %l {top_k = 2 : i64} : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi64>)
  %d, %off, %ord = mm.moe_dispatch %x, %e {num_experts = 4 : i64} : (tensor<?x64xf32>, tensor<?x2xi64>) -> (tensor<?x64xf32>, tensor<5xi64>, tensor<?xi64>)
  %g = mm.grouped_matmul %d, %w1, %off : (tensor<?x64xf32>, tensor<4x48x64xf32>, tensor<5xi64>) -> tensor<?x48xf32>
  %u = mm.grouped_matmul %d, %w3, %off : (tensor<?x64xf32>, tensor<4x48x64xf32>, tensor<5xi64>) -> tensor<?x48xf32>
  %h = mm.swiglu %g, %u : tensor<?x48xf32>
  %o = mm.grouped_matmul %h, %w2, %off : (tensor<?x48xf32>, tensor<4x64x48xf32>, tensor<5xi64>) -> tensor<?x64xf32>
  %y = mm.moe_combine %o, %ord, %w : (tensor<?x64xf32>, tensor<?xi64>, tensor<?x2xf32>) -> tensor<?x64xf32>
  return %y : tensor<?x64xf32>
}
// A weight read through a view (a top-level mm.reshape of the param): its
// kernel must read the stored bf16, not take the buffer for float32.
func.func @viewed(%x: tensor<?x16xf32> {mm.dims = ["N", ""]}) -> tensor<?x16xf32> {
  %w = mm.param "scale.weight" : tensor<2x8xf32>
  %v = mm.reshape %w [16] : (tensor<2x8xf32>) -> tensor<16xf32>
  %y = mm.mul %x, %v : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}
// A tied table: read by mm.embedding, so it stays f32 although a linear reads it too.
func.func @tied(%ids: tensor<?xi64> {mm.dims = ["N"]}) -> tensor<?x11xf32> {
  %t = mm.param "embed.weight" : tensor<11x32xf32>
  %h = mm.embedding %t, %ids : (tensor<11x32xf32>, tensor<?xi64>) -> tensor<?x32xf32>
  %y = mm.linear %h, %t : (tensor<?x32xf32>, tensor<11x32xf32>) -> tensor<?x11xf32>
  return %y : tensor<?x11xf32>
}
"""


def quantize(w):
    """The runtime's int8 rows, in NumPy float32: (q, scales)."""
    w = np.asarray(w, F32)
    rows = w.reshape(-1, w.shape[-1])
    scale = (np.max(np.abs(rows), axis=1) / F32(127)).astype(F32)
    safe = np.where(scale == 0, F32(1), scale).astype(F32)
    q = np.clip(np.round(rows / safe[:, None]), -127, 127)
    q[scale == 0] = 0
    return q.reshape(w.shape), scale.reshape(w.shape[:-1])


def dequantized(w):
    q, s = quantize(w)
    return q.astype(np.float64) * s.astype(np.float64)[..., None]


class Checker:
    def __init__(self, mm_run, mm_compile, tmp):
        self.mm_run, self.mm_compile, self.tmp = mm_run, mm_compile, tmp
        self.failures = 0
        self.module = os.path.join(tmp, "int8.mlir")
        with open(self.module, "w") as f:
            f.write(MODULE)

    def report(self, ok, what, detail=""):
        print(("ok   " if ok else "FAIL ") + what + (": " + detail if detail else ""))
        self.failures += 0 if ok else 1

    def run(self, args):
        p = subprocess.run(args, capture_output=True, text=True, timeout=300)
        return p.returncode, p.stdout + p.stderr

    def eval(self, function, inputs, params, weight_dtype, backend="cpu"):
        tag = f"{function}.{weight_dtype}.{backend}"
        weights = os.path.join(self.tmp, f"{tag}.safetensors")
        write_safetensors(weights, params)
        args = [self.mm_run, "eval", self.module, "--function", function, "--backend", backend,
                "--params", weights, "--weight-dtype", weight_dtype]
        for i, a in enumerate(inputs):
            path = os.path.join(self.tmp, f"{tag}.in{i}.npy")
            np.save(path, a)
            args += ["--input", "@" + path]
        out = os.path.join(self.tmp, f"{tag}.out.npy")
        code, text = self.run(args + ["--output", "@" + out])
        if code != 0:
            return None, text
        return np.load(out), text


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    mm_run, mm_compile = argv[1], argv[2]
    rng = np.random.default_rng(20261204)
    with tempfile.TemporaryDirectory() as tmp:
        c = Checker(mm_run, mm_compile, tmp)

        # --- linear + bias + silu -------------------------------------------
        x = rng.standard_normal((9, 70)).astype(F32)
        w = rng.standard_normal((37, 70)).astype(F32)
        w[3] *= 40  # rows of very different ranges get their own scales
        w[5] = 0    # an all-zero row: scale 0, q 0
        b = rng.standard_normal(37).astype(F32)
        params = {"fc.weight": w, "fc.bias": b}
        got8, text = c.eval("linear", [x], params, "int8")
        got32, text32 = c.eval("linear", [x], params, "f32")
        if got8 is None or got32 is None:
            c.report(False, "linear runs", text + text32)
        else:
            pre = x.astype(np.float64) @ dequantized(w).T + b
            want = silu(pre)
            ok, why = within(got8, want, U32, 70)
            c.report(ok, "linear int8 vs NumPy float64 on the dequantized weights", why)
            # The quantization bound against the f32 weights: |dw| <= scale/2 per
            # element, so the pre-activation moves by <= sum|x| scale / 2 and silu
            # (slope <= 1.1) by at most 1.1 times that; plus both runs' rounding.
            _, scale = quantize(w)
            bound = 1.1 * (np.abs(x).astype(np.float64) @ (scale.astype(np.float64)[:, None] / 2
                           * np.ones((1, 70))).T) + 2 * 8 * 70 * U32 * (np.abs(want) + np.max(np.abs(want)))
            moved = np.abs(got8.astype(np.float64) - got32)
            c.report(bool(np.all(moved <= bound)), "linear int8 within the quantization bound of f32",
                     f"worst {np.max(moved - bound):.3g} over the bound")
            c.report(bool(np.any(got8 != got32)), "linear int8 differs from f32 (int8 ran)")

        # --- the MoE block ----------------------------------------------------
        xm = rng.standard_normal((7, 64)).astype(F32)
        wr = rng.standard_normal((4, 64)).astype(F32)
        w1, w3 = (rng.standard_normal((4, 48, 64)).astype(F32) / 8 for _ in range(2))
        w2 = rng.standard_normal((4, 64, 48)).astype(F32) / 7
        got, text = c.eval("moe", [xm], {"router.weight": wr, "w1": w1, "w3": w3, "w2": w2}, "int8")
        if got is None:
            c.report(False, "moe runs", text)
        else:
            x64 = xm.astype(np.float64)
            rw, re_ = moe_router(x64 @ wr.astype(np.float64).T, 2)
            d, off, order = moe_dispatch(x64, re_, 4)
            hh = silu(grouped_matmul(d, dequantized(w1), off)) * grouped_matmul(d, dequantized(w3), off)
            want = moe_combine(grouped_matmul(hh, dequantized(w2), off), order, rw)
            # n: the router's 64-term dot and softmax, then 64- and 48-term
            # expert GEMMs and the 2-term combine, as check_ops.py's moe_block.
            ok, why = within(got, want, U32, 64 + 64 + 48 + 2)
            c.report(ok, "moe block int8 (grouped_gemm_swiglu, grouped_gemm; f32 router) vs NumPy", why)

        # --- a bf16 weight read through a view ----------------------------------
        xv = rng.standard_normal((5, 16)).astype(F32)
        sv = (rng.standard_normal((2, 8)) * 3).astype(F32)
        got, text = c.eval("viewed", [xv], {"scale.weight": sv}, "bf16")
        bf = (sv.view(np.uint32) + 0x7FFF + ((sv.view(np.uint32) >> 16) & 1)) & 0xFFFF0000
        want = xv.astype(np.float64) * bf.astype(np.uint32).view(F32).reshape(16)
        # One float32 product of exact operands: within u |want|.
        ok = got is not None and bool(np.all(np.abs(got - want) <= U32 * np.abs(want)))
        c.report(ok, "a bf16 weight read through mm.reshape is widened (not read as float32)",
                 text[-200:] if got is None else f"max |diff| {np.max(np.abs(got - want)):.3g}")

        # --- which weights int8 holds ----------------------------------------
        ids = np.array([0, 3, 10, 7], np.int64)
        t = rng.standard_normal((11, 32)).astype(F32)
        got, text = c.eval("tied", [ids], {"embed.weight": t}, "int8")
        want = t[ids].astype(np.float64) @ t.astype(np.float64).T
        ok, why = (False, text) if got is None else within(got, want, U32, 32)
        c.report(ok, "a table read by mm.embedding stays f32 under int8 (tied LM head)", why)
        for function, expect in [("tied", "(1 f32)"), ("moe", "(1 f32, 3 int8)"), ("linear", "(1 f32, 1 int8)")]:
            binary = os.path.join(tmp, f"{function}.bin")
            code, text = c.run([mm_compile, c.module, "--function", function, "--target", "cpu",
                                "--weight-dtype", "int8", "--max", "N=16", "-o", binary])
            if code == 0:
                code, text = c.run([binary, "--info"])
            c.report(code == 0 and expect in text.splitlines()[0], f"@{function} --info says {expect}",
                     text.splitlines()[0] if text else "")

        # --- decode equals prefill, bit for bit -------------------------------
        moe_params = {"router.weight": wr, "w1": w1, "w3": w3, "w2": w2}
        for dtype in ("f32", "bf16", "int8"):
            for function, xs, ps in (("linear", x, params), ("moe", xm, moe_params)):
                batch, text = c.eval(function, [xs], ps, dtype)
                alone = [c.eval(function, [xs[i:i + 1]], ps, dtype)[0] for i in (0, len(xs) - 1)]
                ok = batch is not None and all(
                    a is not None and np.array_equal(a[0], batch[i])
                    for a, i in zip(alone, (0, len(xs) - 1)))
                c.report(ok, f"@{function} {dtype}: rows alone equal the batch's rows bit for bit", text[-200:])

        # --- refusals ---------------------------------------------------------
        bad = w.copy()
        bad[11, 4] = np.nan
        got, text = c.eval("linear", [x], {"fc.weight": bad, "fc.bias": b}, "int8")
        c.report(got is None and "'fc.weight' row 11" in text and "not finite" in text,
                 "a NaN weight is refused naming the weight and row", text.strip()[-200:])
        got, text = c.eval("linear", [x], params, "int8", backend="reference")
        c.report(got is None and "--backend cpu" in text, "reference backend refuses --weight-dtype",
                 text.strip()[-200:])
        code, text = c.run([mm_compile, c.module, "--function", "linear", "--target", "cuda",
                            "--weight-dtype", "int8", "--max", "N=16", "-o", os.path.join(tmp, "cuda.bin")])
        c.report(code != 0 and "int8 weight rows of 70: the CUDA kernels read" in text
                 and "loc(" in text,
                 "the CUDA target refuses int8 rows of 70 weights, naming the op",
                 text.strip()[-200:])
        code, text = c.run([mm_compile, c.module, "--function", "linear", "--target", "cpu",
                            "--lm-head-dtype", "int8", "-o", os.path.join(tmp, "x.bin")])
        c.report(code != 0 and "--lm-head-dtype is for --model" in text,
                 "--lm-head-dtype refused on a .mlir module", text.strip()[-200:])

        print(f"{c.failures} failure(s)")
        return 1 if c.failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
