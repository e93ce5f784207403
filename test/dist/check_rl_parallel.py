#!/usr/bin/python3
"""`mpirun -np N mm-train rl --parallel ...` against one process.

Usage: check_rl_parallel.py MM_TRAIN MODEL_DIR

Every rank samples its share of a step's prompts with the streams those
sequences have in one process (the sampler's stream is the seed and the
sequence's index in the step), and the shares are gathered, so the
rollouts, rewards and advantages are the one-process ones exactly. Each
data-parallel replica then updates on its share of every mini-batch,
weighed by its share of the loss's terms (response tokens; rows under
GRPO's per-sequence mean), so the update equals one process's up to the
order of float32 sums.

Tolerances, from that arithmetic (as train_runs.py argues for pretraining):
the loss and the gradient norm are float32 sums over a few hundred response
tokens and ~1e5 parameters taken in another order, so they agree within
1e-5 and 1e-4 relative. The loss's terms are advantage x ratio, of order 1
(unit-variance advantages, ratios near 1), and under GRPO they cancel to
~1e-4 (each group's advantages sum to zero); its tolerance is therefore
1e-5 of max(|loss|, 1), the scale of its terms, not of their sum. Both are reported after the replicas' weighed
average, so a replica weighed 1/dp instead of by its terms, a row counted
twice or a missing reduction moves them by percent. The weights are compared
by their updates (final minus start): AdamW's m / sqrt(v) turns a gradient
element that is itself rounding noise (a sum that cancels) into an
lr-sized step of either sign, so a handful of elements differ by up to lr
(measured: 5 of ~1e5 differ by up to 4e-5 at lr 1e-4, and the update
differs by 3.5e-4 of its L2 norm). The update of every tensor must agree
within 1e-2 of the whole update's norm; a replica that applied no update
or another's is off by order 1. The discrete
columns (rewards, response lengths, accuracy, kept groups) must be equal:
one rollout sampled from another stream changes them, which is how a wrong
stream offset is caught. The runs are deterministic, so a pass or a failure
repeats.

Cases:
  * cispo, dp=2, 3 prompts per step: the ranks sample 1 and 2 prompts; the
    mini-batches of 4 and 8 rows split evenly; ZeRO-1 (the default);
  * grpo (per-sequence mean), dp=3 with groups of 2 and one group per
    update: a replica holds no row of an update and joins at weight 0;
    --kl-coef (the reference policy on each replica's rows);
  * dapo, tp=2 on 2 ranks (the update partitioned, the engine on the
    gathered weights), --optimizer-sharding none;
  * kill -9 of a dp=2 run after its first checkpoint, then --resume on 2
    ranks: byte-identical to the uninterrupted run;
  * a stopped rank (SIGSTOP) ends the run within --collective-timeout,
    rank 0 naming the collective;
  * --eval-only on 2 ranks prints the one-process accuracy;
  * cp, and --parallel with --eval-only, are refused by name.
"""
import csv
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mpi_launch import mpirun, rank_env, stall_rank_one  # noqa: E402

FAILED = []
EXACT = ("reward_mean", "accuracy", "greedy_accuracy", "response_len", "rollout_accuracy",
         "kept_groups", "truncated")


def check(ok, what, detail=""):
    print(("ok   " if ok else "FAIL ") + what + ("" if ok else f": {detail}"), flush=True)
    if not ok:
        FAILED.append(what)


def rows(out):
    with open(os.path.join(out, "metrics.csv")) as f:
        return list(csv.DictReader(f))


def weights(out):
    raw = open(os.path.join(out, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return {k: np.frombuffer(raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]],
                             dtype=np.float32)
            for k, v in header.items() if k != "__metadata__"}


def rl_args(mm_train, model, out, flags):
    options = {"--task": "add:1", "--objective": "cispo", "--steps": "3",
               "--prompts-per-step": "3", "--group-size": "4", "--max-new-tokens": "4",
               "--updates-per-batch": "2", "--lr": "1e-4", "--seed": "3", "--threads": "1",
               "--eval-prompts": "16", "--engine-weights": "f32", "--out": out}
    options.update(flags)
    cmd = [mm_train, "rl", "--model", model]
    for k, v in options.items():
        if v is not None:
            cmd += [k, v]
    return cmd


def same_run(start, one, many, what):
    a, b = rows(one), rows(many)
    check(len(a) == len(b) == 3, what + ": 3 metric rows each", f"{len(a)} and {len(b)}")
    for column in EXACT:
        check([x[column] for x in a] == [y[column] for y in b], what + f": {column} equal",
              f"{[x[column] for x in a]} vs {[y[column] for y in b]}")

    def worst(column, scale):
        pairs = [(float(x[column]), float(y[column])) for x, y in zip(a, b) if x[column]]
        return max((abs(p - q) / max(abs(p), scale) for p, q in pairs), default=0.0)

    loss, norm = worst("loss", 1.0), worst("grad_norm", 1e-30)
    check(loss <= 1e-5, what + f": loss per step within 1e-5 of max(|loss|, 1) ({loss:.1e})")
    check(norm <= 1e-4, what + f": gradient norm per step within 1e-4 relative ({norm:.1e})")
    check([x["clip_frac"] for x in a] == [y["clip_frac"] for y in b], what + ": clip_frac equal",
          f"{[x['clip_frac'] for x in a]} vs {[y['clip_frac'] for y in b]}")
    corr = max((abs(float(x["prob_corr"]) - float(y["prob_corr"]))
                for x, y in zip(a, b) if x["prob_corr"] and y["prob_corr"]), default=0.0)
    check([bool(x["prob_corr"]) for x in a] == [bool(y["prob_corr"]) for y in b] and corr <= 1e-6,
          what + f": engine / trainer probability correlation within 1e-6 ({corr:.1e})")
    w0, wa, wb = weights(start), weights(one), weights(many)
    if wa.keys() != wb.keys():
        check(False, what + ": the same weights exported", sorted(wa.keys() ^ wb.keys()))
        return
    norm = sum(float(((wa[k] - w0[k]) ** 2).sum()) for k in wa) ** 0.5
    diff = sum(float(((wb[k] - wa[k]) ** 2).sum()) for k in wa) ** 0.5 / norm
    check(norm > 0 and diff <= 1e-2, what + f": the weights' update within 1e-2 of its norm ({diff:.1e})")


def main(argv):
    mm_train, tiny = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    tmp = tempfile.mkdtemp(prefix="mm-rl-parallel-")
    try:
        # A warmed-up policy (about half its sampled answers right), so that
        # rewards vary within groups.
        sft = os.path.join(tmp, "sft")
        p = subprocess.run([mm_train, "sft", "--task", "add:1",
                            "--config", os.path.join(tiny, "config.json"),
                            "--tokenizer", os.path.join(tiny, "tokenizer.json"),
                            "--steps", "150", "--seed", "1", "--threads", "2", "--lr", "3e-3",
                            "--batch-size", "32", "--out", sft],
                           capture_output=True, text=True, timeout=600)
        check(p.returncode == 0, "sft runs", p.stderr[-2000:])
        if p.returncode != 0:
            return 1

        cases = [
            # (a narrow clip range, so that the second update of a step clips)
            ("cispo dp=2", 2, {"--parallel": "dp=2", "--eps-high": "0.002", "--eps-low": "0.002"}),
            ("grpo dp=3, an idle replica, kl", 3,
             {"--objective": "grpo", "--parallel": "dp=3", "--group-size": "2",
              "--updates-per-batch": "3", "--kl-coef": "0.05"}),
            ("dapo tp=2", 2, {"--objective": "dapo", "--parallel": "tp=2",
                              "--optimizer-sharding": "none"}),
        ]
        for name, ranks, flags in cases:
            one, many = os.path.join(tmp, name.split()[0] + "-one"), os.path.join(tmp, "many")
            shutil.rmtree(many, ignore_errors=True)
            single = {k: v for k, v in flags.items()
                      if k not in ("--parallel", "--optimizer-sharding")}
            if not os.path.exists(one):
                p = subprocess.run(rl_args(mm_train, sft, one, single), capture_output=True,
                                   text=True, timeout=600)
                check(p.returncode == 0, name + ": one process runs", p.stderr[-1500:])
                if p.returncode != 0:
                    continue
            code, _, err, _ = mpirun(ranks, rl_args(mm_train, sft, many, flags), timeout=600)
            check(code == 0, name + f": {ranks} ranks run", err[-2000:])
            if code == 0:
                same_run(sft, one, many, name)
                first = rows(one)[0]
                check(float(first["kept_groups"]) > 0 and float(first["loss"]) != 0,
                      name + ": the first step trains", first)
                if name.startswith("cispo"):
                    clips = [x["clip_frac"] for x in rows(one)]
                    check(any(c and float(c) > 0 for c in clips),
                          name + ": some tokens clip (so clip_frac's sum over replicas is tested)",
                          clips)

        # kill -9 after the first checkpoint of a dp=2 run, then --resume on 2
        # ranks: byte-identical to the uninterrupted run (the checkpoint holds
        # the whole state, ZeRO-1's moment rows gathered; every rank reloads it).
        flags = {"--parallel": "dp=2", "--steps": "4", "--save-every": "2"}
        whole, cut = os.path.join(tmp, "whole"), os.path.join(tmp, "cut")
        code, _, err, seconds = mpirun(2, rl_args(mm_train, sft, whole, flags), timeout=600)
        check(code == 0, "dp=2 uninterrupted run", err[-1000:])
        launch = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "--mca", "btl",
                  "self,vader", "--bind-to", "none"]
        killed = subprocess.Popen(launch + rl_args(mm_train, sft, cut, flags) + ["--resume"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True, env=rank_env())
        checkpoints, deadline = os.path.join(cut, "checkpoints"), time.time() + 10 * seconds + 30
        while time.time() < deadline and killed.poll() is None:
            # (a finished checkpoint: step-N, not the step-N.tmp.PID being written)
            if os.path.isdir(checkpoints) and any(re.fullmatch(r"step-\d+", n)
                                                  for n in os.listdir(checkpoints)):
                break
            time.sleep(0.05)
        running = killed.poll() is None
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait()
        code, _, err, _ = mpirun(2, rl_args(mm_train, sft, cut, flags) + ["--resume"], timeout=600)
        check(running and "resuming from" in err and "(step 2)" in err,
              "dp=2 killed after its step-2 checkpoint, resumed from it", err[-600:])
        same = lambda name: open(os.path.join(whole, name), "rb").read() == \
            open(os.path.join(cut, name), "rb").read()
        check(code == 0 and same("model.safetensors"),
              "dp=2 killed and resumed: model.safetensors byte-identical", err[-1000:])
        untimed = lambda rs: [{k: v for k, v in r.items() if not k.endswith("_s")} for r in rs]
        check(code == 0 and untimed(rows(whole)) == untimed(rows(cut)),
              "dp=2 killed and resumed: the same metrics at every step (timings aside)")

        # A stopped rank (SIGSTOP) mid-run: rank 0 exits within the collective
        # timeout, naming itself and the collective it waited in.
        stalled, timeout = os.path.join(tmp, "stalled"), 5
        code, err, seconds = stall_rank_one(
            rl_args(mm_train, sft, stalled, {"--parallel": "dp=2", "--steps": "100000",
                                             "--save-every": "1", "--eval-every": "1000",
                                             "--collective-timeout": str(timeout)}),
            lambda: os.path.isdir(os.path.join(stalled, "checkpoints")), stalled, timeout)
        named = re.search(r"rank 0 of 2: collective timeout: \w+ #\d+ \(", err or "")
        check(err is not None and code not in (0, None) and seconds < timeout + 30 and named,
              f"rl, rank 1 stopped: rank 0 exits within {timeout + 30} s naming the collective "
              f"({seconds:.1f} s)", f"exit {code}: {(err or '')[-1500:]}")

        # Evaluation alone, spread over 2 ranks.
        def eval_only(launch):
            args = [mm_train, "rl", "--model", sft, "--task", "add:1", "--max-new-tokens", "4",
                    "--seed", "0", "--threads", "1", "--eval-prompts", "24", "--eval-samples",
                    "3", "--eval-only"]
            if launch:
                code, out, err, _ = mpirun(2, args, timeout=300)
            else:
                q = subprocess.run(args, capture_output=True, text=True, timeout=300)
                code, out, err = q.returncode, q.stdout, q.stderr
            lines = out.strip().splitlines()
            return code, (json.loads(lines[-1]) if code == 0 and lines else None), err

        c1, j1, e1 = eval_only(False)
        c2, j2, e2 = eval_only(True)
        check(c1 == 0 and c2 == 0 and j1 == j2,
              "--eval-only on 2 ranks prints the one-process accuracy (once)",
              f"{j1} vs {j2} {e1[-500:]} {e2[-500:]}")

        q = subprocess.run([mm_train, "rl", "--model", sft, "--task", "add:1", "--max-new-tokens",
                            "4", "--seed", "0", "--threads", "1", "--eval-only", "--parallel",
                            "dp=2"], capture_output=True, text=True, timeout=300)
        check(q.returncode != 0 and "--eval-only has none" in q.stderr,
              "--eval-only refuses --parallel by name", q.stderr[-500:])

        code, _, err, _ = mpirun(2, rl_args(mm_train, sft, os.path.join(tmp, "cp"),
                                            {"--parallel": "cp=2"}), timeout=300)
        check(code not in (0, None) and "cp" in err and "not built" in err,
              "--parallel cp=2 is refused by name", err[-800:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("FAILED: " + ", ".join(FAILED) if FAILED else "all rl --parallel checks passed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
