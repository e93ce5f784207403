#!/usr/bin/env python3
"""Batch-1 decode and prefill with f32, bf16 and int8 weights, against
transformers eager (f32 and bf16) and the machine's memory bandwidth.

    python3 bench/weight_dtype_bench.py [--threads 1 2] [--prompt 128] [--new 64]

Needs `scripts/setup.sh --python` and a build. The model is
bench/minimax_cpu_bench.py's (hidden 512, 8 layers, 8 experts top-2, vocab
32000, random weights). For each --weight-dtype an AOT binary is compiled
(`mm-compile --weight-dtype X`; with int8 it also writes the quantized
weights beside the binary) and run as `BIN --ids ... --greedy --json`.

Memory bandwidth: bench/stream_triad.c (a STREAM triad over 3 x 256 MiB,
built here with the system compiler and -fopenmp) at each thread count.

Decode is bandwidth-bound at batch 1: each token reads every active weight
once. Active bytes per token come from the binary's `--info` (each weight's
shape and storage): every weight once, the expert stacks at top_k / experts
of their bytes, the embedding one row; int8 weights count their row scales.
The fraction of the limit is (active bytes x decode tokens/s) / triad GB/s.
The KV cache and lightning state traffic (under 1 MB per token here) is left
out, so the fraction slightly understates the bytes moved.
"""
import argparse
import copy
import json
import os
import platform
import re
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from minimax_cpu_bench import hf_run, make_model  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MM_COMPILE = os.path.join(ROOT, "build", "bin", "mm-compile")
BYTES = {"DTYPE_F32": 4, "DTYPE_BF16": 2, "DTYPE_I64": 8}


def triad_bandwidth(folder, threads):
    exe = os.path.join(folder, "stream_triad")
    if not os.path.exists(exe):
        subprocess.check_call(["cc", "-O3", "-march=native", "-fopenmp", "-o", exe,
                               os.path.join(ROOT, "bench", "stream_triad.c")])
    out = subprocess.check_output([exe], text=True, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
    return float(out.strip())


def active_bytes(binary, config):
    """Bytes of weights one batch-1 decode step reads, from `binary --info`."""
    total = 0.0
    share = config["num_experts_per_tok"] / config["num_local_experts"]
    for line in subprocess.check_output([binary, "--info"], text=True).splitlines():
        m = re.match(r"\s+weight (\S+) \[([\d, ]+)\] (DTYPE_\w+)", line)
        if not m:
            continue
        name, shape, dtype = m.group(1), [int(d) for d in m.group(2).split(",")], m.group(3)
        numel = 1
        for d in shape:
            numel *= d
        rows = numel // shape[-1]
        size = numel + 4 * rows if dtype == "DTYPE_I8_ROWS" else numel * BYTES[dtype]
        if "embed_tokens" in name:
            size /= shape[0]  # one row per token
        elif ".experts." in name:
            size *= share
        total += size
    return total


def run_binary(binary, prompt, new, threads):
    args = [binary, "--ids", ",".join(map(str, prompt)), "--max-new-tokens", str(new), "--greedy",
            "--ignore-eos", "--json", "--threads", str(threads)]
    report = json.loads(subprocess.check_output(args, text=True).strip().splitlines()[-1])
    return report["prefill_tokens_per_second"], report["decode_tokens_per_second"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, os.cpu_count()])
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine; the best is kept")
    args = parser.parse_args()
    cpu = "unknown CPU"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    flags = open("/proc/cpuinfo").read()
    isa = [f for f in ("avx512f", "avx512_bf16", "avx512_vnni", "avx_vnni", "avx2") if f" {f}" in flags]
    print(f"machine: {cpu}, {os.cpu_count()} cores ({', '.join(isa)}), {platform.system()}; "
          f"torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        model = make_model(folder)
        config = json.load(open(os.path.join(folder, "config.json")))
        binaries = {}
        for dtype in ("f32", "bf16", "int8"):
            binaries[dtype] = os.path.join(folder, f"mm-{dtype}")
            subprocess.check_call([MM_COMPILE, "--model", folder, "--weight-dtype", dtype,
                                   "-o", binaries[dtype], "--max-batch", "1",
                                   "--max-tokens", str(args.prompt),
                                   "--max-context", str(args.prompt + args.new)],
                                  stdout=subprocess.DEVNULL)
        active = {d: active_bytes(b, config) for d, b in binaries.items()}
        prompt = torch.randint(0, 32000, (args.prompt,), generator=torch.Generator().manual_seed(1)).tolist()
        print(f"model: hidden 512, 8 layers (7 lightning, 1 softmax), 8 experts top-2, vocab 32000; "
              f"prompt {args.prompt} tokens, {args.new} new tokens, batch 1")
        print("active weight bytes per decode token: " +
              ", ".join(f"{d} {b / 1e6:.1f} MB" for d, b in active.items()))
        print()
        print("| threads | triad GB/s | engine | prefill tok/s | decode tok/s | prefill vs HF f32 | "
              "decode vs HF f32 | decode GB/s | of triad |")
        print("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
        bf16_model = None
        for threads in args.threads:
            bandwidth = triad_bandwidth(folder, threads)
            torch.set_num_threads(threads)
            rows = []
            for label, m in (("transformers eager f32", model), ("transformers eager bf16", None)):
                if m is None:
                    if bf16_model is None:  # the same weights (the checkpoint stays as written)
                        bf16_model = copy.deepcopy(model).to(torch.bfloat16)
                    m = bf16_model
                hf_run(m, prompt[:16], 4)  # warm-up
                best = max((hf_run(m, prompt, args.new) for _ in range(args.repeat)), key=lambda r: r[1])
                bytes_per_token = active["f32"] if "f32" in label else active["bf16"]
                rows.append((label, *best, bytes_per_token))
            for dtype, binary in binaries.items():
                run_binary(binary, prompt[:16], 4, threads)  # warm-up
                best = max((run_binary(binary, prompt, args.new, threads) for _ in range(args.repeat)),
                           key=lambda r: r[1])
                rows.append((f"mmc AOT, {dtype} weights", *best, active[dtype]))
            hf_prefill, hf_decode = rows[0][1], rows[0][2]
            for label, prefill, decode, bytes_per_token in rows:
                gbs = bytes_per_token * decode / 1e9
                print(f"| {threads} | {bandwidth:.1f} | {label} | {prefill:.1f} | {decode:.1f} | "
                      f"{prefill / hf_prefill:.2f} | {decode / hf_decode:.2f} | {gbs:.1f} | "
                      f"{gbs / bandwidth:.2f} |", flush=True)


if __name__ == "__main__":
    main()
