"""Partitioned mm programs on CPU ranks equal the whole program on one.

Usage: check_partitioned_eval.py MM_OPT MM_RUN MM_COMPILE MODULE

MODULE's functions carry shard.shard annotations; -mm-partition-pipeline
(upstream sharding-propagation and shard-partition) turns each into the
program every rank runs. `mpirun -np N mm-run eval` runs that on the
reference executor and compiled for the CPU, and an AOT binary of it
(mm-compile) runs under mpirun too; rank 0's result must equal `mm-run eval`
of the annotated module in one process.

Tolerance: the partitioned products sum the same K <= 16 terms in another
order (two partial sums, then an all_reduce), so they differ by float32
rounding, at most about K * 2^-24 of the sum of |terms|: below 1e-5 of the
outputs' scale. A missing or doubled reduction, a wrong slice or a gather in
the wrong order is off by O(1).
"""
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from mpi_launch import mpirun  # noqa: E402

mm_opt, mm_run, mm_compile, module = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="mm-partition-")
rng = np.random.default_rng(7)
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def save_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, v in tensors.items():
        b = v.astype(np.float32).tobytes()
        header[name] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


params = os.path.join(work, "w.safetensors")
save_safetensors(params, {"w1": rng.standard_normal((16, 8)), "w2": rng.standard_normal((8, 16)),
                          "g": rng.standard_normal(8), "w": rng.standard_normal((6, 8)),
                          "b": rng.standard_normal(6), "wqkv": rng.standard_normal((24, 8)),
                          "wo": rng.standard_normal((8, 8)), "wq": rng.standard_normal((8, 8)),
                          "wk": rng.standard_normal((4, 8)), "wv": rng.standard_normal((4, 8)),
                          "wlk": rng.standard_normal((8, 8)), "wlv": rng.standard_normal((8, 8)),
                          "wexp": rng.standard_normal((4, 6, 8)), "emb": rng.standard_normal((6, 4))})
x = rng.standard_normal((4, 8)).astype(np.float32)

partitioned = os.path.join(work, "partitioned.mlir")
p = subprocess.run([mm_opt, module, "-mm-partition-pipeline", "-o", partitioned],
                   capture_output=True, text=True)
check(p.returncode == 0, "mm-opt -mm-partition-pipeline" + ("" if p.returncode == 0 else p.stderr))

x6 = x[:, :6].copy()
positions = np.arange(4, dtype=np.int64)[None, :]
state0 = rng.standard_normal((1, 4, 2, 2)).astype(np.float32)
rows = rng.standard_normal((6, 8)).astype(np.float32)
offsets = np.array([0, 1, 3, 3, 6], dtype=np.int64)  # expert 2 gets no rows
grad_rows = rng.standard_normal((6, 6)).astype(np.float32)
token_ids = np.array([[5, 0, 3, 2, 3]], dtype=np.int64)
lightning_grad_inputs = [rng.standard_normal((1, 4, 4, 2)).astype(np.float32) for _ in range(4)] + \
    [rng.standard_normal((1, 4, 2, 2)).astype(np.float32)]
# Labels in both halves of the 6 classes, repeated, and one ignored (-100).
labels = np.array([5, 0, -100, 2], dtype=np.int64)
loss_grad = np.array(0.7, dtype=np.float32)
position_grads = rng.standard_normal(4).astype(np.float32)
# (function, ranks, the whole argument, each rank's slice of it: rank -> array)
cases = [
    ("megatron_mlp", 2, x, lambda r: x),
    ("dp_tp", 4, x, lambda r: x[(r // 2) * 2:(r // 2 + 1) * 2]),   # rows by the grid's axis 0
    ("norm_of_split", 4, x, lambda r: x[:, (r % 2) * 4:(r % 2 + 1) * 4]),  # columns by axis 1
    ("biased_row_parallel", 4, x, lambda r: x),
    ("heads", 2, x[:3], lambda r: x[:3]),
    ("other_reshape", 2, x6, lambda r: x6[:, r * 3:(r + 1) * 3]),
    ("gqa_attention", 2, [x[None, :, :], positions], lambda r: [x[None, :, :], positions]),
    # heads by rank: rank r runs heads 2r, 2r + 1 from their part of the state
    ("lightning_heads_split", 2, [x[None, :, :], state0], lambda r: [x[None, :, :], state0[:, 2 * r:2 * r + 2]]),
    # the same heads' gradients (q, k, v, do by heads; the state gradient too)
    ("lightning_grad_heads_split", 2, lightning_grad_inputs,
     lambda r: [a[:, :, 2 * r:2 * r + 2] for a in lightning_grad_inputs[:4]] +
               [lightning_grad_inputs[4][:, 2 * r:2 * r + 2]]),
    ("experts_on_grid", 4, [rows, offsets], lambda r: [rows, offsets]),
    # the experts' backward: rank r's 2 experts (expert 2, rank 1's, has no rows)
    ("experts_weight_grad_split", 2, [grad_rows, rows, offsets], lambda r: [grad_rows, rows, offsets]),
    ("experts_input_grad_split", 2, [grad_rows, offsets], lambda r: [grad_rows, offsets]),
    # ids of both halves of the vocabulary, and repeated
    ("vocab_parallel_embedding", 2, token_ids, lambda r: token_ids),
    # the cross-entropy of a vocab-parallel LM head and its gradients
    ("vocab_parallel_cross_entropy", 2, [x, labels], lambda r: [x, labels]),
    ("vocab_parallel_cross_entropy_none", 4, [x, labels], lambda r: [x, labels]),
    ("vocab_parallel_cross_entropy_grad", 2, [x, labels, loss_grad], lambda r: [x, labels, loss_grad]),
    ("vocab_parallel_cross_entropy_grad_none", 2, [x, labels, position_grads],
     lambda r: [x, labels, position_grads]),
]
for function, ranks, whole_input, slice_of in cases:
    whole = os.path.join(work, f"{function}.whole.npy")
    wholes = whole_input if isinstance(whole_input, list) else [whole_input]
    for i, a in enumerate(wholes):
        np.save(os.path.join(work, f"{function}.x{i}.npy"), a)
    inputs = [a for i in range(len(wholes)) for a in ("--input", "@" + os.path.join(work, f"{function}.x{i}.npy"))]
    p = subprocess.run([mm_run, "eval", module, "--function", function] + inputs +
                       ["--params", params, "--output", "@" + whole],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"@{function} in one process" + ("" if p.returncode == 0 else p.stderr))
    if p.returncode:
        continue
    expected = np.load(whole)
    for r in range(ranks):
        parts = slice_of(r) if isinstance(whole_input, list) else [slice_of(r)]
        for i, a in enumerate(parts):
            np.save(os.path.join(work, f"{function}.x{i}.rank{r}.npy"), a)
    rank_inputs = [a for i in range(len(wholes))
                   for a in ("--input", "@" + os.path.join(work, f"{function}.x{i}.rank{{RANK}}.npy"))]
    for backend in ("reference", "cpu"):
        out = os.path.join(work, f"{function}.{backend}.npy")
        code, so, se, _ = mpirun(ranks, [mm_run, "eval", partitioned, "--function", function] + rank_inputs +
                                 ["--params", params, "--output", "@" + out, "--backend", backend,
                                  "--collective-timeout", "60"], timeout=300)
        if code != 0:
            check(False, f"@{function} on {ranks} ranks, {backend}: exit {code}\n{(so + se)[-2000:]}")
            continue
        # Each rank binds only its parts of split weights: w1 and w2 (128
        # floats each) are halved by tp=2; g (8) stays whole: 544 of 1056 bytes.
        if function == "megatron_mlp":
            held = [int(b) for b in re.findall(r"rank \d of 2: (\d+) bytes of weights bound", se)]
            check(held == [(64 + 64 + 8) * 4] * 2,
                  f"@megatron_mlp, {backend}: each rank holds 544 of 1056 weight bytes ({held})")
        got = np.load(out)
        scale = float(np.abs(expected).max())
        err = float(np.abs(got - expected).max()) if got.shape == expected.shape else float("inf")
        check(err <= 1e-5 * max(1.0, scale),
              f"@{function} on {ranks} ranks, {backend}: {got.shape}, max error {err:.2e} (scale {scale:.2f})")

# The AOT binary of a partitioned function runs on the ranks as well.
binary = os.path.join(work, "dp_tp.bin")
p = subprocess.run([mm_compile, partitioned, "--function", "dp_tp", "--target", "cpu", "-o", binary],
                   capture_output=True, text=True)
check(p.returncode == 0, "mm-compile of the partitioned @dp_tp" + ("" if p.returncode == 0 else p.stderr))
if p.returncode == 0:
    out = os.path.join(work, "dp_tp.aot.npy")
    code, so, se, _ = mpirun(4, [binary, "--input", "@" + os.path.join(work, "dp_tp.x0.rank{RANK}.npy"),
                                 "--params", params, "--output", "@" + out], timeout=300)
    expected = np.load(os.path.join(work, "dp_tp.whole.npy"))
    err = float(np.abs(np.load(out) - expected).max()) if code == 0 else float("inf")
    check(code == 0 and err <= 1e-5 * max(1.0, float(np.abs(expected).max())),
          f"the AOT binary of @dp_tp on 4 ranks: max error {err:.2e}" + ("" if code == 0 else (so + se)[-2000:]))

# An id past the vocabulary is an error on every rank, though each rank
# holds only a part of the table (the part's other ids are zero rows).
np.save(os.path.join(work, "bad_ids.npy"), np.array([[1, 6, 0, 0, 0]], dtype=np.int64))
for backend in ("reference", "cpu"):
    code, so, se, _ = mpirun(2, [mm_run, "eval", partitioned, "--function", "vocab_parallel_embedding",
                                 "--input", "@" + os.path.join(work, "bad_ids.npy"), "--params", params,
                                 "--backend", backend], timeout=120)
    refused = code not in (0, None) and "token id 6 is outside the vocabulary [0, 6)" in se
    check(refused, f"@vocab_parallel_embedding, {backend}: id 6 of 6 rows is refused" +
          ("" if refused else f" (exit {code}): {se[-1500:]}"))

# So is a label past the classes, or negative and not the ignore index, in
# the vocab-parallel cross-entropy (each rank holds 3 of the 6 classes).
for bad in (6, -3):
    bad_labels = os.path.join(work, f"bad_labels{bad}.npy")
    np.save(bad_labels, np.array([1, bad, 0, -100], dtype=np.int64))
    for backend in ("reference", "cpu"):
        code, so, se, _ = mpirun(2, [mm_run, "eval", partitioned, "--function", "vocab_parallel_cross_entropy",
                                     "--input", "@" + os.path.join(work, "vocab_parallel_cross_entropy.x0.rank0.npy"),
                                     "--input", "@" + bad_labels, "--params", params,
                                     "--backend", backend], timeout=120)
        refused = code not in (0, None) and f"token id {bad} is outside the vocabulary [0, 6)" in se
        check(refused, f"@vocab_parallel_cross_entropy, {backend}: label {bad} of 6 classes is refused" +
              ("" if refused else f" (exit {code}): {se[-1500:]}"))

# A partitioned program on the wrong number of ranks is refused, naming the grid size.
code, so, se, _ = mpirun(2, [mm_run, "eval", partitioned, "--function", "dp_tp", "--input",
                             "@" + os.path.join(work, "dp_tp.x0.rank{RANK}.npy"), "--params", params],
                         timeout=120)
check(code not in (0, None) and "partitioned for a grid of 4 devices, but runs on 2 ranks" in se,
      "a 4-device program on 2 ranks is refused" + ("" if code else se[-1500:]))

# Lightning attention and its gradient with the sequence split over
# context-parallel ranks (LASP+): each rank feeds its chunk and writes its
# chunk of the split results (--output with {RANK}); the chunks may be
# uneven, shorter than a block (block_size 2) or empty. Every rank's result
# must equal the one-process run's, and that run the token-by-token
# recurrence (and its hand-derived backward) in float64. Float32 rounding of
# 7 steps of O(1) terms is far below 1e-5 of the scale; a chunk that starts
# from the wrong state or gradient (a missing or misordered prefix) is off
# by O(1).
def lightning_decay(heads, layer, layers):
    base = 2.0 ** (-8.0 * (np.arange(heads) + 1) / heads)  # (a power-of-two head count)
    return np.exp(-base * (1 - layer / (layers - 1) + 1e-5))[None, :, None, None]


def lightning_states(k, v, state, decay):
    """S_t after each token t (S_t = lambda S_{t-1} + k_t v_t^T), float64."""
    s, states = state.astype(np.float64), []
    for t in range(k.shape[1]):
        s = decay * s + np.einsum("bhk,bhv->bhkv", k[:, t], v[:, t])
        states.append(s)
    return states


def lightning_forward(q, k, v, state, layer):
    states = lightning_states(k, v, state, lightning_decay(q.shape[2], layer, 3))
    out = np.stack([np.einsum("bhk,bhkv->bhv", q[:, t], s) for t, s in enumerate(states)], 1)
    return [out, states[-1] if states else state.astype(np.float64)]


def lightning_backward(q, k, v, do, grad_final, state, layer):
    """The op's documented backward: G_T = dS_T + q_T do_T^T, G_t = lambda G_{t+1} + q_t do_t^T,
    dq_t = S_t do_t, dk_t = G_t v_t, dv_t = G_t^T k_t, d S_0 = lambda G_1."""
    decay = lightning_decay(q.shape[2], layer, 3)
    states = lightning_states(k, v, state, decay)
    dq, dk, dv = (np.zeros(a.shape) for a in (q, k, v))
    g = grad_final.astype(np.float64)
    for t in reversed(range(q.shape[1])):
        g = (decay * g if t < q.shape[1] - 1 else g) + np.einsum("bhk,bhv->bhkv", q[:, t], do[:, t])
        dq[:, t] = np.einsum("bhkv,bhv->bhk", states[t], do[:, t])
        dk[:, t] = np.einsum("bhkv,bhv->bhk", g, v[:, t])
        dv[:, t] = np.einsum("bhkv,bhk->bhv", g, k[:, t])
    return [dq, dk, dv, decay * g if q.shape[1] else g]


def run_sequence_split(function, ranks, whole, chunk_of, oracle, chunks, backends=("reference", "cpu")):
    """Runs `function` whole and on `ranks` ranks; chunk_of(r, a) is rank r's part of a."""
    stem = os.path.join(work, function)
    for i, a in enumerate(whole):
        np.save(f"{stem}.x{i}.npy", a)
    expected_files = [f"{stem}.r{i}.npy" for i in range(len(oracle))]
    p = subprocess.run([mm_run, "eval", module, "--function", function, "--params", params] +
                       [a for i in range(len(whole)) for a in ("--input", f"@{stem}.x{i}.npy")] +
                       [a for f in expected_files for a in ("--output", "@" + f)],
                       capture_output=True, text=True)
    check(p.returncode == 0, f"@{function} in one process" + ("" if p.returncode == 0 else p.stderr))
    if p.returncode:
        return
    expected = [np.load(f) for f in expected_files]
    scale = max(1.0, max(float(np.abs(o).max(initial=0.0)) for o in oracle))
    err = max(float(np.abs(e - o).max(initial=0.0)) for e, o in zip(expected, oracle))
    check(err <= 1e-5 * scale,
          f"@{function} in one process equals the float64 recurrence: max error {err:.2e} (scale {scale:.1f})")
    for r in range(ranks):
        for i, a in enumerate(whole):
            np.save(f"{stem}.x{i}.rank{r}.npy", chunk_of(r, a))
    for backend in backends:
        args = [a for i in range(len(whole)) for a in ("--input", f"@{stem}.x{i}.rank{{RANK}}.npy")]
        args += [a for i in range(len(expected)) for a in ("--output", f"@{stem}.{backend}.r{i}.rank{{RANK}}.npy")]
        code, so, se, _ = mpirun(ranks, [mm_run, "eval", partitioned, "--function", function,
                                         "--params", params, "--backend", backend,
                                         "--collective-timeout", "60"] + args, timeout=300)
        if code != 0:
            check(False, f"@{function}, chunks {chunks}, {backend}: exit {code}\n{(so + se)[-2000:]}")
            continue
        err = 0.0
        for r in range(ranks):
            for i, e in enumerate(expected):
                got, want = np.load(f"{stem}.{backend}.r{i}.rank{r}.npy"), chunk_of(r, e)
                err = max(err, float(np.abs(got - want).max(initial=0.0)) if got.shape == want.shape
                          else float("inf"))
        check(err <= 1e-5 * scale, f"@{function} on {ranks} ranks, chunks {chunks}, {backend}: every "
              f"rank's results, max error {err:.2e}")


lq = [rng.standard_normal((1, 7, 4, 2)).astype(np.float32) for _ in range(4)]
lstate, lgrad_final = (rng.standard_normal((1, 4, 2, 2)).astype(np.float32) for _ in range(2))
for chunks in ([4, 1, 2], [1, 1, 5], [0, 5, 2]):
    bounds = np.cumsum([0] + chunks)
    # (a tensor of 7 tokens is split; the states are whole: every rank reads and returns all of it)
    split = lambda r, a, b=bounds: a[:, b[r]:b[r + 1]] if a.ndim == 4 and a.shape[1] == 7 else a  # noqa: E731
    run_sequence_split("lightning_sequence_split", 3, lq[:3] + [lstate], split,
                       lightning_forward(*lq[:3], lstate, 1), chunks)
    run_sequence_split("lightning_grad_sequence_split", 3, lq + [lgrad_final, lstate], split,
                       lightning_backward(*lq, lgrad_final, lstate, 1), chunks)
# On the 2x2 grid: rank r holds batch row r // 2 and sequence chunk r % 2.
gq = [rng.standard_normal((2, 5, 4, 2)).astype(np.float32) for _ in range(3)]
run_sequence_split("lightning_sequence_split_on_grid", 4, gq,
                   lambda r, a: a[r // 2:r // 2 + 1, (0, 3, 5)[r % 2]:(0, 3, 5)[r % 2 + 1]]
                   if a.shape[1] == 5 else a[r // 2:r // 2 + 1],
                   lightning_forward(*gq, np.zeros((2, 4, 2, 2), np.float32), 0), [3, 2])
# tp x cp on the 2x2 grid: rank r holds sequence chunk r // 2 (3 or 2 tokens)
# of heads block r % 2 (heads 0-1 or 2-3, each with its own decay slope).
hq = [rng.standard_normal((1, 5, 4, 2)).astype(np.float32) for _ in range(3)]
cut = (0, 3, 5)
run_sequence_split("lightning_sequence_and_heads", 4, hq,
                   lambda r, a: a[:, cut[r // 2]:cut[r // 2 + 1], 2 * (r % 2):2 * (r % 2) + 2]
                   if a.shape[1] == 5 else a[:, 2 * (r % 2):2 * (r % 2) + 2],
                   lightning_forward(*hq, np.zeros((1, 4, 2, 2), np.float32), 1), [3, 2])

# Causal softmax attention and its gradient with the sequence split over
# context-parallel ranks (the keys and values all-gathered, each rank's
# queries placed by query_start): every rank's chunk of the outputs must
# equal the one-process run's, and that run the float64 formulas. The
# reference executor takes uneven and empty chunks (the all_gather sizes its
# result at run time); the compiled path takes even ones and refuses uneven
# ones by name. The gradient's dk and dv come back by an even all_slice, so
# it takes even chunks. A rank that attends from the wrong start (a missing
# query_start) or misses a key is off by O(1).
def softmax_attention(q, k, v):
    group = q.shape[2] // k.shape[2]
    kk, vv = (np.repeat(a.astype(np.float64), group, axis=2) for a in (k, v))
    s = np.einsum("bihd,bjhd->bhij", q.astype(np.float64), kk) / np.sqrt(q.shape[3])
    s = np.where(np.tril(np.ones((q.shape[1], k.shape[1]), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return p, kk, vv, np.einsum("bhij,bjhd->bihd", p, vv)


def softmax_attention_backward(q, k, v, do):
    """dv = p^T do, ds = p (do v^T - rowsum(do o)), dq = scale ds k, dk = scale ds^T q; a group's
    query heads' dk and dv summed into their KV head."""
    p, kk, vv, o = softmax_attention(q, k, v)
    scale, group, g = 1 / np.sqrt(q.shape[3]), q.shape[2] // k.shape[2], do.astype(np.float64)
    dp = np.einsum("bihd,bjhd->bhij", g, vv)
    ds = p * (dp - np.einsum("bihd,bihd->bhi", g, o)[..., None])
    dq = scale * np.einsum("bhij,bjhd->bihd", ds, kk)
    dk = scale * np.einsum("bhij,bihd->bjhd", ds, q.astype(np.float64))
    dv = np.einsum("bhij,bihd->bjhd", p, g)
    fold = lambda a: a.reshape(a.shape[0], a.shape[1], -1, group, a.shape[3]).sum(3)  # noqa: E731
    return [dq, fold(dk), fold(dv)]


aq = rng.standard_normal((1, 7, 4, 2)).astype(np.float32)
ak, av = (rng.standard_normal((1, 7, 2, 2)).astype(np.float32) for _ in range(2))
for chunks in ([4, 1, 2], [1, 1, 5], [0, 5, 2]):
    bounds = np.cumsum([0] + chunks)
    split = lambda r, a, b=bounds: a[:, b[r]:b[r + 1]]  # noqa: E731
    run_sequence_split("attention_sequence_split", 3, [aq, ak, av], split,
                       [softmax_attention(aq, ak, av)[3]], chunks, backends=("reference",))
# The compiled path refuses the last uneven split (no hang), naming the gather.
code, so, se, _ = mpirun(3, [mm_run, "eval", partitioned, "--function", "attention_sequence_split",
                             "--backend", "cpu", "--collective-timeout", "60"] +
                         [a for i in range(3) for a in
                          ("--input", "@" + os.path.join(work, f"attention_sequence_split.x{i}.rank{{RANK}}.npy"))],
                         timeout=300)
check(code not in (0, None) and "uneven pieces run on the reference executor" in so + se,
      "uneven chunks on the compiled path are refused, naming the gather" + ("" if code else (so + se)[-1500:]))
gq = rng.standard_normal((1, 6, 4, 2)).astype(np.float32)
gk, gv = (rng.standard_normal((1, 6, 2, 2)).astype(np.float32) for _ in range(2))
run_sequence_split("attention_sequence_split", 3, [gq, gk, gv], lambda r, a: a[:, 2 * r:2 * r + 2],
                   [softmax_attention(gq, gk, gv)[3]], [2, 2, 2])
go = softmax_attention(gq, gk, gv)[3].astype(np.float32)
gdo = rng.standard_normal(go.shape).astype(np.float32)
run_sequence_split("attention_grad_sequence_split", 3, [gq, gk, gv, go, gdo],
                   lambda r, a: a[:, 2 * r:2 * r + 2], softmax_attention_backward(gq, gk, gv, gdo),
                   [2, 2, 2])

if failures:
    print(f"{len(failures)} check(s) failed; work directory {work}")
    sys.exit(1)
print("partitioned programs equal the whole program")
