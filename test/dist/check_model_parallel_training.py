"""`mpirun -np N mm-train pretrain --parallel tp=A[,ep=M][,etp=K]` gives the
single-process run, up to float32 reduction order: the training step (forward,
backward, clipping and AdamW) partitioned by -mm-model-parallel and
-mm-partition-pipeline, each rank holding only its parts of the split weights
and of their moments. With N > A, N / A data-parallel replicas of the tp
group each train on their slice of the batch and average the gradients of
their parts (ZeRO-1 over the replicas). Checkpoints (whole, gathered from the
ranks) move between layouts; layouts not built are refused.

Usage: check_model_parallel_training.py MM_TRAIN MODEL_DIR

Tolerances: train_runs.py.
"""
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from mpi_launch import mpirun  # noqa: E402
from train_runs import TrainRuns  # noqa: E402

runs = TrainRuns(sys.argv[1], sys.argv[2], tempfile.mkdtemp(prefix="mm-tp-train-"))
check, args = runs.check, runs.args

code, _, err = runs.single(args("one"))
check(code == 0, "one process trains" + ("" if code == 0 else ": " + err[-2000:]))


def held_bytes(err):
    """Per rank: (weight bytes held, whole), (moment bytes held, whole)."""
    return [((int(m[0]), int(m[1])), (int(m[2]), int(m[3]))) for m in re.findall(
        r"mm-train: rank \d+ of \d+: (\d+) of (\d+) bytes of weights, (\d+) of (\d+) bytes", err)]


# The tiny model: 4 heads / 2 KV heads, 4 experts of FFN width 128. tp=4
# replicates each KV head on 2 ranks; tp=4,ep=2,etp=2 puts 2 experts' halves
# on each rank. On 4 ranks, tp=2 leaves dp=2: two replicas of a tp pair.
held_by = {}
for n, layout, sharding in ((2, "tp=2", "zero1"), (2, "tp=2,ep=2", "zero1"),
                            (2, "tp=2,etp=2", "zero1"), (4, "tp=4,ep=2,etp=2", "zero1"),
                            (4, "tp=2", "zero1"), (4, "tp=2,ep=2", "zero1"),
                            (4, "tp=2,ep=2", "none")):
    name = f"{n}-" + layout.replace(",", "-").replace("=", "") + f"-{sharding}"
    code, out, err, _ = mpirun(n, args(name, extra=["--parallel", layout,
                                                   "--optimizer-sharding", sharding]), timeout=600)
    what = f"{layout} on {n} ranks" + (" (moments replicated over dp)" if sharding == "none" else "")
    check(code == 0, f"{what} trains" + ("" if code == 0 else ": " + (out + err)[-3000:]))
    if code != 0:
        continue
    runs.same_run("one", name, f"{what} against one process")
    check(err.count("mm-train: 6 steps") == 1, f"{what}: only rank 0 reports")
    held = held_by[name] = held_bytes(err)
    dp = n // int(layout.split(",")[0].split("=")[1])
    # Every rank holds a part: the attention weights and the rows of the
    # embedding and of the LM head split (the experts too with ep / etp),
    # the norms and the router whole; moments are twice the weights, less
    # under ZeRO-1 over dp replicas (the rows of the parts not split along
    # dim 0).
    zero1 = dp > 1 and sharding == "zero1"
    check(len(held) == n and all(w < 0.95 * whole and (m < 2 * w if zero1 else m == 2 * w)
                                 and mw == 2 * whole for (w, whole), (m, mw) in held),
          f"{what}: each rank holds a part of the weights and moments ({held})")
    if layout == "tp=2":
        # 2071552 less half the attention's 294912 bytes and half of the
        # embedding's and the LM head's 98304 each. The LM head is split for
        # the vocab-parallel cross-entropy: whole, a rank held 1874944.
        check(all(w == 1825792 for (w, _), _ in held),
              f"{what}: the LM head's rows are split too, 1825792 bytes a rank ({held})")
    if layout == "tp=2,ep=2":
        check(all(w < 0.55 * whole for (w, whole), _ in held),
              f"{what}: with the experts split too, about half ({held})")
    if dp > 1:
        check(f"data parallel over {dp} groups of {n // dp} ranks" in err,
              f"{what}: {dp} data-parallel replicas of the tp group")
# ZeRO-1 over the replicas holds fewer moment bytes than replicating them.
zero, none = held_by.get("4-tp2-ep2-zero1"), held_by.get("4-tp2-ep2-none")
check(bool(zero and none) and all(z[1][0] < r[1][0] for z, r in zip(zero, none)),
      f"tp=2,ep=2 on 4 ranks: ZeRO-1 holds fewer moment bytes ({zero} against {none})")

# The reference executor (the oracle) runs the partitioned step too.
code, _, err = runs.single(args("ref1", steps=2, backend="reference"))
check(code == 0, "one process trains on the reference executor" + ("" if code == 0 else err[-2000:]))
code, out, err, _ = mpirun(2, args("ref-tp2ep2", steps=2, backend="reference",
                                   extra=["--parallel", "tp=2,ep=2"]), timeout=600)
check(code == 0, "tp=2,ep=2 on the reference executor" + ("" if code == 0 else (out + err)[-3000:]))
if code == 0:
    runs.same_run("ref1", "ref-tp2ep2", "reference, tp=2,ep=2 against one process")
code, out, err, _ = mpirun(4, args("ref-dp2tp2", steps=2, backend="reference",
                                   extra=["--parallel", "tp=2"]), timeout=600)
check(code == 0, "tp=2 on 4 ranks (dp=2) on the reference executor" + ("" if code == 0 else (out + err)[-3000:]))
if code == 0:
    runs.same_run("ref1", "ref-dp2tp2", "reference, tp=2 on 4 ranks against one process")

# Context parallelism: each sequence of 32 tokens in chunks of 16, one a
# rank (LASP+ for the lightning layers, the keys and values all-gathered for
# the softmax one, the weight gradients' partial sums all-reduced over the
# chunks); alone, beside dp=2 and beside tp=2 on 4 ranks, compiled and on
# the reference executor. Weights stay whole on every rank.
for n, layout, backend, one in ((2, "cp=2", "cpu", "one"), (4, "cp=2", "cpu", "one"),
                                (4, "tp=2,cp=2", "cpu", "one"), (2, "cp=2", "reference", "ref1")):
    name = f"{n}-" + layout.replace(",", "-").replace("=", "") + "-" + backend
    steps = 6 if backend == "cpu" else 2
    code, out, err, _ = mpirun(n, args(name, steps=steps, backend=backend,
                                       extra=["--parallel", layout]), timeout=600)
    what = f"{layout} on {n} ranks, {backend}"
    check(code == 0, f"{what} trains" + ("" if code == 0 else ": " + (out + err)[-3000:]))
    if code == 0:
        runs.same_run(one, name, f"{what} against one process")
        check("each sequence in 2 chunks" in err, f"{what}: the layout is reported")

# Checkpoints hold whole weights and moments: a tp=2,ep=2 run resumes in one
# process, and a one-process run resumes split.
for src, n, layout, dst in (("2-tp2-ep2-zero1", 1, None, "tp-to-1"),
                            ("one", 2, "tp=2,ep=2", "1-to-tp"),
                            ("4-tp2-ep2-zero1", 2, "tp=2", "dp-tp-to-tp"),
                            ("2-tp2-zero1", 4, "tp=2,ep=2", "tp-to-dp-tp")):
    if not os.path.isdir(os.path.join(runs.work, src)):
        check(False, f"{src} exists to resume from")
        continue
    shutil.copytree(os.path.join(runs.work, src), os.path.join(runs.work, dst))
    shutil.rmtree(os.path.join(runs.work, dst, "checkpoints", "step-00000006"))
    os.remove(os.path.join(runs.work, dst, "model.safetensors"))
    extra = ["--resume"] + (["--parallel", layout] if layout else [])
    if n == 1:
        code, _, err = runs.single(args(dst, extra=extra))
    else:
        code, out, err, _ = mpirun(n, args(dst, extra=extra), timeout=600)
    check(code == 0 and "resuming from" in err,
          f"a checkpoint of {src} resumes on {layout or 'one process'}" + ("" if code == 0 else err[-2000:]))
    if code == 0:
        runs.same_run("one", dst, f"{src} resumed on {layout or 'one process'}")

# mm-train sft (the loss on the answer tokens only) splits the same way.
def sft_args(out, task="add:1"):
    m = runs.model
    return [runs.mm_train, "sft", "--task", task, "--config", os.path.join(m, "config.json"),
            "--tokenizer", os.path.join(m, "tokenizer.json"), "--steps", "6", "--seed", "0",
            "--threads", "1", "--batch-size", "8", "--save-every", "3", "--log-every", "1",
            "--out", os.path.join(runs.work, out)]


code, _, err = runs.single(sft_args("sft-one"))
check(code == 0, "sft in one process" + ("" if code == 0 else ": " + err[-2000:]))
code, out, err, _ = mpirun(2, sft_args("sft-tp2ep2") + ["--parallel", "tp=2,ep=2"], timeout=600)
check(code == 0, "sft with tp=2,ep=2 on 2 ranks" + ("" if code == 0 else ": " + (out + err)[-3000:]))
if code == 0:
    runs.same_run("sft-one", "sft-tp2ep2", "sft, tp=2,ep=2 against one process")
    check(len(held_bytes(err)) == 2, "sft, tp=2,ep=2: each rank holds its parts")
# Data parallel: the replicas' answer-token counts differ, so each replica's
# mean counts by its share of the step's tokens (an even average is off by
# ~3e-4 relative in the loss by step 4, beyond the 1e-5 tolerance).
for n, layout, out in ((2, None, "sft-dp2"), (4, "tp=2,ep=2", "sft-dp2-tp2ep2")):
    extra = ["--parallel", layout] if layout else []
    code, so, err, _ = mpirun(n, sft_args(out) + extra, timeout=600)
    what = f"sft on {n} ranks" + (f" with {layout}" if layout else "") + " (dp=2)"
    check(code == 0, what + ("" if code == 0 else ": " + (so + err)[-3000:]))
    if code == 0:
        runs.same_run("sft-one", out, what + " against one process")

# sft under cp: its rows (prompt, answer, padding) are padded to a multiple
# of cp when they do not divide (add:2 rows are 9 tokens: 10 under cp=2);
# every mixer is causal and the padding's labels are ignored, so the run is
# one process's.
code, _, err = runs.single(sft_args("sft2-one", "add:2"))
check(code == 0, "sft add:2 in one process" + ("" if code == 0 else ": " + err[-2000:]))
code, so, err, _ = mpirun(2, sft_args("sft2-cp2", "add:2") + ["--parallel", "cp=2"], timeout=600)
check(code == 0, "sft with cp=2 on 2 ranks" + ("" if code == 0 else ": " + (so + err)[-3000:]))
if code == 0:
    check("rows padded from 9 to 10 tokens" in err, "sft, cp=2: the rows are padded to 10 tokens")
    runs.same_run("sft2-one", "sft2-cp2", "sft, cp=2 against one process")

# Layouts not built are refused, naming why.
for n, layout, want in ((2, "ep=2", "experts split across data-parallel replicas"),
                        (3, "cp=3", "--seq-len 32 does not split into cp=3"),
                        (2, "tp=2,ep=3", "ep=3"),
                        (4, "tp=2,ep=4", "ep=4 x etp=1 does not divide tp=2")):
    code, out, err, _ = mpirun(n, args(f"bad-{n}-{layout}", extra=["--parallel", layout]), timeout=120)
    check(code not in (0, None) and want in err,
          f"{n} ranks, --parallel {layout}: refused naming '{want}'" + ("" if want in err else "\n" + err[-1500:]))

if runs.failures:
    print(f"{len(runs.failures)} check(s) failed; work directory {runs.work}")
    sys.exit(1)
shutil.rmtree(runs.work, ignore_errors=True)
print("model-parallel training checks passed")
