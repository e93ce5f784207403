"""RL throughput on several ranks: `mm-train rl` in one process against
`mpirun -np N mm-train rl --parallel dp=N`.

    python3 bench/rl_parallel_bench.py [--steps 12] [--prompts-per-step 32] [--group-size 8]

Warms the bundled tiny model up on add:1 (sft, one process), then runs the
same RL steps (CISPO) (a) in one process with all the machine's cores as
OpenMP threads and (b) on N = cores ranks of one thread each, the rollouts
spread over the ranks and the update data parallel (ZeRO-1). Both runs
sample the same rollouts and reach the same weights up to float32 rounding
(ctest dist-train-rl checks that). Prints, per run, the median over the
steps after the first two of: sampled tokens per second of the step
(rollouts and updates), of the rollouts alone, and of the update's
trained tokens; and the ratio of (b) to (a).
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, os.path.join(root, "test", "dist"))
from mpi_launch import mpirun  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=12)
ap.add_argument("--prompts-per-step", type=int, default=32)
ap.add_argument("--group-size", type=int, default=8)
ap.add_argument("--mm-train", default=os.path.join(root, "build", "bin", "mm-train"))
a = ap.parse_args()
cores = os.cpu_count() or 1
work = tempfile.mkdtemp(prefix="mm-rl-bench-")
model = os.path.join(root, "examples", "minimax-tiny")
sft = os.path.join(work, "sft")
p = subprocess.run([a.mm_train, "sft", "--task", "add:1", "--config",
                    os.path.join(model, "config.json"), "--tokenizer",
                    os.path.join(model, "tokenizer.json"), "--steps", "150", "--seed", "1",
                    "--threads", str(cores), "--lr", "3e-3", "--batch-size", "32", "--out", sft],
                   capture_output=True, text=True)
if p.returncode:
    sys.exit(p.stderr)


def argv(out, threads, extra=()):
    return [a.mm_train, "rl", "--model", sft, "--task", "add:1", "--objective", "cispo",
            "--steps", str(a.steps), "--prompts-per-step", str(a.prompts_per_step),
            "--group-size", str(a.group_size), "--max-new-tokens", "4",
            "--updates-per-batch", "2", "--lr", "3e-4", "--seed", "0", "--threads", str(threads),
            "--eval-every", str(a.steps), "--eval-prompts", "32",
            "--out", os.path.join(work, out)] + list(extra)


def medians(out):
    rows = list(csv.DictReader(open(os.path.join(work, out, "metrics.csv"))))[2:-1]
    return [statistics.median(float(r[c]) for r in rows)
            for c in ("tokens_per_s", "rollout_tokens_per_s", "update_tokens_per_s")]


p = subprocess.run(argv("one", cores), capture_output=True, text=True)
if p.returncode:
    sys.exit(p.stderr)
code, _, err, _ = mpirun(cores, argv("dp", 1, ["--parallel", f"dp={cores}"]), timeout=1800)
if code != 0:
    sys.exit(err)
one, dp = medians("one"), medians("dp")
print(f"tiny model, add:1, {a.prompts_per_step} prompts x {a.group_size} samples per step, "
      f"{cores} cores")
print("| run | step tokens/s | rollout tokens/s | update tokens/s | step ratio |")
print("|---|---:|---:|---:|---:|")
print(f"| 1 process, {cores} threads | {one[0]:.0f} | {one[1]:.0f} | {one[2]:.0f} | 1.00x |")
print(f"| dp={cores}, 1 thread each | {dp[0]:.0f} | {dp[1]:.0f} | {dp[2]:.0f} | "
      f"{dp[0] / one[0]:.2f}x |")
