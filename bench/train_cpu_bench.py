#!/usr/bin/env python3
"""Training throughput on CPU: mm-train's compiled step vs the reference
executor and transformers' MiniMaxForCausalLM trained eagerly by PyTorch.

    python3 bench/train_cpu_bench.py [--threads N] [--steps N]

Same model config, batch, sequence length and threads for every engine; each
runs forward + backward + AdamW (clip 1.0) per step on random token batches,
and the median tokens/s over the steps after the first two (warm-up) is
reported. The fraction of the hardware limit uses 6 x active parameters
FLOPs per token (forward 2, backward 4; experts count top-k of E) against the
float32 FMA peak from /proc/cpuinfo (cores x MHz x 2 FMA units x lanes x 2).
Needs a build and `scripts/setup.sh --python` (torch, transformers) for the
peer; without torch the peer row is skipped and says so.
"""
import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
MM_TRAIN = os.path.join(ROOT, "build", "bin", "mm-train")
CONFIGS = {
    "minimax-tiny (0.5M)": os.path.join(ROOT, "examples", "minimax-tiny"),
    "minimax-small-moe (2.9M)": os.path.join(ROOT, "examples", "minimax-small-moe"),
}
TOKENIZER = os.path.join(ROOT, "examples", "minimax-tiny", "tokenizer.json")


def active_params(cfg):
    h, v, layers = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    d, heads, kv = cfg["head_dim"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    inter, k = cfg["intermediate_size"], cfg["num_experts_per_tok"]
    total = 2 * v * h + h
    for kind in cfg["layer_types"]:
        attn = (3 * heads * d * h + heads * d * h + heads * d * h + heads * d) if kind == "linear_attention" \
            else (heads * d * h + 2 * kv * d * h + heads * d * h)
        total += attn + 2 * h + cfg["num_local_experts"] * h + k * 3 * inter * h
    return total


def peak_gflops():
    info = open("/proc/cpuinfo").read()
    mhz = float(re.search(r"cpu MHz\s*:\s*([0-9.]+)", info).group(1))
    lanes = 16 if " avx512f" in info else 8 if " avx2" in info else 4
    model = re.search(r"model name\s*:\s*(.*)", info).group(1)
    return os.cpu_count() * mhz * 1e-3 * 2 * lanes * 2, f"{model}, {os.cpu_count()} cores at {mhz:.0f} MHz, {lanes} float lanes"


def corpus(path, tokens):
    import random
    rng = random.Random(0)
    words = ["alpha", "beta", "gamma", "delta", "lightning", "expert", "token", "state", "the", "of"]
    with open(path, "w") as f:
        f.write(" ".join(rng.choice(words) for _ in range(tokens)))


def mmc(folder, data, out, backend, steps, batch, seq, threads):
    cmd = [MM_TRAIN, "pretrain", "--config", os.path.join(folder, "config.json"), "--tokenizer", TOKENIZER,
           "--data", data, "--steps", str(steps), "--batch-size", str(batch), "--seq-len", str(seq),
           "--lr", "1e-3", "--seed", "0", "--threads", str(threads), "--save-every", str(steps),
           "--out", out, "--backend", backend, "--log-every", str(steps)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    with open(os.path.join(out, "metrics.csv")) as f:
        rates = [float(r["tokens_per_s"]) for r in csv.DictReader(f)]
    return statistics.median(rates[2:] if len(rates) > 3 else rates)


def torch_eager(folder, steps, batch, seq, threads):
    try:
        import torch
        from transformers import MiniMaxConfig, MiniMaxForCausalLM
    except ImportError as e:
        return None, f"not run: {e}"
    torch.set_num_threads(threads)
    cfg = MiniMaxConfig.from_pretrained(folder)
    torch.manual_seed(0)
    model = MiniMaxForCausalLM(cfg).float().train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rates = []
    for _ in range(steps):
        ids = torch.randint(0, cfg.vocab_size, (batch, seq + 1))
        t0 = time.perf_counter()
        logits = model(ids[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, cfg.vocab_size), ids[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        rates.append(batch * seq / (time.perf_counter() - t0))
    import transformers
    return statistics.median(rates[2:]), f"torch {torch.__version__}, transformers {transformers.__version__}"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--steps", type=int, default=12)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seq", type=int, default=128)
    a = p.parse_args()
    peak, machine = peak_gflops()
    print(f"# {machine}; threads {a.threads}; batch {a.batch} x seq {a.seq}; peak {peak:.0f} GFLOP/s")
    print("| model | engine | tokens/s | vs PyTorch eager | GFLOP/s (6 x active params) | of FMA peak |")
    print("|---|---|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "data.txt")
        corpus(data, 200000)
        for name, folder in CONFIGS.items():
            cfg = json.load(open(os.path.join(folder, "config.json")))
            flops_per_token = 6 * active_params(cfg)
            theirs, note = torch_eager(folder, a.steps, a.batch, a.seq, a.threads)
            rows = [("PyTorch eager (float32) " + note, theirs),
                    ("mm-train compiled step (float32)",
                     mmc(folder, data, os.path.join(tmp, name + "cpu"), "cpu", a.steps, a.batch, a.seq, a.threads)),
                    ("mm-train reference executor (float32)",
                     mmc(folder, data, os.path.join(tmp, name + "ref"), "reference", 4, a.batch, a.seq, a.threads))]
            for engine, rate in rows:
                if rate is None:
                    print(f"| {name} | {engine} | - | - | - | - |")
                    continue
                ratio = f"{rate / theirs:.2f}x" if theirs else "-"
                gf = rate * flops_per_token / 1e9
                print(f"| {name} | {engine} | {rate:.0f} | {ratio} | {gf:.1f} | {gf / peak:.3f} |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
