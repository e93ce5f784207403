"""`mpirun -np N mm-run logits|generate --parallel tp=N[,ep=M]` gives the
single-process answer, on the reference executor and compiled for the CPU.

Usage: check_tensor_parallel.py MM_RUN MM_COMPILE TINY_MODEL_DIR ORACLE_DATA_DIR

Each rank runs its block of the attention heads (softmax and lightning,
whose decay slopes are those of the heads' global places) and of the
projections around them; two all-reduces per lightning layer (the output
norm's sum of squares, the output projection) and one per softmax layer
complete the sums. The LM head splits its vocabulary where it divides
(not 80 over 3 ranks), and the logits are gathered. With ep, each of M ranks holds a block of the experts
and computes their rows; an all_reduce after each grouped GEMM completes
them (each row has one expert, so the sum adds zeros: exact).

Tolerances. Against one process: the tensor-parallel sums add the same
terms in another order (per-rank partial sums, then the all-reduce), so
float32 logits differ by rounding, below 1e-5 of the logit scale (seen:
3e-7). Against the float64 transformers oracle of the test models
(scripts/oracle/minimax_oracle.py): the same bounds as one process
(test/numeric/MiniMaxOracleTest.cpp), 1e-6 of the scale in float64 (only
the checkpoint's float32 storage remains) and 1e-4 in float32. A head with
another head's slope, a missing or doubled reduction or a wrong weight block
is off by O(1e-2) or more.
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

mm_run, mm_compile, tiny, data = sys.argv[1:5]
work = tempfile.mkdtemp(prefix="mm-tp-")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def rel_error(got, want):
    if got.shape != want.shape:
        return float("inf")
    return float(np.abs(got.astype(np.float64) - want).max() / np.abs(want).max())


def logits_on_ranks(ranks, model, ids, backend, precision="f32", parallel=None):
    out = os.path.join(work, f"{os.path.basename(model)}.{ranks}.{backend}.{precision}.npy")
    argv = [mm_run, "logits", "--model", model, "--ids", ",".join(map(str, ids)), "--out", out,
            "--backend", backend, "--precision", precision, "--collective-timeout", "120"]
    if parallel:
        argv += ["--parallel", parallel]
    if ranks == 1:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        code, text = p.returncode, p.stdout + p.stderr
    else:
        code, so, se, _ = mpirun(ranks, argv, timeout=600)
        text = so + se
    if code != 0:
        return None, text[-2500:]
    return np.load(out), text


def tensor_bytes(model):
    """(all, attention, experts, vocabulary) bytes of the model's float32
    tensors: the attention weights (q/k/v/o, the lightning qkv, gate, norm
    and output) split by heads, the experts' by expert, the embedding's and
    the LM head's by vocabulary (384 divides by 2)."""
    with open(os.path.join(model, "model.safetensors"), "rb") as f:
        header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
    sizes = {k: v["data_offsets"][1] - v["data_offsets"][0] for k, v in header.items()
             if k != "__metadata__"}
    return (sum(sizes.values()), sum(b for k, b in sizes.items() if ".self_attn." in k),
            sum(b for k, b in sizes.items() if ".experts." in k),
            sizes["lm_head.weight"] + sizes["model.embed_tokens.weight"])


# The bundled model: tp=2 (and ep=2) against one process, both backends.
# Each rank holds its half of the attention weights, the embedding and the
# LM head (and of the experts'), and all the rest.
ids = [1, 5, 9, 33, 7, 100, 2, 8, 64, 3, 250, 17]
total, attention, experts, vocabulary = tensor_bytes(tiny)
attention += vocabulary  # split over the same ranks
whole, text = logits_on_ranks(1, tiny, ids, "reference")
check(whole is not None, "minimax-tiny in one process" + ("" if whole is not None else text))


def tiny_against_one_process(ranks, parallel, backend, what):
    """The bundled model's logits on `ranks` ranks against one process's;
    returns the run's output, or None."""
    got, text = logits_on_ranks(ranks, tiny, ids, backend, parallel=parallel)
    if got is None:
        check(False, f"{what}: {text}")
        return None
    err = rel_error(got, whole)
    check(err <= 1e-5, f"{what}: relative error {err:.2e} against one process")
    return text


# tp=2,etp=2: each expert's FFN width halved instead of its experts.
for parallel, split in (("tp=2", attention), ("tp=2,ep=2", attention + experts),
                        ("tp=2,etp=2", attention + experts)):
    for backend in ("reference", "cpu"):
        what = f"minimax-tiny, {parallel}, {backend}"
        text = tiny_against_one_process(2, parallel, backend, what)
        if text is None:
            continue
        held = sorted(int(b) for b in re.findall(r"rank \d of 2: (\d+) bytes of weights bound", text))
        want_held = total - split // 2
        check(held == [want_held] * 2,
              f"{what}: each rank holds {held} of {total} weight bytes (want {want_held})")

# More ranks than KV heads: each KV head replicated on tp / KV ranks (vLLM's
# choice), every rank attending its query heads to its copy. 4 ranks over
# the bundled model's 2 KV heads (copies [0, 0, 1, 1]: a wrong head map
# changes the answer), the experts over all 4 or over 2 of a 2x2 grid.
# With tp=4,ep=2,etp=2 each rank holds 2 experts' halves (a 2x2 grid, the
# width over its fastest axis).
for parallel in ("tp=4", "tp=4,ep=2", "tp=4,ep=2,etp=2"):
    for backend in ("reference", "cpu"):
        tiny_against_one_process(4, parallel, backend,
                                 f"minimax-tiny, {parallel} (KV heads replicated), {backend}")

# Oracle models: 6 heads over 3 ranks (3 KV heads; ALiBi slopes of a
# non-power-of-two count), 4 over 2, and 2 query heads over 2 ranks sharing
# 1 KV head (replicated), against transformers in float64.
for name, ranks, parallel in (("official-bf16", 3, "tp=3"), ("hf-f32-packed", 2, "tp=2,ep=2"),
                              ("hf-f16-sharded-tied", 2, "tp=2")):
    model = os.path.join(data, name)
    prompt = json.load(open(os.path.join(model, "expected.json")))["prompt"]
    oracle = np.load(os.path.join(model, "logits.npy")).astype(np.float64)
    for backend, precision, bound in (("reference", "f64", 1e-6), ("cpu", "f32", 1e-4)):
        what = f"{name}, {parallel}, {backend} {precision}"
        got, text = logits_on_ranks(ranks, model, prompt, backend, precision, parallel)
        if got is None:
            check(False, f"{what}: {text}")
            continue
        err = rel_error(got, oracle)
        check(err <= bound, f"{what}: relative error {err:.2e} against the float64 oracle "
                            f"(bound {bound:.0e})")

# Greedy generation: the same tokens as one process (each step's logits are
# rank 0's, so the ranks never sample apart).
gen = [mm_run, "generate", "--model", tiny, "--ids", "1,5,9,33", "--max-new-tokens", "16",
       "--greedy", "--json", "--backend", "cpu"]
p = subprocess.run(gen, capture_output=True, text=True, timeout=300)
want = json.loads(p.stdout.strip().splitlines()[-1])["ids"] if p.returncode == 0 else None
code, so, se, _ = mpirun(2, gen + ["--parallel", "tp=2"], timeout=300)
lines = so.strip().splitlines()
got = json.loads(lines[-1])["ids"] if code == 0 and lines else None
check(want is not None and got == want, f"generate, tp=2, cpu: {got} == {want}" +
      ("" if code == 0 else (so + se)[-2000:]))
check(code == 0 and sum(l.startswith("{") for l in lines) == 1,
      "generate, tp=2: rank 0 alone prints the JSON")
# The KV cache of replicated heads: each of 4 ranks keeps its copy's.
code, so, se, _ = mpirun(4, gen + ["--parallel", "tp=4,ep=2"], timeout=300)
lines = so.strip().splitlines()
got = json.loads(lines[-1])["ids"] if code == 0 and lines else None
check(want is not None and got == want, f"generate, tp=4,ep=2, cpu: {got} == {want}" +
      ("" if code == 0 else (so + se)[-2000:]))

# The AOT binary of a model-parallel program (mm-compile --parallel
# tp=2,ep=2) generates the same tokens on 2 ranks, and says how to launch it
# otherwise.
binary = os.path.join(work, "tiny-tp2")
p = subprocess.run([mm_compile, "--model", tiny, "--target", "cpu", "--parallel", "tp=2,ep=2",
                    "--max-batch", "1", "--max-tokens", "8", "--max-context", "32", "-o", binary],
                   capture_output=True, text=True, timeout=600)
check(p.returncode == 0, "mm-compile --parallel tp=2,ep=2" + ("" if p.returncode == 0 else p.stderr[-2000:]))
if p.returncode == 0:
    aot = [binary, "--ids", "1,5,9,33", "--max-new-tokens", "16", "--greedy", "--json"]
    code, so, se, _ = mpirun(2, aot + ["--parallel", "tp=2,ep=2"], timeout=300)
    lines = so.strip().splitlines()
    got = json.loads(lines[-1])["ids"] if code == 0 and lines else None
    check(got == want, f"the AOT binary on 2 ranks: {got} == {want}" + ("" if code == 0 else (so + se)[-2000:]))
    p = subprocess.run(aot, capture_output=True, text=True, timeout=120)
    check(p.returncode != 0 and "compiled for tp=2,ep=2 (mpirun -np 2" in p.stderr,
          "the tp=2 binary on one rank is refused" + ("" if p.returncode else p.stdout[-500:]))

# What inference cannot split is refused, naming the reason.
refusals = [
    (os.path.join(data, "official-bf16"), "tp=2", "reference",
     "num_key_value_heads 3 does not split over tp=2"),
    (tiny, "ep=2", "reference", "leaves dp=2"),
    (tiny, "cp=2", "reference", "inference splits tp, ep and etp only so far (cp is refused)"),
    (tiny, "tp=2,ep=2,etp=2", "reference", "etp x ep = 2 x 2 = 4 does not divide the world size 2"),
    (tiny, "tp=2,ep=3", "reference", "ep=3"),
    (tiny, "tp=2", "cuda", "--backend cuda runs one rank so far"),
    (tiny, "tp=4", "reference", "tp=4"),
]
for model, parallel, backend, message in refusals:
    code, so, se, _ = mpirun(2, [mm_run, "logits", "--model", model, "--ids", "1,2,3", "--out",
                                 os.path.join(work, "refused.npy"), "--parallel", parallel,
                                 "--backend", backend], timeout=120)
    check(code not in (0, None) and message in se,
          f"--parallel {parallel} --backend {backend} on {os.path.basename(model)} is refused" +
          ("" if code not in (0, None) and message in se else f" (exit {code}): {se[-1500:]}"))

if failures:
    print(f"{len(failures)} check(s) failed; work directory {work}")
    sys.exit(1)
print("tensor-parallel inference equals one process")
