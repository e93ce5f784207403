"""Distributed pretraining throughput: one process against mpirun ranks.

    python3 bench/dp_train_bench.py [--steps 40] [--batch-size 8] [--seq-len 64]

Trains the bundled tiny model the same number of steps (a) in one process
with all the machine's cores as OpenMP threads, (b) on N = cores MPI ranks of
one thread each with --parallel dp=N (ZeRO-1), (c) the same with replicated
AdamW moments, (d) with --parallel tp=N (the partitioned training step:
attention heads and the embedding's rows split), (e) with tp=N,ep=N (the
experts split too), (f) with cp=N (each sequence in N chunks: LASP+, the
softmax layer's keys all-gathered, the MoE layers and the loss whole on
every rank). Prints the median tokens/s of steps after the first five
(compilation and warm-up excluded) and the ratio to (a), and the AdamW
moment (and, under tp, weight) bytes per rank. The loss curves equal (a)'s up
to float32 rounding (ctest dist-train-data-parallel and
dist-train-model-parallel check that).
"""
import argparse
import csv
import os
import re
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, os.path.join(root, "test", "dist"))
from mpi_launch import mpirun  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=40)
ap.add_argument("--batch-size", type=int, default=8)
ap.add_argument("--seq-len", type=int, default=64)
ap.add_argument("--mm-train", default=os.path.join(root, "build", "bin", "mm-train"))
a = ap.parse_args()
cores = os.cpu_count() or 1
work = tempfile.mkdtemp(prefix="mm-dp-bench-")
data = os.path.join(work, "zen.txt")
with open(data, "w") as f:
    f.write(open(os.path.join(root, "README.md")).read())
model = os.path.join(root, "examples", "minimax-tiny")


def argv(out, threads, extra=()):
    return [a.mm_train, "pretrain", "--config", os.path.join(model, "config.json"),
            "--tokenizer", os.path.join(model, "tokenizer.json"), "--data", data,
            "--steps", str(a.steps), "--batch-size", str(a.batch_size), "--seq-len", str(a.seq_len),
            "--lr", "1e-3", "--seed", "0", "--threads", str(threads), "--save-every", str(a.steps),
            "--log-every", str(a.steps), "--out", os.path.join(work, out)] + list(extra)


def tokens_per_s(out):
    rows = list(csv.DictReader(open(os.path.join(work, out, "metrics.csv"))))[5:]
    return statistics.median(float(r["tokens_per_s"]) for r in rows)


runs = []
p = subprocess.run(argv("one", cores), capture_output=True, text=True)
if p.returncode:
    sys.exit(p.stderr)
runs.append((f"1 process, {cores} threads", tokens_per_s("one"), ""))
for name, extra in (("ZeRO-1", []), ("replicated moments", ["--optimizer-sharding", "none"])):
    out = "dp-" + name.split()[0]
    code, so, se, _ = mpirun(cores, argv(out, 1, ["--parallel", f"dp={cores}"] + extra), timeout=3600)
    if code:
        sys.exit(se[-3000:])
    m = re.search(r"AdamW moments: (\d+) KiB per rank of (\d+) KiB", se)
    runs.append((f"{cores} ranks x 1 thread, dp={cores}, {name}", tokens_per_s(out),
                 f"{m.group(1)} of {m.group(2)} KiB" if m else ""))

for layout in (f"tp={cores}", f"tp={cores},ep={cores}", f"cp={cores}"):
    out = layout.replace(",", "-").replace("=", "")
    code, so, se, _ = mpirun(cores, argv(out, 1, ["--parallel", layout]), timeout=3600)
    if code:
        sys.exit(se[-3000:])
    m = re.search(r"rank 0 of \d+: (\d+) of (\d+) bytes of weights, (\d+) of (\d+) bytes", se)
    held = (f"{int(m.group(3)) >> 10} of {int(m.group(4)) >> 10} KiB; weights "
            f"{int(m.group(1)) >> 10} of {int(m.group(2)) >> 10} KiB") if m else ""
    runs.append((f"{cores} ranks x 1 thread, {layout}", tokens_per_s(out), held))

base = runs[0][1]
print(f"tiny model, batch {a.batch_size} x {a.seq_len} tokens, {a.steps} steps, {cores} cores")
print("| run | tokens/s (median) | vs 1 process | AdamW moments per rank |")
print("|---|---|---|---|")
for name, tps, moments in runs:
    print(f"| {name} | {tps:.0f} | {tps / base:.2f}x | {moments} |")
