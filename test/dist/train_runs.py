"""mm-train pretrain runs for the distributed training checks: the command
line, the run's metrics and weights, and the comparison of two runs.

Tolerances (same_run). A partitioned step computes the same sums as one
process in another order (half-batch means averaged under dp; partial
products all-reduced under tp / ep), so the loss and gradients differ by
float32 rounding: a few 1e-8 relative on a loss of ~6. AdamW turns a
relative gradient difference d into an update difference of about lr * d,
far below 1e-6 over a few steps; the weight tolerance 1e-4 is a third of one
lr-sized step at the end of the schedule, so a rank that applied a different
update (a wrong part, a missing reduction, a sign flip) fails it.
"""
import csv
import json
import os
import struct
import subprocess

import numpy as np

ZEN = ("Beautiful is better than ugly. Explicit is better than implicit. "
       "Simple is better than complex. Complex is better than complicated. " * 8)


class TrainRuns:
    def __init__(self, mm_train, model, work):
        self.mm_train, self.model, self.work = mm_train, model, work
        self.data = os.path.join(work, "zen.txt")
        with open(self.data, "w") as f:
            f.write(ZEN)
        self.failures = []

    def check(self, ok, what):
        print(("ok   " if ok else "FAIL ") + what, flush=True)
        if not ok:
            self.failures.append(what)

    def args(self, out, steps=6, batch=4, backend="cpu", extra=()):
        m = self.model
        return [self.mm_train, "pretrain", "--config", os.path.join(m, "config.json"),
                "--tokenizer", os.path.join(m, "tokenizer.json"), "--data", self.data,
                "--steps", str(steps), "--batch-size", str(batch), "--seq-len", "32",
                "--lr", "3e-3", "--seed", "0", "--threads", "1", "--save-every", "3",
                "--log-every", "1", "--backend", backend,
                "--out", os.path.join(self.work, out)] + list(extra)

    @staticmethod
    def single(argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=600)
        return p.returncode, p.stdout, p.stderr

    def metrics(self, out):
        with open(os.path.join(self.work, out, "metrics.csv")) as f:
            return list(csv.DictReader(f))

    def weights(self, out):
        raw = open(os.path.join(self.work, out, "model.safetensors"), "rb").read()
        n = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + n])
        tensors = {}
        for name, v in header.items():
            if name == "__metadata__":
                continue
            s, e = v["data_offsets"]
            tensors[name] = np.frombuffer(raw[8 + n + s:8 + n + e], dtype=np.float32)
        return tensors

    def same_run(self, a, b, what):
        """Run b has run a's losses, gradient norms and final weights."""
        ma, mb = self.metrics(a), self.metrics(b)
        self.check(len(ma) == len(mb) == int(ma[-1]["step"]), what + f": {len(mb)} metric rows")
        loss = max(abs(float(x["loss"]) - float(y["loss"])) / abs(float(x["loss"]))
                   for x, y in zip(ma, mb))
        norm = max(abs(float(x["grad_norm"]) - float(y["grad_norm"])) / float(x["grad_norm"])
                   for x, y in zip(ma, mb))
        self.check(loss <= 1e-5, what + f": loss per step within 1e-5 relative ({loss:.2e})")
        self.check(norm <= 1e-4, what + f": gradient norm per step within 1e-4 relative ({norm:.2e})")
        wa, wb = self.weights(a), self.weights(b)
        diff = max(float(np.abs(wa[k] - wb[k]).max()) for k in wa) if wa.keys() == wb.keys() else 1
        self.check(wa.keys() == wb.keys() and diff <= 1e-4,
                   what + f": final weights within 1e-4 ({diff:.2e})")
