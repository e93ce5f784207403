#!/usr/bin/python3
"""Checks every mm op, run through `mm-run eval`, against NumPy.

Usage: check_ops.py MM_RUN CASES_DIR [--filter SUBSTRING] [--backends reference,cpu,cuda]

Every case runs a function of one of CASES_DIR/*.mlir on deterministic inputs
(numpy default_rng with fixed seeds) and compares its outputs with an
independent float64 NumPy implementation of the op's *documented* semantics:
the op descriptions in ir/ops/*.td (docs/generated/MMDialect.md) and the model
specs in /work/shared/spec/*.md. The NumPy code below was written from those
documents, not from the C++ kernels in reference/kernels/.

Each case runs twice:
  * `--backend reference --precision f64` (the oracle executor in float64),
    compared with a float64 tolerance;
  * `--backend cpu` (generated C++, float32), compared with a float32
    tolerance where it compiles; where the compiled path refuses the function,
    the error must be one of REFUSALS (below) and carry a loc(...);
  * with `--backends ...,cuda`: `--backend cuda` (generated CUDA, float32), the
    same bound as cpu; where the CUDA generator refuses the function, the
    error must be one of CUDA_REFUSALS with a loc(...). CI runs it on the fake
    CUDA toolkit (test/cuda/fakecuda: the kernels on the CPU emulator).
Error-path cases check the messages of bad invocations (wrong input count,
bad input shape, missing --params tensor) and the errors the op descriptions
promise "when the graph runs" (ids / indices out of range, cache overflow,
image placeholder count).

Prints one line per check and ends with `N passed, M failed`; exits non-zero
when anything failed. Expected failures (XFAIL) are disagreements between
mm-run and the documents that are described in the report of the session that
wrote this test; they count as neither passed nor failed, and an XFAIL case
that starts passing is reported as XPASS (so the marker can be removed).
"""

import json
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

F64 = np.float64

# ---------------------------------------------------------------------------
# Tolerances.
#
# Every float comparison is elementwise
#     |got - want| <= K * n * u * (|want| + mag)
# with u the unit roundoff of the precision mm-run computed in, n the length
# of the longest chain of roundings that produced an element (the reduction
# length of a dot product / sum / softmax, the number of recurrence steps times
# the per-step reduction for GRU and lightning attention), and mag the
# magnitude of the terms being combined (by default max|want| over the output,
# or given per case where the terms are larger than the result, e.g. a loss
# that sums terms of both signs). The |want| term is the classic relative
# bound of a length-n sum (gamma_n = n u); the mag term is the absolute floor
# that covers cancellation, where the error scales with the terms, not with
# the (small) result.
#
# n = 0 demands bit-exact results: data movement (reshape, gather, slice, top_k
# values, max/min, relu, ...) and casts of exact values involve no rounding.
# mag = 0 makes the bound purely relative: one correctly rounded operation on
# exact inputs (add, sub, mul, div, sqrt) is within u |result| whatever the
# signs, and exp / sigmoid / tanh / rsqrt have no cancellation.
#
#  * reference at --precision f64 vs NumPy float64: both sides round in
#    float64, u = 2^-53 = 1.1e-16. K = 8 absorbs the few-ulp error of libm
#    transcendental functions (exp, log, tanh, erf, cos/sin: <= 1-2 ulp each)
#    applied on both sides, plus the one or two extra roundings per element
#    outside the reduction. For the small shapes here (n <= ~50) the bound is
#    at most ~5e-14 relative: well inside "1e-12 relative plus an absolute
#    floor", and nowhere near the 1e-7 an accidental float32 step would leave.
#  * cpu backend (float32) vs NumPy float64: u = 2^-24 = 6.0e-8, same K.
#    The inputs are exactly representable in float32 (they are generated in
#    float32 and widened), so the only error is float32 arithmetic inside
#    mm-run: n u |terms| per length-n reduction, a few ulps per transcendental.
# ---------------------------------------------------------------------------
U64 = 2.0 ** -53
U32 = 2.0 ** -24
K_SAFETY = 8.0

REF_FLAGS = ["--backend", "reference", "--precision", "f64"]
CPU_FLAGS = ["--backend", "cpu"]


def within(got, want, u, n, mag=None):
    """Elementwise bound above. NaN entries of `want` are "don't care"."""
    got = np.asarray(got, F64)
    want = np.asarray(want, F64)
    care = ~np.isnan(want)
    if mag is None:
        mag = float(np.max(np.abs(want[care]))) if care.any() else 0.0
    bound = K_SAFETY * n * u * (np.abs(want) + mag)  # n = 0: must be exact
    err = np.abs(got - want)
    bad = care & ~(err <= bound)
    if bad.any():
        i = np.unravel_index(np.argmax(np.where(care, err - bound, -np.inf)), want.shape) if want.ndim else ()
        return False, (f"{int(bad.sum())} of {int(care.sum())} elements off; worst at {tuple(int(v) for v in i)}: "
                       f"got {got[i]!r} want {want[i]!r} (|err| {err[i]:.3g} > bound {bound[i]:.3g})")
    return True, ""


# ---------------------------------------------------------------------------
# Deterministic inputs. Float inputs are generated as float32 values and held
# as float64, so the same numbers are exact for both backends.
# ---------------------------------------------------------------------------
def rng(seed):
    return np.random.default_rng(seed)


def fl(seed, shape, lo=-1.0, hi=1.0):
    return rng(seed).uniform(lo, hi, size=shape).astype(np.float32).astype(F64)


def normal(seed, shape, scale=1.0):
    return (rng(seed).standard_normal(size=shape) * scale).astype(np.float32).astype(F64)


def ints(seed, shape, lo, hi):
    return rng(seed).integers(lo, hi, size=shape).astype(np.int64)


def i64(values):
    return np.asarray(values, dtype=np.int64)


def f32exact(values):
    return np.asarray(values, dtype=np.float32).astype(F64)


# ---------------------------------------------------------------------------
# NumPy implementations, from the documents.
# ---------------------------------------------------------------------------
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def silu(x):
    return x * sigmoid(x)


_erf = np.vectorize(math.erf, otypes=[F64])


def gelu(x):  # x * Phi(x), exact normal CDF
    return x * 0.5 * (1.0 + _erf(x / math.sqrt(2.0)))


def gelu_tanh(x):  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def rms_norm(x, g, eps):  # weight * (x / sqrt(mean(x^2) + eps))
    return g * (x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps))


def layer_norm(x, g, b, eps):  # biased variance
    mu = np.mean(x, axis=-1, keepdims=True)
    var = np.mean((x - mu) ** 2, axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def matmul(a, b, tl=False, tr=False):
    if tl:
        a = np.swapaxes(a, -1, -2)
    if tr:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


def rope(x, pos, rotary_dim, theta):
    """Rotate-half RoPE on dims [0, rotary_dim) of each head (AttentionOps.td)."""
    half = rotary_dim // 2
    inv_freq = theta ** (-2.0 * np.arange(half) / rotary_dim)
    a = pos.astype(F64)[:, :, None, None] * inv_freq  # [b, s, 1, half]
    c, s = np.cos(a), np.sin(a)
    y = x.copy()
    x1, x2 = x[..., :half], x[..., half:rotary_dim]
    y[..., :half] = x1 * c - x2 * s
    y[..., half:rotary_dim] = x2 * c + x1 * s
    return y


def _attend(qv, keys, vals, allowed, scale):
    s = (qv @ keys.T) * scale
    s = np.where(allowed, s, -np.inf)
    return softmax(s, -1) @ vals


def attention(q, k, v, causal, scale=None, start=0, key_mask=None):
    """Query i (at key position start + i) sees keys j <= start + i when causal,
    and only keys where key_mask[b, j] != 0; a query that sees none is zero."""
    b_, tq, hq, d = q.shape
    hk = k.shape[2]
    group = hq // hk
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    out = np.zeros((b_, tq, hq, v.shape[3]))
    for b in range(b_):
        for h in range(hq):
            kh = h // group
            keys, vals = k[b, :, kh], v[b, :, kh]
            i = np.arange(tq)[:, None]
            j = np.arange(keys.shape[0])[None, :]
            allowed = (j <= i + start) if causal else np.ones((tq, keys.shape[0]), bool)
            if key_mask is not None:
                allowed = allowed & (key_mask[b][None, :] != 0)
            rows = allowed.any(axis=1)
            out[b, rows, h] = _attend(q[b, rows, h], keys, vals, allowed[rows], scale)
    return out


def attention_cache(q, k, v, kc, vc, cp, causal, scale=None):
    """Writes k/v at cp[b].., attends query i (absolute cp[b]+i) to cached keys
    up to its position (causal) or to every written key (not causal)."""
    b_, tq, hq, d = q.shape
    hk = k.shape[2]
    group = hq // hk
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    kc, vc = kc.copy(), vc.copy()
    out = np.zeros((b_, tq, hq, v.shape[3]))
    for b in range(b_):
        p = int(cp[b])
        kc[b, p:p + tq] = k[b]
        vc[b, p:p + tq] = v[b]
        n = p + tq
        i = p + np.arange(tq)[:, None]
        j = np.arange(n)[None, :]
        allowed = (j <= i) if causal else np.ones((tq, n), bool)
        for h in range(hq):
            kh = h // group
            out[b, :, h] = _attend(q[b, :, h], kc[b, :n, kh], vc[b, :n, kh], allowed, scale)
    return out, kc, vc


def alibi_base_slopes(n):
    """ALiBi slopes: 2^(-8 (h+1) / n) for a power of two, interleaved otherwise."""
    def pow2(m):
        start = 2.0 ** (-8.0 / m)
        return [start ** (i + 1) for i in range(m)]
    if math.log2(n).is_integer():
        return pow2(n)
    c = 2 ** int(math.floor(math.log2(n)))
    return pow2(c) + alibi_base_slopes(2 * c)[0::2][:n - c]


def lightning(q, k, v, layer_index, num_layers, s0=None, lengths=None):
    """The token recurrence S_t = lambda S_{t-1} + k_t v_t^T, o_t = q_t^T S_t
    (AttentionOps.td, minimax-text-01.md section 4). Outputs past lengths[b]
    are not specified by the documents: NaN (not compared)."""
    b_, t_, h_, d = q.shape
    dv = v.shape[3]
    ratio = layer_index / (num_layers - 1) if num_layers > 1 else 0.0
    lam = [math.exp(-(base * (1.0 - ratio + 1e-5))) for base in alibi_base_slopes(h_)]
    out = np.full((b_, t_, h_, dv), np.nan)
    fin = np.zeros((b_, h_, d, dv))
    for b in range(b_):
        n = t_ if lengths is None else int(lengths[b])
        for h in range(h_):
            S = np.zeros((d, dv)) if s0 is None else s0[b, h].copy()
            for t in range(n):
                S = lam[h] * S + np.outer(k[b, t, h], v[b, t, h])
                out[b, t, h] = q[b, t, h] @ S
            fin[b, h] = S
    return out, fin


def moe_router(logits, k, renorm=True):
    p = softmax(logits, -1)
    idx = np.argsort(-p, axis=-1, kind="stable")[..., :k]  # ties: lower index first
    w = np.take_along_axis(p, idx, -1)
    if renorm:
        w = w / np.sum(w, -1, keepdims=True)
    return w, idx.astype(np.int64)


def moe_dispatch(x, e, num_experts):
    k = e.shape[-1]
    xf = x.reshape(-1, x.shape[-1])
    ef = e.reshape(-1)  # flat slot token * k + slot
    order = np.argsort(ef, kind="stable")  # by expert, stable in token order
    counts = np.bincount(ef, minlength=num_experts)
    off = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return xf[order // k], off, order.astype(np.int64)


def grouped_matmul(x, w, off):
    y = np.zeros((x.shape[0], w.shape[1]))
    for e in range(w.shape[0]):
        y[off[e]:off[e + 1]] = x[off[e]:off[e + 1]] @ w[e].T
    return y


def moe_combine(h, order, w):
    k = w.shape[-1]
    wf = w.reshape(-1, k)
    row_of = np.empty_like(order)
    row_of[order] = np.arange(order.size)
    y = np.zeros((wf.shape[0], h.shape[1]))
    for t in range(wf.shape[0]):
        for j in range(k):
            y[t] += wf[t, j] * h[row_of[t * k + j]]
    return y.reshape(w.shape[:-1] + (h.shape[1],))


def top_k(x, k):
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]  # descending, ties: lower index
    return np.take_along_axis(x, idx, -1), idx.astype(np.int64)


def round_bf16(x):
    """Round-to-nearest-even to bfloat16 (8 significant bits) of float32 values."""
    bits = np.asarray(x, np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32).astype(F64)


def mm_reshape(x, shape):
    shape = [x.shape[i] if s == 0 else s for i, s in enumerate(shape)]
    return x.reshape(shape)


def gather(x, idx, dim, b):
    """result[i.., j.., k..] = input[i.., indices[i[:b].., j..], k..]"""
    out_shape = x.shape[:dim] + idx.shape[b:] + x.shape[dim + 1:]
    out = np.zeros(out_shape, x.dtype)
    nj = idx.ndim - b
    for o in np.ndindex(*out_shape):
        i, j, kk = o[:dim], o[dim:dim + nj], o[dim + nj:]
        out[o] = x[i + (idx[i[:b] + j],) + kk]
    return out


def scatter_add(dest, idx, upd, dim):
    res = dest.copy()
    pre = (slice(None),) * dim
    for m, i in enumerate(idx):
        res[pre + (int(i),)] += upd[pre + (m,)]
    return res


def cross_entropy(logits, labels, reduction, ignore=-100):
    m = np.max(logits, -1, keepdims=True)
    lse = (m + np.log(np.sum(np.exp(logits - m), -1, keepdims=True)))[..., 0]
    keep = labels != ignore
    safe = np.where(keep, labels, 0)
    picked = np.take_along_axis(logits, safe[..., None], -1)[..., 0]
    loss = np.where(keep, lse - picked, 0.0)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return np.array(loss.sum())
    return np.array(loss.sum() / keep.sum())


def policy_loss(kind, lp, old, adv, mask, eps_low=0.2, eps_high=0.2, clamp=20.0, ratio_cap=None,
                dual_clip=None, per_sequence=False, normalizer=None):
    r = np.exp(np.clip(lp - old, -clamp, clamp))
    c = np.clip(r, 1.0 - eps_low, 1.0 + eps_high)
    a = adv[:, None] if adv.ndim == 1 else adv
    if kind == "cispo":
        w = c if ratio_cap is None else np.minimum(r, ratio_cap)  # a constant weight on log pi
        loss = -w * a * lp
    else:
        loss = -np.minimum(r * a, c * a)
        if dual_clip is not None:  # where A < 0, the loss is at most -k A
            loss = np.where(a < 0, np.minimum(loss, -dual_clip * a), loss)
    if per_sequence:  # each row's mean over its tokens (0 without tokens), summed, / S
        count = np.sum(mask, axis=1)
        rows = np.where(count > 0, np.sum(mask * loss, axis=1) / np.where(count > 0, count, 1.0), 0.0)
        total, denom = np.sum(rows), (lp.shape[0] if normalizer is None else float(normalizer))
    else:  # sum over tokens / N
        total, denom = np.sum(mask * loss), (np.sum(mask) if normalizer is None else float(normalizer))
    return np.array(total / denom if denom != 0 else 0.0)


def sigmoid_bce(x, y, reduction):
    loss = np.maximum(x, 0.0) - x * y + np.log1p(np.exp(-np.abs(x)))
    return {"none": loss, "sum": np.array(loss.sum()), "mean": np.array(loss.mean())}[reduction]


def conv2d(x, w, b=None, strides=(1, 1), padding=(0, 0), dilation=(1, 1)):
    n, c, h, wd = x.shape
    co, ci, kh, kw = w.shape
    xp = np.zeros((n, c, h + 2 * padding[0], wd + 2 * padding[1]))
    xp[:, :, padding[0]:padding[0] + h, padding[1]:padding[1] + wd] = x
    oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // strides[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // strides[1] + 1
    y = np.zeros((n, co, oh, ow))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for bb in range(kw):
                    patch = xp[:, :, i * strides[0] + a * dilation[0], j * strides[1] + bb * dilation[1]]  # [n, c]
                    y[:, :, i, j] += patch @ w[:, :, a, bb].T
    if b is not None:
        y += b[None, :, None, None]
    return y


def conv1d(x, w, b=None, stride=1, dilation=1, padding=(0, 0)):
    n, t, c = x.shape
    co, ci, k = w.shape
    xp = np.zeros((n, t + padding[0] + padding[1], c))
    xp[:, padding[0]:padding[0] + t] = x
    ot = (t + padding[0] + padding[1] - dilation * (k - 1) - 1) // stride + 1
    y = np.zeros((n, ot, co))
    for i in range(ot):
        for a in range(k):
            y[:, i] += xp[:, i * stride + a * dilation] @ w[:, :, a].T
    if b is not None:
        y += b
    return y


def gru(x, wih, whh, bih, bhh, h0=None):
    n, t, _ = x.shape
    hd = whh.shape[1]
    h = np.zeros((n, hd)) if h0 is None else h0.copy()
    seq = np.zeros((n, t, hd))
    for s in range(t):
        gi = x[:, s] @ wih.T + bih
        gh = h @ whh.T + bhh
        r = sigmoid(gi[:, :hd] + gh[:, :hd])
        z = sigmoid(gi[:, hd:2 * hd] + gh[:, hd:2 * hd])
        nn = np.tanh(gi[:, 2 * hd:] + r * gh[:, 2 * hd:])
        h = (1.0 - z) * nn + z * h
        seq[:, s] = h
    return seq, h


def pool(kind, x, mask, dim):
    """Positions with a non-zero mask count; a fully masked row pools to 0."""
    valid = np.ones(x.shape[:dim + 1], bool) if mask is None else (mask != 0)
    valid = valid.reshape(valid.shape + (1,) * (x.ndim - dim - 1))
    valid = np.broadcast_to(valid, x.shape)
    cnt = valid.sum(axis=dim)
    if kind == "sum":
        return np.where(valid, x, 0.0).sum(axis=dim)
    if kind == "mean":
        s = np.where(valid, x, 0.0).sum(axis=dim)
        return np.where(cnt > 0, s / np.maximum(cnt, 1), 0.0)
    mx = np.where(valid, x, -np.inf).max(axis=dim)
    return np.where(cnt > 0, mx, 0.0)


def target_attention(seq, tgt, mask=None, scale=None):
    scale = 1.0 / math.sqrt(seq.shape[-1]) if scale is None else scale
    out = np.zeros(tgt.shape)
    for b in range(seq.shape[0]):
        valid = np.ones(seq.shape[1], bool) if mask is None else mask[b] != 0
        if not valid.any():
            continue
        s = scale * (seq[b][valid] @ tgt[b])
        out[b] = softmax(s) @ seq[b][valid]
    return out


def hadamard(f, groups):
    return np.stack([np.prod(f[:, g, :], axis=1) for g in groups], axis=1)


def merge_image_features(e, ids, feats, tok):
    y = e.copy()
    pos = np.argwhere(ids == tok)  # row-major: batch, then position
    assert len(pos) == len(feats)
    for r, (b, t) in enumerate(pos):
        y[b, t] = feats[r]
    return y


# ---------------------------------------------------------------------------
# The cases.
# ---------------------------------------------------------------------------
class Case:
    def __init__(self, op, file, fn, inputs, expect, n=1, mag=None, params=None, xfail=None, label=None):
        self.op = op  # the op under test, printed
        self.label = label or fn
        self.file, self.fn = file, fn
        self.inputs = inputs
        self.expect = expect  # list of expected outputs
        self.n = n  # rounding-chain length (see Tolerances)
        self.mag = mag  # per-output term magnitude, or None
        self.params = params  # {name: array}
        # backend -> (needle, reason): an expected failure whose message must
        # contain `needle` (any other failure is a FAIL). See KNOWN below.
        self.xfail = xfail or {}


CASES = []

# How the compiled path refuses what it cannot generate (always with the op's
# loc(...)): at kernel formation (no kind; a run-time supernet choice) or at
# code generation (a kind whose template does not take this form).
REFUSALS = ("has no kernel kind", "selects a supernet candidate at run time",
            "cannot generate host code")
CUDA_REFUSALS = ("has no kernel kind", "selects a supernet candidate at run time",
                 "cannot generate CUDA for")

# Known disagreements between mm-run and the documents, numbered as in the
# report of the session that wrote this test (test/eval, "disagreements").
# Each is (needle that the failure message must contain, description).
KNOWN = {
    # None open. Add an entry ("needle in the failure", "description") and a
    # case's xfail=xf(backend, "Dn") only for a disagreement being worked on.
}


def xf(*pairs):
    """xf("cpu", "D1", ...) -> {backend: KNOWN[id]}"""
    return {pairs[i]: KNOWN[pairs[i + 1]] for i in range(0, len(pairs), 2)}


def add(op, file, fn, inputs, expect, **kw):
    CASES.append(Case(op, file, fn, inputs, expect if isinstance(expect, (list, tuple)) else [expect], **kw))


def build_cases():
    E = "elementwise.mlir"
    x = fl(1, (5, 8), -3, 3)
    pos = fl(2, (5, 8), 0.05, 4)
    add("mm.silu", E, "silu", [x], silu(x))
    add("mm.sigmoid", E, "sigmoid", [x], sigmoid(x), mag=0.0)
    add("mm.relu", E, "relu", [x], np.maximum(x, 0), n=0)
    add("mm.tanh", E, "tanh", [x], np.tanh(x), mag=0.0)
    add("mm.exp", E, "exp", [x], np.exp(x), n=3, mag=0.0)  # exp amplifies an ulp of its result by |x| <= 3
    add("mm.log", E, "log", [pos], np.log(pos))
    add("mm.sqrt", E, "sqrt", [pos], np.sqrt(pos), mag=0.0)
    add("mm.rsqrt", E, "rsqrt", [pos], 1.0 / np.sqrt(pos), n=2, mag=0.0)
    add("mm.neg", E, "neg", [x], -x, n=0)
    add("mm.gelu", E, "gelu", [x], gelu(x))
    add("mm.gelu", E, "gelu_tanh", [x], gelu_tanh(x))
    a = fl(3, (3, 1, 8), -2, 2)
    b = fl(4, (4, 8), -2, 2)
    bnz = np.where(np.abs(b) < 0.25, 0.25, b)
    add("mm.add", E, "add", [a, b], a + b, mag=0.0)
    add("mm.sub", E, "sub", [a, b], a - b, mag=0.0)
    add("mm.mul", E, "mul", [a, b], a * b, mag=0.0)
    add("mm.div", E, "div", [a, bnz], a / bnz, mag=0.0)
    add("mm.max", E, "max", [a, b], np.maximum(a, b), n=0)
    add("mm.min", E, "min", [a, b], np.minimum(a, b), n=0)
    ad = fl(5, (3, 5))
    bd = fl(6, (1, 5))
    add("mm.add", E, "add_dyn", [ad, bd], ad + bd, mag=0.0)
    as_, bs_ = fl(140, (3, 8)), fl(141, (3, 8))
    add("mm.add", E, "add_same", [as_, bs_], as_ + bs_, mag=0.0)
    mr, mrow = fl(142, (4, 8), -2, 2), fl(143, (8,), -2, 2)
    add("mm.mul", E, "mul_row", [mr, mrow], mr * mrow, mag=0.0)
    ia = ints(7, (2, 4), -1000, 1000)
    ib = ints(8, (4,), -1000, 1000)
    add("mm.add", E, "add_i64", [ia, ib], ia + ib)
    add("mm.sub", E, "sub_i64", [ia, ib], ia - ib)
    add("mm.mul", E, "mul_i64", [ia, ib], ia * ib)
    add("mm.zeros_like", E, "zeros_like_i64", [ia], -ia)
    add("mm.max", E, "max_i64", [ia, ib], np.maximum(ia, ib))
    add("mm.min", E, "min_i64", [ia, ib], np.minimum(ia, ib))
    g, u = fl(9, (4, 8), -3, 3), fl(10, (4, 8), -2, 2)
    add("mm.swiglu", E, "swiglu", [g, u], silu(g) * u)

    C = "cast.mlir"
    cx = f32exact([2.7, -2.7, 0.5, -0.5, 0.0, 1.0, -1.0, 3.999, -3.999, 123456.75, -8388607.5, 7.0])
    add("mm.cast", C, "f32_to_i64", [cx], np.trunc(cx).astype(np.int64))
    ci = i64([0, 1, -1, 42, -1000, 16777216, -16777215])
    add("mm.cast", C, "i64_to_f32", [ci], ci.astype(F64), n=0)
    cr = fl(11, (3, 4), -20, 20)
    add("mm.cast", C, "f32_trunc_roundtrip", [cr], np.trunc(cr), n=0)

    # Ties 1 + 2^-8 -> 1 and 1 + 3 * 2^-8 -> 1 + 2^-6 (to even), plus ordinary values.
    bx16 = f32exact([1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, 1.0078125 + 2 ** -9, 3.14159, -2.5e-3, 65504.0, -1e-3, 0.1])
    add("mm.cast", C, "f32_bf16_f32", [bx16], round_bf16(bx16), n=0)
    # Ties 1 + 2^-11 -> 1 and 1 + 3 * 2^-11 -> 1 + 2^-9 (to even), the largest
    # half, subnormal halves (quantum 2^-24) and one that rounds to zero.
    hx16 = f32exact([1.0 + 2 ** -11, 1.0 + 3 * 2 ** -11, 65504.0, -3.14159, 6.0e-8, 3.0e-6, 1.0e-9, 0.1])
    add("mm.cast", C, "f32_f16_f32", [hx16], hx16.astype(np.float16).astype(F64), n=0)

    L = "linear_norm.mlir"
    lx = fl(12, (2, 3, 16))
    lw = fl(13, (5, 16))
    lb = fl(14, (5,))
    add("mm.linear", L, "linear", [lx, lw], lx @ lw.T, n=16)
    lx2 = fl(15, (4, 16))
    add("mm.linear", L, "linear_bias", [lx2, lw, lb], lx2 @ lw.T + lb, n=17)
    ma, mb = fl(16, (2, 1, 3, 6)), fl(17, (4, 6, 5))
    add("mm.matmul", L, "matmul_bcast", [ma, mb], matmul(ma, mb), n=6)
    ma, mb = fl(18, (2, 6, 3)), fl(19, (2, 6, 5))
    add("mm.matmul", L, "matmul_tl", [ma, mb], matmul(ma, mb, tl=True), n=6)
    ma, mb = fl(20, (2, 3, 6)), fl(21, (2, 5, 6))
    add("mm.matmul", L, "matmul_tr", [ma, mb], matmul(ma, mb, tr=True), n=6)
    ma, mb = fl(22, (6, 3)), fl(23, (2, 5, 6))
    add("mm.matmul", L, "matmul_tt", [ma, mb], matmul(ma, mb, tl=True, tr=True), n=6)
    tab = fl(24, (10, 4))
    ids = i64([[0, 9, 3], [3, 3, 7]])
    add("mm.embedding", L, "embedding", [tab, ids], tab[ids], n=0)
    rx, rg = fl(25, (3, 16), -2, 2), fl(26, (16,), 0.5, 1.5)
    add("mm.rms_norm", L, "rms_norm", [rx, rg], rms_norm(rx, rg, 1e-6), n=20)
    rs = fl(27, (3, 16), -0.01, 0.01)
    add("mm.rms_norm", L, "rms_norm_default_eps", [rs, rg], rms_norm(rs, rg, 1e-5), n=20)
    nx, ng, nb = fl(28, (3, 4, 16), -2, 2), fl(29, (16,), 0.5, 1.5), fl(30, (16,))
    add("mm.layer_norm", L, "layer_norm", [nx, ng, nb], layer_norm(nx, ng, nb, 1e-5), n=40)
    nx2 = fl(31, (3, 16), -0.5, 0.5)
    add("mm.layer_norm", L, "layer_norm_eps", [nx2, ng, nb], layer_norm(nx2, ng, nb, 0.1), n=40)

    A = "attention.mlir"
    rx = fl(32, (2, 5, 3, 8))
    rp = i64([[0, 1, 2, 3, 4], [7, 100, 3, 0, 2500]])
    # n: cos/sin of a = pos * inv_freq lose |a| * u; positions up to 2500.
    add("mm.rope", A, "rope", [rx, rp], rope(rx, rp, 4, 1e4), n=4, mag=1.0)
    rx2 = fl(33, (1, 4, 2, 6))
    rp2 = i64([[5, 17, 31, 64]])
    add("mm.rope", A, "rope_full", [rx2, rp2], rope(rx2, rp2, 6, 1e7), n=4, mag=1.0)
    q, k, v = normal(34, (2, 5, 4, 8)), normal(35, (2, 5, 2, 8)), normal(36, (2, 5, 2, 8))
    add("mm.attention", A, "attention_causal", [q, k, v], attention(q, k, v, True), n=16, mag=3.0)
    q, k, v = normal(63, (2, 5, 4, 8)), normal(64, (2, 5, 2, 8)), normal(65, (2, 5, 2, 6))
    km = f32exact([[0, 0, 1, 1, 1], [1, 0, 1, 1, 0]])
    add("mm.attention", A, "attention_key_mask_causal", [q, k, v, km],
        attention(q, k, v, True, key_mask=km), n=16, mag=3.0)
    q, k, v = normal(66, (3, 3, 2, 4)), normal(67, (3, 7, 2, 4)), normal(68, (3, 7, 2, 4))
    km = f32exact([[0, 1, 1, 0, 1, 0, 1], [0] * 7, [1, 1, 1, 1, 1, 1, 0.5]])
    add("mm.attention", A, "attention_key_mask_full", [q, k, v, km],
        attention(q, k, v, False, 0.5, key_mask=km), n=16, mag=3.0)
    q, k, v = normal(37, (1, 3, 4, 8)), normal(38, (1, 6, 1, 8)), normal(39, (1, 6, 1, 5))
    add("mm.attention", A, "attention_noncausal", [q, k, v], attention(q, k, v, False, 0.25), n=16, mag=3.0)
    # A context-parallel rank's 2 queries from key position 3 of 6 (query_start
    # an input, and a constant the compiled kernel takes as a literal).
    q, k, v = normal(60, (2, 2, 4, 8)), normal(61, (2, 6, 2, 8)), normal(62, (2, 6, 2, 8))
    add("mm.attention", A, "attention_query_start", [q, k, v, i64([3])],
        attention(q, k, v, True, start=3), n=16, mag=3.0)
    add("mm.attention", A, "attention_query_start_constant", [q, k, v],
        attention(q, k, v, True, start=1), n=16, mag=3.0)
    q, k, v = normal(40, (2, 3, 4, 8)), normal(41, (2, 3, 2, 8)), normal(42, (2, 3, 2, 8))
    kc, vc = normal(43, (2, 10, 2, 8)), normal(44, (2, 10, 2, 8))
    cp = i64([2, 5])
    add("mm.attention", A, "attention_cache_causal", [q, k, v, kc, vc, cp],
        list(attention_cache(q, k, v, kc, vc, cp, True)), n=20, mag=3.0)
    add("mm.attention", A, "attention_cache_noncausal", [q, k, v, kc, vc, cp],
        list(attention_cache(q, k, v, kc, vc, cp, False)), n=20, mag=3.0)
    q, k, v = normal(154, (2, 3, 4, 8)), normal(155, (2, 3, 2, 8)), normal(156, (2, 3, 2, 12))
    kc, vc = normal(157, (2, 10, 2, 8)), normal(158, (2, 10, 2, 12))
    add("mm.attention", A, "attention_cache_vdim", [q, k, v, kc, vc, i64([2, 5])],
        list(attention_cache(q, k, v, kc, vc, i64([2, 5]), True)), n=20, mag=3.0)
    q, k, v = normal(150, (1, 3, 2, 4)), normal(151, (1, 3, 1, 4)), normal(152, (1, 3, 1, 4))
    cc, cp = normal(153, (1, 6, 1, 4)), i64([2])
    add("mm.attention", A, "attention_cache_shared", [q, k, v, cc, cp],
        list(attention_cache(q, k, v, cc, cc, cp, True)), n=20, mag=3.0)
    q, k, v = normal(45, (3, 1, 4, 8)), normal(46, (3, 1, 2, 8)), normal(47, (3, 1, 2, 8))
    kc, vc = normal(48, (3, 6, 2, 8)), normal(49, (3, 6, 2, 8))
    cp = i64([0, 3, 5])
    add("mm.attention", A, "attention_decode", [q, k, v, kc, vc, cp],
        list(attention_cache(q, k, v, kc, vc, cp, True)), n=20, mag=3.0)
    # Lightning: T steps of a d-term update; n = T * d.
    q, k, v = fl(50, (2, 7, 4, 4)), fl(51, (2, 7, 4, 4)), fl(52, (2, 7, 4, 4))
    add("mm.lightning_attention", A, "lightning_block3", [q, k, v], list(lightning(q, k, v, 1, 4)), n=28)
    s0 = fl(53, (2, 4, 4, 4))
    ln = i64([7, 4])
    add("mm.lightning_attention", A, "lightning_state_lengths", [q, k, v, s0, ln],
        list(lightning(q, k, v, 2, 4, s0, ln)), n=28)
    q, k, v = fl(54, (1, 5, 6, 3)), fl(55, (1, 5, 6, 3)), fl(56, (1, 5, 6, 3))
    add("mm.lightning_attention", A, "lightning_6heads", [q, k, v], list(lightning(q, k, v, 0, 1)), n=15)
    q, k, v, s0 = fl(57, (3, 1, 4, 4)), fl(58, (3, 1, 4, 4)), fl(59, (3, 1, 4, 4)), fl(60, (3, 4, 4, 4))
    add("mm.lightning_attention", A, "lightning_decode", [q, k, v, s0], list(lightning(q, k, v, 3, 8, s0)), n=8)
    # Padded tiles (CUDA): head dims 20 / 12, 6, 5, 24 and 128 over several tiles.
    q, k, v = normal(63, (1, 70, 6, 20)), normal(64, (1, 70, 2, 20)), normal(65, (1, 70, 2, 12))
    add("mm.attention", A, "attention_tiles", [q, k, v], attention(q, k, v, True), n=90, mag=3.0)
    q, k, v = normal(66, (2, 1, 2, 6)), normal(67, (2, 1, 1, 6)), normal(68, (2, 1, 1, 6))
    kc, vc = normal(69, (2, 200, 1, 6)), normal(70, (2, 200, 1, 6))
    cp = i64([150, 7])
    add("mm.attention", A, "attention_decode_long", [q, k, v, kc, vc, cp],
        list(attention_cache(q, k, v, kc, vc, cp, True)), n=210, mag=3.0)
    x, s0 = fl(71, (2, 40, 2, 15)), fl(72, (2, 2, 5, 5))
    ln = i64([40, 21])
    add("mm.lightning_attention", A, "lightning_interleaved", [x, s0, ln],
        list(lightning(x[..., 0:5], x[..., 5:10], x[..., 10:15], 1, 3, s0, ln)), n=200)
    q, k, v = fl(73, (2, 70, 1, 24)), fl(74, (2, 70, 1, 24)), fl(75, (2, 70, 1, 24))
    s0, ln = fl(76, (2, 1, 24, 24)), i64([70, 33])
    add("mm.lightning_attention", A, "lightning_d24", [q, k, v, s0, ln],
        list(lightning(q, k, v, 0, 2, s0, ln)), n=70 * 24)
    q, k, v = fl(77, (1, 50, 1, 128)), fl(78, (1, 50, 1, 128)), fl(79, (1, 50, 1, 128))
    add("mm.lightning_attention", A, "lightning_d128_block48", [q, k, v],
        list(lightning(q, k, v, 0, 4)), n=50 * 128)
    q, k, v, s0 = fl(80, (2, 1, 3, 6)), fl(81, (2, 1, 3, 6)), fl(82, (2, 1, 3, 6)), fl(83, (2, 3, 6, 6))
    add("mm.lightning_attention", A, "lightning_decode_d6", [q, k, v, s0],
        list(lightning(q, k, v, 1, 8, s0)), n=12)
    q, k, v = fl(84, (2, 1, 1, 100)), fl(85, (2, 1, 1, 100)), fl(86, (2, 1, 1, 100))
    s0 = fl(87, (2, 1, 100, 100))
    add("mm.lightning_attention", A, "lightning_decode_d100", [q, k, v, s0],
        list(lightning(q, k, v, 0, 8, s0)), n=200)

    M = "moe.mlir"
    rl = normal(61, (5, 6))
    rl[1] = f32exact([0.5, 1.25, 0.5, 1.25, -1.0, 1.25])  # a three-way tie: lower indices first
    rl[3] = f32exact([0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    add("mm.moe_router", M, "router", [rl], list(moe_router(rl, 2)), n=6)
    add("mm.moe_router", M, "router_norenorm", [rl], list(moe_router(rl, 3, False)), n=6)
    rl3 = normal(62, (2, 3, 6))
    add("mm.moe_router", M, "router_3d", [rl3], list(moe_router(rl3, 2)), n=6)
    dx = fl(63, (2, 3, 4))
    de = i64([[[2, 0], [0, 2]], [[3, 2], [2, 3]], [[0, 3], [2, 0]]]).reshape(2, 3, 2)  # expert 1 gets nothing
    add("mm.moe_dispatch", M, "dispatch", [dx, de], list(moe_dispatch(dx, de, 4)), n=0)
    gx, gw = fl(64, (8, 4)), fl(65, (4, 3, 4))
    goff = i64([0, 2, 2, 5, 8])
    add("mm.grouped_matmul", M, "grouped_matmul", [gx, gw, goff], grouped_matmul(gx, gw, goff), n=4)
    ch = fl(66, (10, 4))
    cord = rng(67).permutation(10).astype(np.int64)
    cw = fl(68, (5, 2), 0, 1)
    add("mm.moe_combine", M, "combine", [ch, cord, cw], moe_combine(ch, cord, cw), n=2)
    bx = fl(69, (6, 8))
    wr, w1, w3, w2 = fl(70, (4, 8)), fl(71, (4, 6, 8)), fl(72, (4, 6, 8)), fl(73, (4, 8, 6))
    rw, re_ = moe_router(bx @ wr.T, 2)
    d, off, order = moe_dispatch(bx, re_, 4)
    hh = silu(grouped_matmul(d, w1, off)) * grouped_matmul(d, w3, off)
    add("mm.grouped_matmul", M, "moe_block", [bx, wr, w1, w3, w2],
        moe_combine(grouped_matmul(hh, w2, off), order, rw), n=30, label="moe_block (router+dispatch+grouped_matmul+swiglu+combine)")

    R = "reduction.mlir"
    sx = normal(74, (3, 4, 5), 2.0)
    add("mm.softmax", R, "softmax", [sx], softmax(sx, -1), n=6)
    add("mm.softmax", R, "softmax_dim1", [sx], softmax(sx, 1), n=6)
    sx2 = normal(75, (4, 5), 2.0)
    add("mm.log_softmax", R, "log_softmax", [sx2], log_softmax(sx2, -1), n=6)
    add("mm.log_softmax", R, "log_softmax_dim0", [sx], log_softmax(sx, 0), n=6)
    add("mm.reduce", R, "reduce_sum", [sx], sx.sum(axis=(0, 2)), n=15, mag=float(np.abs(sx).sum(axis=(0, 2)).max()))
    add("mm.reduce", R, "reduce_mean_keep", [sx], sx.mean(axis=1, keepdims=True), n=5, mag=float(np.abs(sx).max()))
    add("mm.reduce", R, "reduce_max", [sx], sx.max(axis=2), n=0)
    add("mm.reduce", R, "reduce_min", [sx], sx.min(axis=0), n=0)
    px = fl(76, (3, 4, 5), 0.5, 1.5)
    add("mm.reduce", R, "reduce_prod", [px], px.prod(axis=-1), n=5)
    add("mm.reduce", R, "reduce_max_all", [sx], np.array(sx.max()), n=0)
    ri = ints(77, (3, 4), -10 ** 6, 10 ** 6)
    add("mm.reduce", R, "reduce_sum_i64", [ri], ri.sum(axis=1, keepdims=True))
    mx = fl(78, (4, 6))
    add("mm.reduce", R, "reduce_mean_dyn", [mx], mx.mean(axis=1), n=7, mag=1.0)
    # 600 x 4 x 40: 96,000 terms, the host's threaded path; every value
    # negative, so a maximum started at 0 instead of the first term fails.
    # A sum in any order is within n u sum|x| (n = 2400 terms per output).
    lx = fl(79, (600, 4, 40), -3, 3)
    add("mm.reduce", R, "reduce_sum_leading", [lx], lx.sum(axis=(0, 1)), n=2400,
        mag=float(np.abs(lx).sum(axis=(0, 1)).max()))
    nx = fl(80, (600, 4, 40), -5, -1)
    add("mm.reduce", R, "reduce_max_leading", [nx], nx.max(axis=0), n=0)
    tk = f32exact([[0.5, 2.0, -1.0, 2.0, 0.25, 2.0, 3.0, -4.0],
                   [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                   [-3.0, -1.0, -2.0, -0.5, -0.5, -7.0, -0.25, -9.0]])
    add("mm.top_k", R, "top_k", [tk], list(top_k(tk, 3)), n=0)
    tki = i64([[5, -2, 9, 9, 0, 5], [-1, -1, -3, 4, 4, -1]])
    add("mm.top_k", R, "top_k_i64", [tki], list(top_k(tki, 4)))
    add("mm.argmax", R, "argmax", [tk], np.argmax(tk, axis=-1).astype(np.int64))
    am = np.round(normal(79, (4, 3, 2)))  # small integers: ties along dim 0
    add("mm.argmax", R, "argmax_dim0_keep", [am], np.argmax(am, axis=0)[None].astype(np.int64))

    S = "shape.mlir"
    x234 = fl(80, (2, 3, 4))
    add("mm.reshape", S, "reshape", [x234], mm_reshape(x234, [0, -1, 2]), n=0)
    x12 = fl(81, (3, 12))
    add("mm.reshape", S, "reshape_dyn", [x12], mm_reshape(x12, [0, 3, 4]), n=0)
    xi = ints(82, (2, 6), -50, 50)
    add("mm.reshape", S, "reshape_i64", [xi], mm_reshape(xi, [3, -1]), n=0)
    add("mm.transpose", S, "transpose", [x234], np.transpose(x234, (2, 0, 1)), n=0)
    x2345 = fl(83, (2, 3, 4, 5))
    add("mm.transpose", S, "transpose_4d", [x2345], np.transpose(x2345, (0, 2, 1, 3)), n=0)
    ca, cb, cc = fl(84, (2, 1, 4)), fl(85, (2, 3, 4)), fl(86, (2, 2, 4))
    add("mm.concat", S, "concat", [ca, cb, cc], np.concatenate([ca, cb, cc], axis=-2), n=0)
    c1, c2 = fl(87, (3, 2)), fl(88, (3, 5))
    add("mm.concat", S, "concat_last", [c1, c2], np.concatenate([c1, c2], axis=1), n=0)
    x73 = fl(89, (7, 3))
    add("mm.slice", S, "slice_step", [x73], x73[1:6:2], n=0)
    x37 = fl(90, (3, 7))
    add("mm.slice", S, "slice_neg_clamp", [x37], x37[:, -5:100:2], n=0)
    add("mm.slice", S, "slice_tail", [x37], x37[:, -2:], n=0)
    x272 = fl(91, (2, 7, 2))
    add("mm.slice", S, "slice_neg_end", [x272], x272[:, 1:-2:3], n=0)
    x53 = fl(92, (5, 3))
    gi = i64([[4, 0], [2, 4]])
    add("mm.gather", S, "gather_take", [x53, gi], gather(x53, gi, 0, 0), n=0)
    x253 = fl(93, (2, 5, 3))
    gi = i64([3, 0, 3, 1])
    add("mm.gather", S, "gather_dim1", [x253, gi], gather(x253, gi, 1, 0), n=0)
    gi = i64([4, 1])
    add("mm.gather", S, "gather_batch1", [x253, gi], gather(x253, gi, 1, 1), n=0)
    gi = i64([[0, 4, 4, 2], [1, 3, 0, 0]])
    add("mm.gather", S, "gather_batch1_multi", [x253, gi], gather(x253, gi, 1, 1), n=0)
    x236 = fl(94, (2, 3, 6))
    gl = i64([[5, 0, 2], [1, 1, 4]])
    add("mm.gather", S, "gather_batch2", [x236, gl], gather(x236, gl, 2, 2), n=0)
    sd, su = fl(95, (4, 3)), fl(96, (5, 3))
    si = i64([2, 0, 2, 3, 2])
    add("mm.scatter_add", S, "scatter_add", [sd, si, su], scatter_add(sd, si, su, 0), n=4, mag=4.0)
    sd, su = fl(97, (2, 4, 3)), fl(98, (2, 3, 3))
    si = i64([3, 1, 3])
    add("mm.scatter_add", S, "scatter_add_dim1", [sd, si, su], scatter_add(sd, si, su, 1), n=3, mag=3.0)
    sdi, sui = ints(99, (4,), -100, 100), ints(100, (6,), -100, 100)
    sii = i64([1, 1, 0, 3, 1, 3])
    add("mm.scatter_add", S, "scatter_add_i64", [sdi, sii, sui], scatter_add(sdi, sii, sui, 0))

    O = "loss.mlir"
    lg = normal(101, (2, 4, 6), 2.0)
    lab = i64([[0, 5, -100, 2], [2, 3, 1, -100]])
    add("mm.cross_entropy", O, "ce_none", [lg, lab], cross_entropy(lg, lab, "none"), n=8, mag=8.0)
    lab2 = i64([[0, 5, 2, 2], [2, 3, 1, 4]])
    add("mm.cross_entropy", O, "ce_sum_ignore2", [lg, lab2], cross_entropy(lg, lab2, "sum", ignore=2), n=16, mag=40.0)
    lg2 = normal(102, (5, 6), 2.0)
    lab3 = i64([1, -100, 5, 0, 0])
    add("mm.cross_entropy", O, "ce_mean", [lg2, lab3], cross_entropy(lg2, lab3, "mean"), n=12, mag=8.0)
    lp = fl(103, (2, 5), -3, -0.1)
    old = lp + fl(104, (2, 5), -0.6, 0.6)
    old = old.astype(np.float32).astype(F64)
    adv = f32exact([1.5, -0.75])
    msk = f32exact([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    advt = fl(105, (2, 5), -2, 2)
    # Terms |c A logp| <= 1.2 * 2 * 3; sum of 10 of them.
    add("mm.policy_loss", O, "cispo", [lp, old, adv, msk],
        policy_loss("cispo", lp, old, adv, msk, eps_low=10.0, eps_high=0.2), n=12, mag=8.0)
    add("mm.policy_loss", O, "cispo_default", [lp, old, advt, msk],
        policy_loss("cispo", lp, old, advt, msk), n=12, mag=8.0)
    add("mm.policy_loss", O, "ppo_clip", [lp, old, advt, msk],
        policy_loss("ppo_clip", lp, old, advt, msk), n=12, mag=4.0)
    add("mm.policy_loss", O, "ppo_clip_clamp", [lp, old, adv, msk],
        policy_loss("ppo_clip", lp, old, adv, msk, eps_low=0.1, eps_high=0.5, clamp=0.3), n=12, mag=4.0)
    # A fractional mask weights tokens (the formulas multiply by it).
    wm = f32exact([[0.5, 1, 0.25, 0, 0], [1, 2, 1, 0.5, 1]])
    add("mm.policy_loss", O, "ppo_clip", [lp, old, advt, wm],
        policy_loss("ppo_clip", lp, old, advt, wm), n=12, mag=4.0, label="ppo_clip[fractional mask]")
    # Library 2's CISPO: weight min(r, cap), no log-ratio clamp; ratios 1.41 and
    # 1.57 are above the cap 1.3, the others below it.
    add("mm.policy_loss", O, "cispo_cap", [lp, old, adv, msk],
        policy_loss("cispo", lp, old, adv, msk, ratio_cap=1.3, clamp=700.0), n=12, mag=8.0)
    # DAPO: clip-higher 0.28, dual clip 1.3 (token (0, 2): r = 1.41, A = -1.61,
    # l = 2.27 is capped at 2.10), divided by a global token count 20 (local 8).
    add("mm.policy_loss", O, "ppo_dual_global", [lp, old, advt, msk, f32exact(20.0)],
        policy_loss("ppo_clip", lp, old, advt, msk, eps_high=0.28, dual_clip=1.3, normalizer=20.0),
        n=12, mag=4.0)
    # GRPO: per-sequence means (rows of 3 and 5 tokens), then over the rows.
    add("mm.policy_loss", O, "ppo_seq", [lp, old, adv, msk],
        policy_loss("ppo_clip", lp, old, adv, msk, per_sequence=True), n=12, mag=4.0)
    # A row without tokens adds 0; a global sequence count 6 divides.
    msk0 = f32exact([[0, 0, 0, 0, 0], [1, 1, 0, 1, 1]])
    add("mm.policy_loss", O, "ppo_seq_global", [lp, old, advt, msk0, f32exact(6.0)],
        policy_loss("ppo_clip", lp, old, advt, msk0, per_sequence=True, normalizer=6.0), n=12, mag=4.0)
    add("mm.policy_loss", O, "cispo_seq", [lp, old, advt, wm],
        policy_loss("cispo", lp, old, advt, wm, eps_low=10.0, eps_high=0.2, per_sequence=True), n=12, mag=8.0)
    # A zero normaliser gives 0.
    add("mm.policy_loss", O, "ppo_dual_global", [lp, old, advt, msk, f32exact(0.0)], np.array(0.0), n=0,
        label="ppo_dual_global[zero normalizer]")
    bx_, by = fl(106, (3, 4), -4, 4), fl(107, (3, 4), 0, 1)
    by[0, :2] = [0.0, 1.0]
    add("mm.sigmoid_bce", O, "bce_none", [bx_, by], sigmoid_bce(bx_, by, "none"), n=2, mag=4.0)
    add("mm.sigmoid_bce", O, "bce_sum", [bx_, by], sigmoid_bce(bx_, by, "sum"), n=14, mag=30.0)
    bx2, by2 = fl(108, (7,), -4, 4), f32exact([0, 1, 1, 0, 0.25, 1, 0])
    add("mm.sigmoid_bce", O, "bce_mean", [bx2, by2], sigmoid_bce(bx2, by2, "mean"), n=10, mag=4.0)

    V = "vision_recsys.mlir"
    cx, cw, cb = fl(109, (2, 3, 7, 8)), fl(110, (4, 3, 3, 2)), fl(111, (4,))
    add("mm.conv2d", V, "conv2d", [cx, cw, cb],
        conv2d(cx, cw, cb, strides=(2, 1), padding=(1, 2), dilation=(2, 1)), n=19, mag=3.0)
    px_, pw = fl(112, (1, 2, 6, 6)), fl(113, (3, 2, 2, 2))
    add("mm.conv2d", V, "conv2d_patch", [px_, pw], conv2d(px_, pw, strides=(2, 2)), n=8, mag=3.0)
    me = fl(114, (2, 5, 4))
    mid = i64([[1, 7, 7, 3, 2], [7, 4, 5, 6, 8]])
    mf = fl(115, (3, 4), 5, 6)
    add("mm.merge_image_features", V, "merge_image_features", [me, mid, mf], merge_image_features(me, mid, mf, 7), n=0)
    add("mm.merge_image_features_grad", V, "merge_image_features_grad", [me, mid, mf],
        me[mid == 7], n=0)  # (boolean indexing is row-major: batch, then position)
    c1x, c1w, c1b = fl(116, (2, 9, 3)), fl(117, (4, 3, 3)), fl(118, (4,))
    add("mm.conv1d", V, "conv1d", [c1x, c1w, c1b],
        conv1d(c1x, c1w, c1b, stride=2, dilation=2, padding=(2, 1)), n=10, mag=3.0)
    add("mm.conv1d", V, "conv1d_causal", [c1x, c1w], conv1d(c1x, c1w, padding=(2, 0)), n=9, mag=3.0)
    gx_ = fl(119, (2, 5, 3))
    wih, whh, bih, bhh = fl(120, (12, 3)), fl(121, (12, 4)), fl(122, (12,)), fl(123, (12,))
    h0 = fl(124, (2, 4))
    # 5 steps, each a length-8 dot product feeding sigmoid / tanh.
    add("mm.gru", V, "gru", [gx_, wih, whh, bih, bhh], list(gru(gx_, wih, whh, bih, bhh)), n=40, mag=1.0)
    add("mm.gru", V, "gru_init", [gx_, wih, whh, bih, bhh, h0], list(gru(gx_, wih, whh, bih, bhh, h0)), n=40, mag=1.0)
    px3 = fl(125, (3, 5, 4), -2, 2)
    pm = f32exact([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1]])  # row 1 fully masked
    add("mm.pool", V, "pool_sum", [px3, pm], pool("sum", px3, pm, 1), n=5, mag=10.0)
    add("mm.pool", V, "pool_mean", [px3, pm], pool("mean", px3, pm, 1), n=6, mag=2.0)
    add("mm.pool", V, "pool_max", [px3, pm], pool("max", px3, pm, 1), n=0)
    # Non-binary mask values: positions count where the mask is non-zero, unweighted.
    pmw = f32exact([[0.5, 0, 2, 1, 0], [0, 0, 0, 0, 0], [1, -1, 0.25, 1, 3]])
    add("mm.pool", V, "pool_sum", [px3, pmw], pool("sum", px3, pmw, 1), n=5, mag=10.0, label="pool_sum[non-binary mask]")
    add("mm.pool", V, "pool_mean", [px3, pmw], pool("mean", px3, pmw, 1), n=6, mag=2.0, label="pool_mean[non-binary mask]")
    add("mm.pool", V, "pool_mean_nomask", [px3], pool("mean", px3, None, 1), n=6, mag=2.0)
    pm3 = (rng(126).uniform(size=(3, 5, 4)) < 0.6).astype(F64)
    pm3[0, 2] = 0.0  # one fully masked row
    add("mm.pool", V, "pool_max_last", [px3, pm3], pool("max", px3, pm3, 2), n=0)
    ts, tt = normal(127, (3, 5, 4)), normal(128, (3, 4))
    tm = f32exact([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]])
    add("mm.target_attention", V, "target_attention", [ts, tt, tm], target_attention(ts, tt, tm), n=10, mag=3.0)
    tmw = f32exact([[0.5, 2, 0, 1, 0], [0, 0, 0, 0, 0], [0, 1, 0.1, 3, 1]])
    add("mm.target_attention", V, "target_attention", [ts, tt, tmw], target_attention(ts, tt, tmw), n=10, mag=3.0,
        label="target_attention[non-binary mask]")
    ts2, tt2 = normal(129, (2, 6, 4)), normal(130, (2, 4))
    add("mm.target_attention", V, "target_attention_scale", [ts2, tt2],
        target_attention(ts2, tt2, None, 0.7), n=10, mag=3.0)
    hf = fl(131, (2, 5, 3), -2, 2)
    add("mm.hadamard_interaction", V, "hadamard_interaction", [hf],
        hadamard(hf, [[0, 1], [4, 1, 2], [0, 2, 3, 4]]), n=4)

    P = "supernet.mlir"
    sx_, sw = fl(132, (3, 8)), fl(133, (8, 8))
    for sel, want, n in [(0, np.maximum(sx_, 0), 0), (1, np.tanh(sx_ @ sw.T), 9), (2, sx_, 0)]:
        add("mm.choice", P, "choice", [sx_, sw, np.array(sel, np.int64)], want, n=n, label=f"choice[selector={sel}]")

    K = "kernel.mlir"
    kx, kw, kr = fl(160, (3, 16)), fl(161, (8, 16)), fl(162, (3, 8))
    add("mm.kernel", K, "kernel_gemm", [kx, kw, kr], kx @ kw.T + kr, n=17, label="kernel_gemm (+mm.yield)")
    ka, kb = fl(163, (4, 8), -3, 3), fl(164, (4, 8))
    add("mm.kernel", K, "kernel_elementwise", [ka, kb], sigmoid(ka) * kb, n=2, mag=0.0,
        label="kernel_elementwise (+mm.yield)")

    W = "param.mlir"
    pxx = fl(134, (3, 4))
    pw_, pb_ = fl(135, (5, 4)), fl(136, (5,))
    add("mm.param", W, "param_linear", [pxx], pxx @ pw_.T + pb_, n=5,
        params={"layer.weight": pw_.astype(np.float32), "layer.bias": pb_.astype(F64)})
    ptab = fl(137, (6, 3))
    pids = i64([5, 2])
    ps = fl(138, (2, 3))
    add("mm.param", W, "param_embed", [ps], ptab[pids] + ps, n=1,
        params={"embed.table": ptab.astype(F64), "embed.ids": pids})
    pint, poff = i64([10, -20, 30]), i64([7, 8, -9])
    add("mm.param", W, "param_int", [pint], pint + poff, params={"offsets": poff})


# ---------------------------------------------------------------------------
# Files.
# ---------------------------------------------------------------------------
def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    codes = {np.dtype(np.float32): "F32", np.dtype(F64): "F64", np.dtype(np.int64): "I64"}
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": codes[arr.dtype], "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for b in blobs:
            f.write(b)


def write_inputs(tmp, tag, inputs, float_dtype):
    paths = []
    for i, a in enumerate(inputs):
        p = os.path.join(tmp, f"{tag}.in{i}.npy")
        a = np.asarray(a)
        np.save(p, a.astype("<i8") if a.dtype.kind in "iu" else a.astype(float_dtype))
        paths.append(p)
    return paths


def run_mm(mm_run, args, retries=3):
    """Runs mm-run; retries once or twice if the binary is being relinked."""
    for attempt in range(retries):
        try:
            p = subprocess.run([mm_run] + args, capture_output=True, text=True, timeout=120)
        except OSError as e:  # ETXTBSY / ENOENT while the binary is relinked
            if attempt + 1 == retries:
                return 127, "", str(e)
            time.sleep(2)
            continue
        return p.returncode, p.stdout, p.stderr
    return 127, "", "unreachable"


# ---------------------------------------------------------------------------
# Running the cases.
# ---------------------------------------------------------------------------
class Tally:
    def __init__(self):
        self.passed = self.failed = self.xfailed = self.xpassed = 0
        self.refused = {}  # backend -> ops it refused

    def line(self, status, text, detail=""):
        print(f"{status} {text}" + (f": {detail}" if detail else ""), flush=True)


def compare_outputs(case, outs, u, want_float_dtype):
    for i, (want, path) in enumerate(zip(case.expect, outs)):
        try:
            got = np.load(path)
        except Exception as e:  # noqa: BLE001
            return False, f"output {i}: cannot load {path}: {e}"
        want = np.asarray(want)
        if got.shape != want.shape:
            return False, f"output {i}: shape {got.shape}, want {want.shape}"
        if want.dtype.kind in "iu":
            if got.dtype != np.dtype("<i8"):
                return False, f"output {i}: dtype {got.dtype}, want int64"
            if not np.array_equal(got, want):
                bad = np.argwhere(got != want)
                j = tuple(int(v) for v in bad[0])
                return False, (f"output {i}: {len(bad)} of {want.size} elements off; first at {j}: "
                               f"got {got[j]} want {want[j]}")
            continue
        if got.dtype != np.dtype(want_float_dtype):
            return False, f"output {i}: dtype {got.dtype}, want {np.dtype(want_float_dtype)}"
        mag = case.mag if not isinstance(case.mag, (list, tuple)) else case.mag[i]
        ok, why = within(got, want, u, case.n, mag)
        if not ok:
            return False, f"output {i}: {why}"
    return True, ""


def run_case(mm_run, cases_dir, tmp, idx, case, tally, backends):
    tag = f"c{idx}"
    mlir = os.path.join(cases_dir, case.file)
    common = [mlir, "--function", case.fn, "--threads", "1"]
    if case.params is not None:
        sp = os.path.join(tmp, f"{tag}.safetensors")
        write_safetensors(sp, case.params)
        common += ["--params", sp]
    name = f"{case.op} {case.label}"
    for backend, flags, fdt, u in (("reference", REF_FLAGS, "<f8", U64), ("cpu", CPU_FLAGS, "<f4", U32),
                                   ("cuda", ["--backend", "cuda"], "<f4", U32)):
        if backend not in backends:
            continue
        ins = write_inputs(tmp, f"{tag}.{backend}", case.inputs, fdt)
        outs = [os.path.join(tmp, f"{tag}.{backend}.out{i}.npy") for i in range(len(case.expect))]
        for o in outs:
            if os.path.exists(o):
                os.remove(o)
        args = ["eval"] + common + flags
        for p in ins:
            args += ["--input", "@" + p]
        for p in outs:
            args += ["--output", "@" + p]
        rc, out, err = run_mm(mm_run, args)
        msg = (out + err).strip()
        xfail = case.xfail.get(backend)
        # The compiled path refuses what it cannot generate, with the op's
        # location: at kernel formation (no kernel kind) or at code generation
        # (a kind whose template does not take this form).
        refusals = {"cpu": REFUSALS, "cuda": CUDA_REFUSALS}.get(backend, ())
        if rc != 0 and any(r in msg for r in refusals):
            if "loc(" in msg:
                tally.passed += 1
                tally.refused.setdefault(backend, []).append(case.op)
                tally.line("REFUSED", f"{name} {backend} (ok)")
            else:
                tally.failed += 1
                tally.line("FAIL", f"{name} {backend}", f"refusal without a loc(...): {msg[-400:]}")
            continue
        if rc != 0:
            ok, why = False, f"exit {rc}: {msg[-600:]}"
        else:
            ok, why = compare_outputs(case, outs, u, fdt)
        if xfail:
            needle, reason = xfail
            if ok:
                tally.xpassed += 1
                tally.passed += 1
                tally.line("XPASS", f"{name} {backend}", f"expected failure now passes; remove the marker ({reason})")
            elif needle in why:
                tally.xfailed += 1
                tally.line("XFAIL", f"{name} {backend}", f"{reason}; {why[:300]}")
            else:
                tally.failed += 1
                tally.line("FAIL", f"{name} {backend}", f"failed, but not as expected ({reason}): {why}")
        elif ok:
            tally.passed += 1
            tally.line("PASS", f"{name} {backend}")
        else:
            tally.failed += 1
            tally.line("FAIL", f"{name} {backend}", why)


def expect_error(mm_run, tally, name, args, needles_all, needles_any=()):
    rc, out, err = run_mm(mm_run, args)
    msg = (out + err).strip()
    missing = [n for n in needles_all if n not in msg]
    any_ok = not needles_any or any(n in msg for n in needles_any)
    if rc != 0 and not missing and any_ok:
        tally.passed += 1
        tally.line("PASS", f"error-path {name}")
    else:
        tally.failed += 1
        why = f"exit {rc}" if rc == 0 else f"message lacks {missing or list(needles_any)}"
        tally.line("FAIL", f"error-path {name}", f"{why}: {msg[-400:]}")


def error_cases(mm_run, cases_dir, tmp, tally):
    L = os.path.join(cases_dir, "linear_norm.mlir")
    W = os.path.join(cases_dir, "param.mlir")
    x = write_inputs(tmp, "err.x", [fl(200, (4, 16))], "<f8")[0]
    w = write_inputs(tmp, "err.w", [fl(201, (5, 16))], "<f8")[0]
    b = write_inputs(tmp, "err.b", [fl(202, (5,))], "<f8")[0]
    o = os.path.join(tmp, "err.out.npy")
    base = ["eval", L, "--function", "linear_bias", "--output", "@" + o]
    # Two inputs for a three-argument function: the message names the function.
    expect_error(mm_run, tally, "too-few-inputs", base + ["--input", "@" + x, "--input", "@" + w],
                 ["linear_bias"])
    expect_error(mm_run, tally, "too-many-inputs",
                 base + ["--input", "@" + x, "--input", "@" + w, "--input", "@" + b, "--input", "@" + b],
                 ["linear_bias"])
    # A [4, 15] input where the IR says tensor<4x16xf32>: names the op or the input.
    bad = write_inputs(tmp, "err.bad", [fl(203, (4, 15))], "<f8")[0]
    for backend in ("reference", "cpu"):
        expect_error(mm_run, tally, f"input-shape-mismatch {backend}",
                     base + ["--input", "@" + bad, "--input", "@" + w, "--input", "@" + b, "--backend", backend],
                     [], ["mm.linear", "input 0", "argument 0"])
    # An mm.param whose tensor the --params file lacks: names the tensor.
    sp = os.path.join(tmp, "err.safetensors")
    write_safetensors(sp, {"layer.weight": fl(204, (5, 4)).astype(np.float32)})
    xi = write_inputs(tmp, "err.px", [fl(205, (3, 4))], "<f8")[0]
    for backend in ("reference", "cpu"):
        expect_error(mm_run, tally, f"missing-param {backend}",
                     ["eval", W, "--function", "param_linear", "--params", sp, "--input", "@" + xi,
                      "--output", "@" + o, "--backend", backend], ["layer.bias"])


def runtime_error_cases(mm_run, cases_dir, tmp, tally, backends):
    """Errors the op descriptions promise "when the graph runs"."""
    def ev(file, fn, inputs, nout, backend):
        ins = write_inputs(tmp, f"rt.{fn}.{backend}", inputs, "<f8" if backend == "reference" else "<f4")
        args = ["eval", os.path.join(cases_dir, file), "--function", fn, "--backend", backend]
        for p in ins:
            args += ["--input", "@" + p]
        for i in range(nout):
            args += ["--output", "@" + os.path.join(tmp, f"rt.{fn}.out{i}.npy")]
        return args

    for backend in ("reference", "cpu"):
        # An id outside [0, vocab) (LinearOps.td, mm.embedding).
        expect_error(mm_run, tally, f"embedding-id-out-of-range {backend}",
                     ev("linear_norm.mlir", "embedding", [fl(210, (10, 4)), i64([[0, 10, 1], [2, 3, 4]])], 1, backend),
                     ["mm.embedding", "loc("])
        # Writing past the cache capacity (AttentionOps.td): 3 tokens at 8 in 10 slots.
        q, k, v = normal(211, (2, 3, 4, 8)), normal(212, (2, 3, 2, 8)), normal(213, (2, 3, 2, 8))
        kc, vc = normal(214, (2, 10, 2, 8)), normal(215, (2, 10, 2, 8))
        expect_error(mm_run, tally, f"attention-cache-overflow {backend}",
                     ev("attention.mlir", "attention_cache_causal", [q, k, v, kc, vc, i64([0, 8])], 3, backend),
                     ["mm.attention", "loc("])
    for backend in ["reference"] + [b for b in ("cpu", "cuda") if b in backends]:
        # 2 queries placed at key 5 of 6 (AttentionOps.td, query_start).
        q, k, v = normal(220, (2, 2, 4, 8)), normal(221, (2, 6, 2, 8)), normal(222, (2, 6, 2, 8))
        expect_error(mm_run, tally, f"attention-query-start-out-of-range {backend}",
                     ev("attention.mlir", "attention_query_start", [q, k, v, i64([5])], 1, backend),
                     ["loc(", "query_start"])
        # A value head dim of its own: no executor implements it; each must say so.
        q, k, v = fl(223, (1, 5, 2, 4)), fl(224, (1, 5, 2, 4)), fl(225, (1, 5, 2, 6))
        expect_error(mm_run, tally, f"lightning-value-dim {backend}",
                     ev("attention.mlir", "lightning_value_dim", [q, k, v], 2, backend),
                     ["loc(", "mm.lightning_attention", "head dim"])
    for backend in ["reference"] + [b for b in ("cpu", "cuda") if b in backends]:
        # A label outside the classes (LossOps.td) and a scatter index outside the dim.
        expect_error(mm_run, tally, f"cross-entropy-label-out-of-range {backend}",
                     ev("loss.mlir", "ce_mean", [fl(226, (3, 6)), i64([0, 6, 2])], 1, backend),
                     ["loc("], ["mm.cross_entropy", "'loss' kernel"])
        expect_error(mm_run, tally, f"scatter-add-index-out-of-range {backend}",
                     ev("shape.mlir", "scatter_add", [fl(227, (4, 3)), i64([0, 1, 4, 2, 0]), fl(228, (5, 3))],
                        1, backend),
                     ["loc("], ["mm.scatter_add", "'scatter_add' kernel"])
    if "cuda" in backends:
        # The CUDA kernels report through an error flag: the message names the kernel.
        expect_error(mm_run, tally, "embedding-id-out-of-range cuda",
                     ev("linear_norm.mlir", "embedding", [fl(210, (10, 4)), i64([[0, 10, 1], [2, 3, 4]])], 1, "cuda"),
                     ["loc(", "'embedding' kernel", "outside its dimension"])
        expect_error(mm_run, tally, "gather-index-out-of-range cuda",
                     ev("shape.mlir", "gather_take", [fl(216, (5, 3)), i64([[0, 5], [1, 2]])], 1, "cuda"),
                     ["loc(", "'gather' kernel", "outside its dimension"])
        for fn in ("merge_image_features", "merge_image_features_grad"):
            expect_error(mm_run, tally, f"{fn.replace('_', '-')}-placeholder-count cuda",
                         ev("vision_recsys.mlir", fn,
                            [fl(217, (2, 5, 4)), i64([[1, 7, 2, 3, 2], [7, 4, 5, 6, 8]]), fl(218, (3, 4))], 1, "cuda"),
                         ["loc(", "'merge_image_features' kernel", "placeholder"])
        q, k, v = normal(211, (2, 3, 4, 8)), normal(212, (2, 3, 2, 8)), normal(213, (2, 3, 2, 8))
        kc, vc = normal(214, (2, 10, 2, 8)), normal(215, (2, 10, 2, 8))
        expect_error(mm_run, tally, "attention-cache-overflow cuda",
                     ev("attention.mlir", "attention_cache_causal", [q, k, v, kc, vc, i64([0, 8])], 3, "cuda"),
                     ["loc(", "'attention' kernel", "capacity"])
    # The rest have no compiled kernel (or refuse); the reference executor checks them.
    expect_error(mm_run, tally, "gather-index-out-of-range reference",
                 ev("shape.mlir", "gather_take", [fl(216, (5, 3)), i64([[0, 5], [1, 2]])], 1, "reference"),
                 ["mm.gather", "loc("])
    expect_error(mm_run, tally, "gather-negative-index reference",
                 ev("shape.mlir", "gather_take", [fl(216, (5, 3)), i64([[0, -1], [1, 2]])], 1, "reference"),
                 ["mm.gather", "loc("])
    expect_error(mm_run, tally, "merge-placeholder-count reference",
                 ev("vision_recsys.mlir", "merge_image_features",
                    [fl(217, (2, 5, 4)), i64([[1, 7, 2, 3, 2], [7, 4, 5, 6, 8]]), fl(218, (3, 4))], 1, "reference"),
                 ["mm.merge_image_features", "loc("])
    for backend in ("reference", "cpu"):
        expect_error(mm_run, tally, f"merge-grad-placeholder-count {backend}",
                     ev("vision_recsys.mlir", "merge_image_features_grad",
                        [fl(217, (2, 5, 4)), i64([[1, 7, 2, 3, 2], [7, 4, 5, 6, 8]]), fl(218, (3, 4))], 1, backend),
                     ["mm.merge_image_features_grad", "3 feature rows" if backend == "cpu" else "loc("])
        expect_error(mm_run, tally, f"dispatch-expert-out-of-range {backend}",
                     ev("moe.mlir", "dispatch", [fl(219, (2, 3, 4)), i64([[[0, 1], [2, 4]], [[3, 2], [2, 3]], [[0, 3], [2, 0]]]).reshape(2, 3, 2)], 3, backend),
                     ["mm.moe_dispatch", "loc("])


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    mm_run, cases_dir = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    filt = argv[argv.index("--filter") + 1] if "--filter" in argv else None
    backends = (argv[argv.index("--backends") + 1] if "--backends" in argv else "reference,cpu").split(",")
    build_cases()
    tally = Tally()
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="mm-eval-") as tmp:
        for i, case in enumerate(CASES):
            if filt and filt not in f"{case.op} {case.label}":
                continue
            run_case(mm_run, cases_dir, tmp, i, case, tally, backends)
        if (not filt or "error" in filt) and "cpu" in backends:
            error_cases(mm_run, cases_dir, tmp, tally)
            runtime_error_cases(mm_run, cases_dir, tmp, tally, backends)
    ops = sorted({c.op for c in CASES})
    print(f"# {len(ops)} ops, {len(CASES)} cases in {time.time() - t0:.1f}s; "
          f"{tally.xfailed} expected failures, {tally.xpassed} unexpected passes; "
          + "; ".join(f"{b} refused: {', '.join(sorted(set(tally.refused.get(b, [])))) or 'none'}"
                      for b in backends if b != "reference"))
    print(f"{tally.passed} passed, {tally.failed} failed")
    return 1 if tally.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
