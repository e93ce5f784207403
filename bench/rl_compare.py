#!/usr/bin/env python3
"""CISPO vs DAPO vs GRPO on a verifiable task, as the MiniMax-M1 report compares them.

Usage: bench/rl_compare.py [--mm-train build/bin/mm-train] [--task add:1] [--steps 150]
                           [--seeds 0,1,2] [--out runs/rl-compare] [--images docs/images]

1. `mm-train sft` warms a policy up from fresh weights (examples/minimax-tiny's config and
   tokenizer) on the task, leaving it above zero and below the ceiling;
2. `mm-train rl` trains it with each objective and seed at equal settings (prompts, group
   size, off-policy updates per batch, learning rate), evaluating every --eval-every steps
   (accuracy: the mean exact-match reward of 4 samples per prompt at temperature 1 on a fixed
   set of 128 prompts, M1's avg@k; greedy accuracy alongside);
3. reports per objective the seed-mean accuracy curve, the steps each seed needs to reach the
   target accuracy (the report's "steps to reach DAPO's score"), the final accuracy, the
   clipped-token fraction, and writes the curves as SVG;
4. measures the Pearson correlation of the engine's and the trainer's probabilities of the
   sampled tokens with bf16 engine weights, with and without --lm-head-fp32, and with
   float32 engine weights (the report: ~0.9 without, 0.99 with, at its scale).

Only the Python standard library: it reads mm-train's metrics.csv files.
"""

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLORS = {"cispo": "#d62728", "dapo": "#1f77b4", "grpo": "#2ca02c"}


def run(cmd):
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return time.time() - t0


def rows(out):
    with open(os.path.join(out, "metrics.csv")) as f:
        return list(csv.DictReader(f))


def column(rs, name):
    return [(int(r["step"]), float(r[name])) for r in rs if r[name]]


def svg(series, ylabel, path):
    """series: [(label, color, [(x, y)])] as a line chart."""
    w, h, left, right, top, bottom = 640, 360, 60, 110, 20, 40
    xs = [x for _, _, pts in series for x, _ in pts]
    ys = [y for _, _, pts in series for _, y in pts]
    x1, y0, y1 = max(xs), min(ys), max(ys)
    if y1 <= y0:
        y1 = y0 + 1
    px = lambda x: left + (w - left - right) * x / x1
    py = lambda y: top + (h - top - bottom) * (y1 - y) / (y1 - y0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
           'font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>',
           f'<path d="M{left} {top} V{h - bottom} H{w - right}" stroke="black" fill="none"/>']
    for i, (label, color, pts) in enumerate(series):
        p = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)
        dash = "" if i % 2 == 0 or "mean" in label else ' stroke-dasharray="4 3"'
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5"{dash} points="{p}"/>')
        out.append(f'<text x="{w - right + 6}" y="{top + 14 + 14 * i}" fill="{color}">{label}</text>')
    out += [f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{y1:.2f}</text>',
            f'<text x="{left - 4}" y="{h - bottom}" text-anchor="end">{y0:.2f}</text>',
            f'<text x="{(left + w - right) / 2}" y="{h - 10}" text-anchor="middle">RL step (0 to {x1})</text>',
            f'<text x="12" y="{h / 2}" transform="rotate(-90 12 {h / 2})" text-anchor="middle">{ylabel}</text>',
            "</svg>"]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def report(a, objectives, seeds, results, seconds, warm):
    """The comparison table and, with --images, the curves."""
    mean_curve = {}
    for obj in objectives:
        curves = [column(results[obj, s], "accuracy") for s in seeds]
        mean_curve[obj] = [(0, warm["accuracy"])] + [
            (curves[0][i][0], statistics.mean(c[i][1] for c in curves))
            for i in range(len(curves[0]))]
    target = a.target or 0.9 * max(mean_curve[o][-1][1] for o in objectives)

    def steps_to(curve):
        return next((x for x, y in curve if y >= target), None)

    print(f"# {a.task}: SFT {a.sft_steps} steps, then RL {a.steps} steps x {a.prompts} prompts x "
          f"{a.group} samples, {a.updates} updates per batch, lr {a.lr}, seeds {a.seeds}")
    print(f"# after SFT: accuracy {warm['accuracy']:.3f}, greedy {warm['greedy_accuracy']:.3f}; "
          f"target accuracy {target:.3f} (avg@4 at temperature 1)\n")
    print("| objective | accuracy: SFT -> final (mean of seeds) | greedy final | "
          "steps to target (per seed) | steps to target (mean curve) | clip_frac | s per run |")
    print("|---|---|---|---|---|---|---|")
    for obj in objectives:
        per_seed = [steps_to(column(results[obj, s], "accuracy")) for s in seeds]
        greedy = statistics.mean(column(results[obj, s], "greedy_accuracy")[-1][1] for s in seeds)
        clip = statistics.mean(y for s in seeds for _, y in column(results[obj, s], "clip_frac"))
        print(f"| {obj} | {warm['accuracy']:.3f} -> {mean_curve[obj][-1][1]:.3f} | "
              f"{greedy:.3f} | {', '.join(str(p) if p else '-' for p in per_seed)} | "
              f"{steps_to(mean_curve[obj]) or '-'} | {clip:.4f} | "
              f"{statistics.mean(seconds[obj, s] for s in seeds):.0f} |")

    if a.images:
        series = []
        for obj in objectives:
            for s in seeds:
                series.append((f"{obj} seed {s}", COLORS.get(obj, "black"),
                               [(0, warm["accuracy"])] + column(results[obj, s], "accuracy")))
        svg([(f"{o} (mean)", COLORS.get(o, "black"), mean_curve[o]) for o in objectives],
            "accuracy (avg@4, T = 1)", os.path.join(a.images, "rl-accuracy.svg"))
        reward = []
        for obj in objectives:
            curves = [column(results[obj, s], "reward_mean") for s in seeds]
            n = min(len(c) for c in curves)
            k = max(1, n // 30)  # a moving average over k steps: rewards are noisy per step
            pts = []
            for i in range(0, n - k + 1, k):
                pts.append((curves[0][i + k - 1][0],
                            statistics.mean(c[j][1] for c in curves for j in range(i, i + k))))
            reward.append((f"{obj} (mean)", COLORS.get(obj, "black"), pts))
        svg(reward, "rollout reward (mean of seeds)", os.path.join(a.images, "rl-reward.svg"))
        svg(series, "accuracy per seed", os.path.join(a.images, "rl-accuracy-seeds.svg"))



def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mm-train", default=os.path.join(ROOT, "build/bin/mm-train"))
    ap.add_argument("--task", default="add:1")
    ap.add_argument("--sft-steps", type=int, default=80)
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--objectives", default="cispo,dapo,grpo")
    ap.add_argument("--prompts", type=int, default=32)
    ap.add_argument("--group", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=4)
    ap.add_argument("--updates", type=int, default=4)
    ap.add_argument("--lr", default="3e-4")
    ap.add_argument("--eval-every", type=int, default=10)
    ap.add_argument("--target", type=float, default=0.0,
                    help="accuracy to reach (default: 90%% of the best objective's final mean)")
    ap.add_argument("--threads", default="2")
    ap.add_argument("--corr-steps", type=int, default=20)
    ap.add_argument("--only-correlation", action="store_true",
                    help="skip the objective comparison (reuse --out's SFT model)")
    ap.add_argument("--out", default=os.path.join(ROOT, "runs/rl-compare"))
    ap.add_argument("--images", default="")
    a = ap.parse_args()
    tiny = os.path.join(ROOT, "examples/minimax-tiny")
    os.makedirs(a.out, exist_ok=True)
    sft = os.path.join(a.out, "sft")
    if not os.path.exists(os.path.join(sft, "model.safetensors")):
        shutil.rmtree(sft, ignore_errors=True)
        run([a.mm_train, "sft", "--task", a.task, "--config", os.path.join(tiny, "config.json"),
             "--tokenizer", os.path.join(tiny, "tokenizer.json"), "--steps", str(a.sft_steps),
             "--seed", "1", "--threads", a.threads, "--lr", "3e-3", "--out", sft])
    common = ["--task", a.task, "--prompts-per-step", str(a.prompts), "--group-size", str(a.group),
              "--max-new-tokens", str(a.max_new_tokens), "--updates-per-batch", str(a.updates),
              "--lr", a.lr, "--threads", a.threads, "--eval-every", str(a.eval_every)]

    # The warm-up's level: the starting point of every curve.
    p = subprocess.run([a.mm_train, "rl", "--model", sft, "--task", a.task, "--max-new-tokens",
                        str(a.max_new_tokens), "--seed", "0", "--threads", a.threads,
                        "--eval-only"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(p.stderr[-2000:])
    warm = json.loads(p.stdout.strip().splitlines()[-1])

    # 1. The objectives at equal settings, several seeds.
    seeds = [int(s) for s in a.seeds.split(",")]
    objectives = [] if a.only_correlation else a.objectives.split(",")
    results, seconds = {}, {}
    for obj in objectives:
        for seed in seeds:
            d = os.path.join(a.out, f"{obj}-seed{seed}")
            shutil.rmtree(d, ignore_errors=True)
            seconds[obj, seed] = run([a.mm_train, "rl", "--model", sft, "--objective", obj,
                                      "--steps", str(a.steps), "--seed", str(seed),
                                      "--out", d] + common)
            results[obj, seed] = rows(d)
    if objectives:
        report(a, objectives, seeds, results, seconds, warm)

    # 2. Train / inference probability agreement: GRPO (no group dropped) with one update per
    # batch, so every sampled token of every step is compared under the same weights.
    print("\n| engine weights | Pearson r of engine vs trainer token probabilities, mean over "
          f"{a.corr_steps} steps (min) |")
    print("|---|---|")
    for label, name, extra in (("bf16", "bf16", []),
                               ("bf16, LM head float32 (`--lm-head-fp32`)", "head32",
                                ["--lm-head-fp32"]),
                               ("float32", "f32", ["--engine-weights", "f32"])):
        d = os.path.join(a.out, "corr-" + name)
        shutil.rmtree(d, ignore_errors=True)
        flags = dict(zip(common[::2], common[1::2]))
        flags.update({"--updates-per-batch": "1", "--eval-every": "1000"})
        run([a.mm_train, "rl", "--model", sft, "--objective", "grpo", "--steps",
             str(a.corr_steps), "--seed", "0", "--out", d] +
            [x for kv in flags.items() for x in kv] + extra)
        corr = [y for _, y in column(rows(d), "prob_corr")]
        print(f"| {label} | {statistics.mean(corr):.6f} ({min(corr):.6f}) |")


if __name__ == "__main__":
    main()
