#!/usr/bin/python3
"""Checks `mm-train sft` and `mm-train rl` end to end on the bundled tiny model.

Usage: check_rl.py MM_TRAIN MODEL_DIR

  * sft on add:1 from fresh weights: the answer-token loss falls by more than
    2 nats (5.9 at random init, an answer token among 384), the Hugging Face
    folder and metrics.csv are written, and `rl --eval-only` reads the folder
    back and prints {"accuracy": ...} as its last line;
  * rl with every objective: metrics.csv carries the issue's columns, the
    final model is written, and with float32 engine weights the engine's and
    the trainer's probabilities of the sampled tokens agree (Pearson > 0.9999:
    the same float32 model run by two programs; a misaligned token or a stale
    weight gives ~0.5);
  * the compiled policy update agrees with the reference executor's over two
    steps (loss and gradient norm within 1e-4 relative: float32 summation
    order over 16 rollouts x 384 classes; a wrong kernel is off by far more);
  * kill -9 mid-run and --resume: metrics.csv and model.safetensors are
    byte-identical to the uninterrupted run's (rollouts are seeded per step,
    the engine takes the checkpoint's weights);
  * --kl-coef (the reference policy, compiled forward-only), --repeat-window
    (rollouts truncated) and --lm-head-fp32 run;
  * DAPO on a policy that never answers right: every group's rewards are
    equal, each step says it makes no update, the run finishes, nothing NaN;
  * bad input is refused with a message naming it: a task spec that does not
    parse, a group size of 1, a negative eps, --ratio-cap with a PPO-style
    objective, a model without a tokenizer.
"""

import csv
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FAILED = []
COLUMNS = ("step", "reward_mean", "accuracy", "response_len", "clip_frac", "prob_corr",
           "tokens_per_s")


def check(ok, what, detail=""):
    print(("PASS " if ok else "FAIL ") + what + ("" if ok else f": {detail}"))
    if not ok:
        FAILED.append(what)


def run(cmd, timeout=600):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def rows(out):
    with open(os.path.join(out, "metrics.csv")) as f:
        return list(csv.DictReader(f))


def rl_args(mm_train, model, out, objective="cispo", steps=3, extra=(), flags=None):
    """The command line; `flags` replaces or adds flag values."""
    options = {"--task": "add:1", "--objective": objective, "--steps": str(steps),
               "--prompts-per-step": "4", "--group-size": "4", "--max-new-tokens": "4",
               "--updates-per-batch": "2", "--lr": "1e-4", "--seed": "3", "--threads": "2",
               "--eval-prompts": "16", "--out": out}
    options.update(flags or {})
    cmd = [mm_train, "rl", "--model", model]
    for k, v in options.items():
        cmd += [k, v]
    return cmd + list(extra)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main(argv):
    mm_train, tiny = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    tmp = tempfile.mkdtemp(prefix="mm-rl-")
    try:
        # The supervised warm-up.
        sft = os.path.join(tmp, "sft")
        rc, out, err = run([mm_train, "sft", "--task", "add:1",
                            "--config", os.path.join(tiny, "config.json"),
                            "--tokenizer", os.path.join(tiny, "tokenizer.json"),
                            "--steps", "60", "--seed", "1", "--threads", "2", "--lr", "3e-3",
                            "--batch-size", "32", "--out", sft])
        check(rc == 0, "sft runs", err[-2000:])
        if rc != 0:
            return 1
        losses = [float(r["loss"]) for r in rows(sft)]
        check(len(losses) == 60 and losses[0] - losses[-1] > 2.0, "sft: the answer loss falls",
              f"{losses[0]:.3f} -> {losses[-1]:.3f}")
        for name in ("model.safetensors", "config.json", "tokenizer.json", "metrics.csv"):
            check(os.path.exists(os.path.join(sft, name)), f"sft writes {name}")

        rc, out, err = run([mm_train, "rl", "--model", sft, "--task", "add:1",
                            "--max-new-tokens", "4", "--seed", "0", "--threads", "2",
                            "--eval-only"])
        last = out.strip().splitlines()[-1] if out.strip() else ""
        try:
            accuracy = json.loads(last)["accuracy"]
        except (ValueError, KeyError):
            accuracy = None
        check(rc == 0 and accuracy is not None and 0 <= accuracy <= 1,
              "rl --eval-only prints {\"accuracy\": ...} last", f"{last!r} {err[-800:]}")

        # Every objective, float32 engine weights: the probabilities agree.
        for objective in ("cispo", "ppo_clip", "dapo", "grpo"):
            d = os.path.join(tmp, objective)
            rc, out, err = run(rl_args(mm_train, sft, d, objective,
                                       extra=["--engine-weights", "f32"]))
            check(rc == 0, f"rl --objective {objective} runs", err[-1500:])
            if rc != 0:
                continue
            r = rows(d)
            check(all(c in r[0] for c in COLUMNS) and len(r) == 3,
                  f"{objective}: metrics.csv has the columns", list(r[0].keys()))
            check(os.path.exists(os.path.join(d, "model.safetensors")),
                  f"{objective}: the final model is written")
            corr = [float(x["prob_corr"]) for x in r if x["prob_corr"]]
            check(all(c > 0.9999 for c in corr),
                  f"{objective}: engine and trainer probabilities agree (f32 engine)", corr)
            bad = [k for x in r for k, v in x.items()
                   if v and (math.isnan(float(v)) or math.isinf(float(v)))]
            check(not bad, f"{objective}: no NaN in the metrics", bad)

        # The KL penalty to the starting policy, M1's early truncation, and the
        # bf16 engine with its LM head in float32.
        d = os.path.join(tmp, "kl")
        rc, _, err = run(rl_args(mm_train, sft, d, "grpo", steps=2,
                                 flags={"--kl-coef": "0.1", "--repeat-window": "2",
                                        "--repeat-prob": "0"}))
        r = rows(d) if rc == 0 else []
        check(rc == 0 and all(x["loss"] and math.isfinite(float(x["loss"])) for x in r),
              "grpo with --kl-coef runs (the reference policy compiled)", err[-1500:])
        # Probability 0 < p for every token: each rollout not ended by eos within
        # 2 tokens is truncated there.
        check(rc == 0 and all(float(x["truncated"]) > 0 and float(x["response_len"]) <= 2
                              for x in r), "--repeat-window truncates rollouts",
              [(x["truncated"], x["response_len"]) for x in r])
        d = os.path.join(tmp, "head32")
        rc, _, err = run(rl_args(mm_train, sft, d, steps=2, extra=["--lm-head-fp32"]))
        r = rows(d) if rc == 0 else []
        check(rc == 0 and "float32 LM head" in err and all(0.9 < float(x["prob_corr"]) <= 1
                                                           for x in r if x["prob_corr"]),
              "--lm-head-fp32 with bf16 engine weights", err[-1500:])

        # The compiled update against the reference executor's.
        ref, cpu = os.path.join(tmp, "ref"), os.path.join(tmp, "cpu")
        rc1, _, e1 = run(rl_args(mm_train, sft, ref, steps=2, extra=["--backend", "reference"]))
        rc2, _, e2 = run(rl_args(mm_train, sft, cpu, steps=2))
        ok = rc1 == 0 and rc2 == 0
        pairs = [(float(a[k]), float(b[k])) for a, b in zip(rows(ref), rows(cpu))
                 for k in ("loss", "grad_norm") if a[k] and b[k]] if ok else []
        check(ok and pairs and all(abs(x - y) <= 1e-4 * abs(x) for x, y in pairs),
              "compiled policy update = reference (2 steps)", f"{pairs} {e1[-400:]} {e2[-400:]}")

        # kill -9 and --resume: byte-identical.
        a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
        extra = ["--save-every", "2"]
        t0 = time.time()
        rc, _, err = run(rl_args(mm_train, sft, a, steps=6, extra=extra))
        duration = time.time() - t0
        check(rc == 0, "uninterrupted rl run", err[-1000:])
        p = subprocess.Popen(rl_args(mm_train, sft, b, steps=6, extra=extra + ["--resume"]),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10 * duration + 30
        ckpts = os.path.join(b, "checkpoints")
        while time.time() < deadline and p.poll() is None:
            # (a finished checkpoint: step-N, not the step-N.tmp.PID being written)
            if os.path.isdir(ckpts) and any(re.fullmatch(r"step-\d+", n) for n in os.listdir(ckpts)):
                break
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.wait()
        rc, _, err = run(rl_args(mm_train, sft, b, steps=6, extra=extra + ["--resume"]))
        check(rc == 0 and read(os.path.join(a, "model.safetensors")) ==
              read(os.path.join(b, "model.safetensors")),
              "killed and resumed: model.safetensors byte-identical", err[-1000:])
        strip = lambda rs: [{k: v for k, v in r.items() if not k.endswith("_s")} for r in rs]
        check(rc == 0 and strip(rows(a)) == strip(rows(b)),
              "killed and resumed: the same metrics at every step (timings aside)")

        # DAPO on a policy that never answers right: nothing to learn from.
        fresh = os.path.join(tmp, "fresh")
        rc, _, err = run([mm_train, "sft", "--task", "add:1",
                          "--config", os.path.join(tiny, "config.json"),
                          "--tokenizer", os.path.join(tiny, "tokenizer.json"),
                          "--steps", "1", "--seed", "1", "--threads", "2", "--out", fresh])
        d = os.path.join(tmp, "dapo-none")
        rc, _, err = run(rl_args(mm_train, fresh, d, "dapo", steps=2))
        r = rows(d) if rc == 0 else []
        check(rc == 0 and err.count("dynamic sampling drops them all") == 2
              and all(x["kept_groups"] == "0" and x["loss"] == "" for x in r),
              "dapo with all-equal rewards skips each step with a line", err[-1500:])

        # Bad input.
        cases = [
            ("--task add:x", ["--task", "add:x"], "expected add:D"),
            ("--task mul:2", ["--task", "mul:2"], "unknown task 'mul'"),
            ("--group-size 1", ["--group-size", "1"], "at least 2 responses per prompt"),
            ("negative --eps-low", ["--eps-low", "-0.1"], "--eps-low must be non-negative"),
            ("negative --eps-high", ["--eps-high", "-1"], "--eps-high must be non-negative"),
            ("--ratio-cap with dapo", ["--objective", "dapo", "--ratio-cap", "5"],
             "--ratio-cap is CISPO's absolute cap"),
        ]
        for what, flags, message in cases:
            cmd = rl_args(mm_train, sft, os.path.join(tmp, "bad"),
                          flags=dict(zip(flags[::2], flags[1::2])))
            rc, _, err = run(cmd)
            check(rc != 0 and message in err and "Traceback" not in err,
                  f"bad input refused: {what}", err[-600:])
        notok = os.path.join(tmp, "no-tokenizer")
        shutil.copytree(sft, notok, ignore=shutil.ignore_patterns("tokenizer.json", "checkpoints",
                                                                  "cache"))
        rc, _, err = run(rl_args(mm_train, notok, os.path.join(tmp, "bad2")))
        check(rc != 0 and "has no tokenizer.json" in err, "bad input refused: no tokenizer",
              err[-600:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILED)} failed" if FAILED else "all passed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
