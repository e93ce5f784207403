#!/usr/bin/env python3
"""Prefill and decode tokens/s of mmc's MiniMax paths against Hugging Face
transformers on PyTorch CPU, same model, same prompt, same thread count.

    python3 bench/minimax_cpu_bench.py [--threads 1 2] [--prompt 128] [--new 64]

The model (hidden 512, 8 layers: 7 lightning + 1 softmax, 8 experts top-2,
vocab 32000, random weights) is written to a temporary folder once. Each
engine runs one warm-up generation, then the timed one:
  * mmc reference executor: build/bin/mm-run generate --json (the tokens/s it
    reports; weights are bound before timing);
  * mmc compiled, f32: build/bin/mm-run generate --backend cpu (compiles the
    model to generated C++ first; compile time is not in the tokens/s);
  * mmc AOT, bf16 weights: a binary from mm-compile --weight-dtype bf16 (the
    weights stored as bf16, widened to f32 in the kernels: half the bytes per
    decode step);
  * transformers: MiniMaxForCausalLM (float32, default kernels), a prefill
    forward with the cache, then single-token decode steps.
Both decode greedily for --new tokens after a --prompt-token prompt. The
ratios (mmc / transformers) go to docs/performance.md.
"""
import argparse
import json
import os
import platform
import subprocess
import tempfile
import time

import torch
from safetensors.torch import save_file
from transformers import MiniMaxConfig, MiniMaxForCausalLM

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MM_RUN = os.path.join(ROOT, "build", "bin", "mm-run")


def make_model(folder):
    layers = 8
    config = MiniMaxConfig(
        vocab_size=32000, hidden_size=512, intermediate_size=1024, num_hidden_layers=layers,
        num_attention_heads=8, num_key_value_heads=4, head_dim=64, num_local_experts=8,
        num_experts_per_tok=2, block_size=256,
        layer_types=["full_attention" if i % 8 == 7 else "linear_attention" for i in range(layers)],
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        eos_token_id=None, bos_token_id=None, pad_token_id=None)
    torch.manual_seed(0)
    model = MiniMaxForCausalLM(config)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.05)
    state = {n: t.contiguous() for n, t in model.state_dict().items()
             if "rotary_emb" not in n and not n.endswith(
                 ("slope_rate", "query_decay", "key_decay", "diagonal_decay"))}
    save_file(state, os.path.join(folder, "model.safetensors"))
    cfg = json.loads(config.to_json_string())
    cfg.pop("dtype", None)
    cfg.pop("transformers_version", None)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    return model.eval()


def hf_run(model, prompt, new):
    with torch.no_grad():
        start = time.perf_counter()
        out = model(torch.tensor([prompt]), use_cache=True)
        prefill = time.perf_counter() - start
        cache = out.cache if hasattr(out, "cache") else out.past_key_values
        token = out.logits[:, -1].argmax(-1, keepdim=True)
        start = time.perf_counter()
        for _ in range(new - 1):
            out = model(token, cache=cache, use_cache=True)
            cache = out.cache if hasattr(out, "cache") else out.past_key_values
            token = out.logits[:, -1].argmax(-1, keepdim=True)
        decode = time.perf_counter() - start
    return len(prompt) / prefill, (new - 1) / decode


def mmc_run(folder, prompt, new, threads, engine):
    args = ["--ids", ",".join(map(str, prompt)), "--max-new-tokens", str(new), "--greedy",
            "--ignore-eos", "--json"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if engine == "aot-bf16":
        cmd = [os.path.join(folder, "mm-bf16")] + args
    else:
        cmd = [MM_RUN, "generate", "--model", folder, "--threads", str(threads),
               "--backend", engine] + args
    report = json.loads(subprocess.check_output(cmd, text=True, env=env).strip().splitlines()[-1])
    return report["prefill_tokens_per_second"], report["decode_tokens_per_second"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--prompt", type=int, default=128)
    parser.add_argument("--new", type=int, default=64)
    args = parser.parse_args()
    cpu = "unknown CPU"
    if os.path.exists("/proc/cpuinfo"):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    print(f"machine: {cpu}, {os.cpu_count()} cores, {platform.system()}; torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as folder:
        model = make_model(folder)
        subprocess.check_call([os.path.join(ROOT, "build", "bin", "mm-compile"), "--model", folder,
                               "--weight-dtype", "bf16", "-o", os.path.join(folder, "mm-bf16"),
                               "--max-batch", "1", "--max-tokens", str(args.prompt),
                               "--max-context", str(args.prompt + args.new)],
                              stdout=subprocess.DEVNULL)
        prompt = torch.randint(0, 32000, (args.prompt,), generator=torch.Generator().manual_seed(1)).tolist()
        print(f"model: hidden 512, 8 layers (7 lightning, 1 softmax), 8 experts top-2, vocab 32000; "
              f"prompt {args.prompt} tokens, {args.new} new tokens, batch 1, float32")
        print(f"{'threads':>7} | {'engine':<34} | {'prefill tok/s':>13} | {'decode tok/s':>12}")
        for threads in args.threads:
            torch.set_num_threads(threads)
            hf_run(model, prompt[:16], 4)  # warm-up
            hf_prefill, hf_decode = hf_run(model, prompt, args.new)
            print(f"{threads:>7} | {'transformers ' + torch.__version__.split('+')[0] + ' (default)':<34} | {hf_prefill:>13.1f} | {hf_decode:>12.1f}")
            for engine, label in (("reference", "mmc reference executor (f32)"),
                                  ("cpu", "mmc compiled (generated C++, f32)"),
                                  ("aot-bf16", "mmc AOT binary, bf16 weights")):
                mmc_run(folder, prompt[:16], 4, threads, engine)  # warm-up
                mm_prefill, mm_decode = mmc_run(folder, prompt, args.new, threads, engine)
                print(f"{threads:>7} | {label:<34} | {mm_prefill:>13.1f} | {mm_decode:>12.1f}")
                print(f"{threads:>7} | {'  ratio to transformers':<34} | {mm_prefill / hf_prefill:>13.2f} | {mm_decode / hf_decode:>12.2f}")


if __name__ == "__main__":
    main()
