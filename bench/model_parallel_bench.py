"""Tensor- and expert-parallel inference throughput: one process against mpirun ranks.

    python3 bench/model_parallel_bench.py [--model DIR] [--prompt-tokens 256]
        [--new-tokens 64] [--repeats 3]

Without --model, the random-weight model of bench/minimax_cpu_bench.py
(hidden 512, 8 layers: 7 lightning + 1 softmax, 8 heads / 4 KV heads, 8
experts top-2, vocab 32000) is written to a temporary folder.

Generates greedily with the compiled CPU backend (a) in one process with
all the machine's cores as OpenMP threads, (b) on N = cores MPI ranks of one
thread each with --parallel tp=N, (c) the same with ep=N, (d) with etp=N
instead (each expert's FFN width split). Prints the best of
--repeats prefill and decode tokens/s, the ratio to (a), the weight bytes
each rank holds, and the decode's weight traffic: the weight bytes all ranks
read per token (norms and router whole on every rank, the attention and
the LM head split by tp, the active experts: top-k of E, split by ep) times
tokens/s, against the machine's measured memory bandwidth. The
tokens of (b) and (c) equal (a)'s (ctest dist-tensor-parallel checks the
logits).
"""
import argparse
import json
import os
import re
import subprocess
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, os.path.join(root, "test", "dist"))
sys.path.insert(0, here)
from mpi_launch import mpirun  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--model", default="")
ap.add_argument("--prompt-tokens", type=int, default=256)
ap.add_argument("--new-tokens", type=int, default=64)
ap.add_argument("--repeats", type=int, default=3)
ap.add_argument("--mm-run", default=os.path.join(root, "build", "bin", "mm-run"))
a = ap.parse_args()
cores = os.cpu_count() or 1
if not a.model:
    import tempfile
    from minimax_cpu_bench import make_model
    a.model = tempfile.mkdtemp(prefix="mm-mp-bench-")
    make_model(a.model)
vocab = json.load(open(os.path.join(a.model, "config.json")))["vocab_size"]
ids = ",".join(str((7 * i + 3) % vocab) for i in range(a.prompt_tokens))


def memory_bandwidth():
    """GB/s of a large numpy copy (read + write), the machine's streaming rate."""
    x = np.ones(64 << 20, dtype=np.float32)  # 256 MiB
    y = np.empty_like(x)
    best = 0.0
    import time
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(y, x)
        best = max(best, 2 * x.nbytes / (time.perf_counter() - t) / 1e9)
    return best


def run(ranks, parallel):
    argv = [a.mm_run, "generate", "--model", a.model, "--ids", ids, "--max-new-tokens",
            str(a.new_tokens), "--greedy", "--json", "--backend", "cpu"]
    best = None
    for _ in range(a.repeats):
        if ranks == 1:
            p = subprocess.run(argv + ["--threads", str(cores)], capture_output=True, text=True)
            code, out, err = p.returncode, p.stdout, p.stderr
        else:
            code, out, err, _ = mpirun(ranks, argv + ["--parallel", parallel, "--threads", "1"],
                                       timeout=900)
        if code != 0:
            sys.exit(f"{parallel or 'one process'} failed:\n{(out + err)[-3000:]}")

        r = json.loads(out.strip().splitlines()[-1])
        held = [int(b) for b in re.findall(r": (\d+) bytes of weights bound", err)]
        r["held"] = max(held) if held else None
        peak = [int(m) for m in re.findall(r"peak resident (\d+) MiB", err)]
        if ranks == 1:  # mm-run reports it under mpirun only; the children's peak so far
            import resource
            peak = [resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024]
        r["peak"] = max(peak) if peak else None
        if best is None or r["decode_tokens_per_second"] > best["decode_tokens_per_second"]:
            best = r
    return best


bandwidth = memory_bandwidth()
weights = sum(os.path.getsize(os.path.join(a.model, f)) for f in os.listdir(a.model)
              if f.endswith(".safetensors"))
config = json.load(open(os.path.join(a.model, "config.json")))


def tensor_bytes():
    """Bytes of the checkpoint's tensors by part: attention, experts, the
    embedding (one row read per token), the rest (LM head, norms, router)."""
    import struct
    parts = {"attention": 0, "experts": 0, "embedding": 0, "lm_head": 0, "rest": 0}
    for f in os.listdir(a.model):
        if not f.endswith(".safetensors"):
            continue
        with open(os.path.join(a.model, f), "rb") as fh:
            header = json.loads(fh.read(struct.unpack("<Q", fh.read(8))[0]))
        for k, v in header.items():
            if k == "__metadata__":
                continue
            n = v["data_offsets"][1] - v["data_offsets"][0]
            part = ("attention" if ".self_attn." in k else "experts" if ".experts." in k else
                    "embedding" if "embed_tokens" in k else "lm_head" if "lm_head" in k else
                    "rest")
            parts[part] += n
    return parts


parts = tensor_bytes()


def read_per_token(ranks, tp, ep, etp):
    """Weight bytes all ranks read for one decode token (experts split over ep
    ranks, each one's width over etp)."""
    active = config["num_experts_per_tok"] / config["num_local_experts"]
    vocab_split = tp if config["vocab_size"] % tp == 0 else 1
    per_rank = (parts["rest"] + parts["attention"] / tp + parts["lm_head"] / vocab_split +
                parts["experts"] * active / (ep * etp))
    return ranks * per_rank
rows = [("1 process, %d threads" % cores, 1, 1, 1, 1, run(1, ""))]
if cores >= 2:
    for ep, etp in ((1, 1), (cores, 1), (1, cores)):
        layout = "tp=%d" % cores + (",ep=%d" % ep if ep > 1 else "") + \
            (",etp=%d" % etp if etp > 1 else "")
        rows.append(("%d ranks x 1 thread, %s" % (cores, layout), cores, cores, ep, etp,
                     run(cores, layout)))
base = rows[0][-1]
print(f"model {a.model}: {weights} bytes of weights; prompt {a.prompt_tokens} tokens, "
      f"{a.new_tokens} new; memory bandwidth {bandwidth:.1f} GB/s (numpy copy)")
print("| run | prefill tok/s | decode tok/s | decode vs 1 process | weight bytes per rank "
      "| peak resident per rank | decode weight reads, all ranks | of bandwidth |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for name, ranks, tp, ep, etp, r in rows:
    held = r["held"] or weights
    gbs = read_per_token(ranks, tp, ep, etp) * r["decode_tokens_per_second"] / 1e9
    same = "" if r["ids"] == base["ids"] else " (tokens differ!)"
    print(f"| {name}{same} | {r['prefill_tokens_per_second']:.0f} | "
          f"{r['decode_tokens_per_second']:.0f} | "
          f"{r['decode_tokens_per_second'] / base['decode_tokens_per_second']:.2f}x | {held} | "
          f"{r['peak']} MiB | "
          f"{gbs:.1f} GB/s | {gbs / bandwidth:.0%} |")
