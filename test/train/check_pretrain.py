#!/usr/bin/python3
"""Checks `mm-train pretrain` end to end on the bundled tiny MiniMax model.

Usage: check_pretrain.py MM_TRAIN MODEL_DIR

  * trains from scratch on The Zen of Python (Python's `this` module) and
    requires the loss to fall by more than 1.5 nats (5.97 at random init);
  * kill -9 at random moments (seeded), --resume each time: the final
    model.safetensors must be byte-identical to the uninterrupted run's, and
    so must every logged loss;
  * a corrupted newest checkpoint is refused on --resume (named), the older
    one is used, and the result is still byte-identical;
  * the compiled step agrees with the reference executor's (both float32)
    over three steps: losses within 1e-4 relative (a different summation
    order over 128 tokens x 384 classes; a wrong kernel is off by far more);
  * bad input is refused with a message naming it: non-UTF-8 or empty data,
    --seq-len beyond max_position_embeddings, a tokenizer of another model,
    an --out holding another run or other files; a NaN loss stops the run
    with its step number and exit code 3.
"""

import codecs
import contextlib
import csv
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

with contextlib.redirect_stdout(io.StringIO()):  # importing `this` prints it
    import this  # noqa: F401  (The Zen of Python, ROT13-encoded in this.s)

FAILED = []


def check(ok, what, detail=""):
    print(("PASS " if ok else "FAIL ") + what + ("" if ok else f": {detail}"))
    if not ok:
        FAILED.append(what)


def args(mm_train, model, data, out, steps=40, extra=()):
    return [mm_train, "pretrain", "--config", os.path.join(model, "config.json"),
            "--tokenizer", os.path.join(model, "tokenizer.json"), "--data", data,
            "--steps", str(steps), "--batch-size", "4", "--seq-len", "32", "--lr", "3e-3",
            "--seed", "7", "--threads", "2", "--save-every", "5", "--out", out, *extra]


def run(cmd, timeout=600):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout + p.stderr


def losses(out):
    with open(os.path.join(out, "metrics.csv")) as f:
        return [float(r["loss"]) for r in csv.DictReader(f)]


def model_bytes(out):
    with open(os.path.join(out, "model.safetensors"), "rb") as f:
        return f.read()


def main(argv):
    mm_train, model = os.path.abspath(argv[1]), os.path.abspath(argv[2])
    tmp = tempfile.mkdtemp(prefix="mm-train-")
    try:
        data = os.path.join(tmp, "zen.txt")
        with open(data, "w") as f:
            f.write(codecs.decode(this.s, "rot13"))

        # The uninterrupted run.
        a = os.path.join(tmp, "a")
        t0 = time.time()
        rc, log = run(args(mm_train, model, data, a))
        duration = time.time() - t0
        check(rc == 0, "uninterrupted run", log[-2000:])
        if rc != 0:
            return 1
        la = losses(a)
        check(len(la) == 40 and la[0] - la[-1] > 1.5, "the loss falls",
              f"first {la[0]:.4f}, last {la[-1]:.4f}")
        for name in ("model.safetensors", "config.json", "tokenizer.json", "loss_curve.svg"):
            check(os.path.exists(os.path.join(a, name)), f"{name} written")
        with open(os.path.join(a, "metrics.csv")) as f:
            header = f.readline().strip().split(",")
        check(all(h in header for h in ("step", "loss", "lr", "grad_norm", "tokens_per_s")),
              "metrics.csv header", header)

        # Killed at random moments and resumed: byte-identical.
        b = os.path.join(tmp, "b")
        rng = random.Random(2026)
        for attempt in range(3):
            p = subprocess.Popen(args(mm_train, model, data, b, extra=["--resume"]),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, 0.9) * duration)
            p.send_signal(signal.SIGKILL)
            p.wait()
        rc, log = run(args(mm_train, model, data, b, extra=["--resume"]))
        check(rc == 0, "resumed run completes", log[-2000:])
        check(rc == 0 and model_bytes(a) == model_bytes(b),
              "killed (SIGKILL x3) and resumed: model.safetensors byte-identical")
        check(rc == 0 and losses(b) == la, "killed and resumed: the same loss at every step")

        # A damaged newest checkpoint: refused, the older one used.
        c = os.path.join(tmp, "c")
        rc, _ = run(args(mm_train, model, data, c, steps=40, extra=[]))
        ckpts = sorted(os.listdir(os.path.join(c, "checkpoints")))
        newest = os.path.join(c, "checkpoints", ckpts[-1], "weights.safetensors")
        with open(newest, "r+b") as f:
            f.seek(-7, os.SEEK_END)
            byte = f.read(1)
            f.seek(-7, os.SEEK_END)
            f.write(bytes([byte[0] ^ 0x40]))
        os.remove(os.path.join(c, "model.safetensors"))
        rc, log = run(args(mm_train, model, data, c, extra=["--resume"]))
        check(rc == 0 and "skipping damaged checkpoint" in log and "fails its checksum" in log
              and ckpts[-1] in log, "a corrupted checkpoint is refused by name", log[-1500:])
        check(rc == 0 and model_bytes(c) == model_bytes(a),
              "resuming from the older checkpoint: byte-identical")

        # The compiled step against the reference executor's.
        r, k = os.path.join(tmp, "ref"), os.path.join(tmp, "cpu")
        rc1, log1 = run(args(mm_train, model, data, r, steps=3, extra=["--backend", "reference"]))
        rc2, log2 = run(args(mm_train, model, data, k, steps=3))
        ok = rc1 == 0 and rc2 == 0
        lr_, lk = (losses(r), losses(k)) if ok else ([], [])
        check(ok and all(abs(x - y) <= 1e-4 * abs(x) for x, y in zip(lr_, lk)) and len(lr_) == 3,
              "compiled step = reference step (3 steps, float32)", f"{lr_} vs {lk} {log1[-500:]}")

        # Activation recomputation: the same step in less memory.
        def arena_kib(log):
            for line in log.splitlines():
                if "the compiled step plans" in line:
                    return int(line.split("plans ")[1].split(" KiB")[0])
            return None

        plain, again = os.path.join(tmp, "plain"), os.path.join(tmp, "recompute")
        big = ["--batch-size", "8", "--seq-len", "96"]
        cmd1 = args(mm_train, model, data, plain, steps=3)
        cmd2 = args(mm_train, model, data, again, steps=3, extra=["--recompute"])
        for cmd in (cmd1, cmd2):
            i = cmd.index("--batch-size")
            cmd[i:i + 4] = big
        rc1, log1 = run(cmd1)
        rc2, log2 = run(cmd2)
        a1, a2 = arena_kib(log1), arena_kib(log2)
        check(rc1 == 0 and rc2 == 0 and losses(plain) == losses(again)
              and model_bytes(plain) == model_bytes(again),
              "--recompute: the same losses and weights", f"{log1[-300:]} {log2[-300:]}")
        check(a1 and a2 and a2 < 0.6 * a1, "--recompute: the planned activations shrink",
              f"{a1} KiB -> {a2} KiB")

        # Bad input.
        def refused(name, cmd, needles, code=1):
            rc, log = run(cmd)
            check(rc == code and all(n in log for n in needles), f"refuses {name}", log[-800:])

        bad = os.path.join(tmp, "bad.txt")
        with open(bad, "wb") as f:
            f.write(b"valid text \xff\xfe then not")
        refused("non-UTF-8 data", args(mm_train, model, bad, os.path.join(tmp, "x1")),
                ["bad.txt", "not UTF-8", "offset 11"])
        empty = os.path.join(tmp, "empty.txt")
        open(empty, "w").close()
        refused("empty data", args(mm_train, model, empty, os.path.join(tmp, "x2")),
                ["empty.txt", "empty"])
        small = os.path.join(tmp, "small")
        os.makedirs(small)
        cfg = json.load(open(os.path.join(model, "config.json")))
        cfg["max_position_embeddings"] = 16
        json.dump(cfg, open(os.path.join(small, "config.json"), "w"))
        shutil.copy(os.path.join(model, "tokenizer.json"), small)
        refused("--seq-len beyond max_position_embeddings",
                args(mm_train, small, data, os.path.join(tmp, "x3")),
                ["--seq-len 32", "max_position_embeddings 16"])
        cfg["max_position_embeddings"] = 4096
        cfg["vocab_size"] = 100
        json.dump(cfg, open(os.path.join(small, "config.json"), "w"))
        refused("a tokenizer of another model", args(mm_train, small, data, os.path.join(tmp, "x4")),
                ["tokenizer.json", "384 tokens", "vocab_size is 100"])
        refused("an --out holding another run", args(mm_train, model, data, a),
                ["holds another run", "--resume"])
        other = os.path.join(tmp, "other")
        os.makedirs(other)
        open(os.path.join(other, "notes.txt"), "w").close()
        refused("an --out with other files", args(mm_train, model, data, other),
                ["not empty", "no mm-train run"])
        refused("--resume with other settings",
                args(mm_train, model, data, a, steps=41, extra=["--resume"]),
                ["different settings", "steps"])
        nan = os.path.join(tmp, "nan")
        cmd = args(mm_train, model, data, nan, steps=10, extra=["--max-grad-norm", "0"])
        cmd[cmd.index("--lr") + 1] = "1e38"
        refused("a NaN loss (stops with the step)", cmd, ["step ", "the loss is", "stopping"], code=3)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'FAILED: ' + ', '.join(FAILED) if FAILED else 'all passed'}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
