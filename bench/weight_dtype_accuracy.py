#!/usr/bin/env python3
"""Accuracy of bf16 and int8 weights against f32, on the compiled host path.

    python3 bench/weight_dtype_accuracy.py --model DIR [--held-out FILE] [--new 64]
    python3 bench/weight_dtype_accuracy.py --config CONFIG.json   # random weights

For each of `--weight-dtype bf16` and `int8` (`mm-run ... --backend cpu`),
against `--weight-dtype f32` on the same folder:
  * logit error over a 64-token prompt: the largest and the mean |error|,
    also as a fraction of the largest |logit| of the f32 run;
  * greedy agreement: f32 generates --new tokens greedily; each dtype then
    reads the same sequence (teacher-forced) and the fraction of positions
    where its argmax is f32's token is reported, plus the first position where
    its own free-running greedy output leaves f32's;
  * perplexity of --held-out text (a trained model on text it has not seen),
    in windows of 256 tokens, each scored from its second token on.
With --config, a checkpoint of random N(0, 0.02) weights is written first
(transformers' MiniMaxForCausalLM, torch seed 0, as bench/gpu_bench.py), so
the prompt is random ids and there is no perplexity.
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MM_RUN = os.path.join(ROOT, "build", "bin", "mm-run")
DTYPES = ("f32", "bf16", "int8")


def random_checkpoint(config_path, folder):
    """config.json and model.safetensors of N(0, 0.02) weights (torch seed 0),
    written as bench/gpu_bench.py writes its ~1B model."""
    import torch
    from safetensors.torch import save_file
    from transformers import MiniMaxConfig, MiniMaxForCausalLM
    cfg = json.load(open(config_path))
    torch.manual_seed(0)
    model = MiniMaxForCausalLM(MiniMaxConfig(**{k: v for k, v in cfg.items() if k != "architectures"}))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.02)
    state = {n: t.contiguous() for n, t in model.state_dict().items()
             if "rotary_emb" not in n and not n.endswith(
                 ("slope_rate", "query_decay", "key_decay", "diagonal_decay"))}
    save_file(state, os.path.join(folder, "model.safetensors"))
    del model, state
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f)
    return cfg


def logits(model, ids, dtype, tmp):
    out = os.path.join(tmp, f"logits-{dtype}.npy")
    subprocess.run([MM_RUN, "logits", "--model", model, "--backend", "cpu", "--weight-dtype", dtype,
                    "--ids", ",".join(map(str, ids)), "--out", out], check=True,
                   capture_output=True)
    return np.load(out).astype(np.float64)


def generate(model, ids, new, dtype):
    p = subprocess.run([MM_RUN, "generate", "--model", model, "--backend", "cpu", "--weight-dtype",
                        dtype, "--ids", ",".join(map(str, ids)), "--max-new-tokens", str(new),
                        "--greedy", "--ignore-eos", "--json"], check=True, capture_output=True,
                       text=True)
    return json.loads(p.stdout.strip().splitlines()[-1])["ids"]


def perplexity(model, ids, dtype, tmp, window=256):
    nll, count = 0.0, 0
    for start in range(0, len(ids) - 1, window):
        chunk = ids[start:start + window]
        if len(chunk) < 2:
            break
        z = logits(model, chunk, dtype, tmp)
        z = z - z.max(-1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
        nll -= sum(logp[i, chunk[i + 1]] for i in range(len(chunk) - 1))
        count += len(chunk) - 1
    return float(np.exp(nll / count)), count


def main():
    parser = argparse.ArgumentParser()
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--model", help="a model folder (config.json, safetensors, tokenizer.json)")
    source.add_argument("--config", help="config.json: random weights")
    parser.add_argument("--held-out", help="text the model was not trained on (perplexity)")
    parser.add_argument("--prompt-text", default="Beautiful is better than ugly. Explicit is")
    parser.add_argument("--new", type=int, default=64)
    parser.add_argument("--max-held-out-tokens", type=int, default=2048)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model
        if args.config:
            model = os.path.join(tmp, "model")
            os.makedirs(model)
            cfg = random_checkpoint(args.config, model)
            prompt = np.random.default_rng(1).integers(0, cfg["vocab_size"], 64).tolist()
            print(f"model: {args.config} with random N(0, 0.02) weights; prompt: 64 random ids")
        else:
            from tokenizers import Tokenizer
            tok = Tokenizer.from_file(os.path.join(model, "tokenizer.json"))
            text = args.prompt_text
            if args.held_out:
                text = open(args.held_out, encoding="utf-8").read()
            prompt = tok.encode(text).ids[:64]
            print(f"model: {model}; prompt: the first {len(prompt)} tokens of "
                  f"{args.held_out or repr(args.prompt_text)}")

        base = logits(model, prompt, "f32", tmp)
        scale = float(np.max(np.abs(base)))
        greedy = generate(model, prompt, args.new, "f32")
        forced = logits(model, prompt + greedy, "f32", tmp)
        n0 = len(prompt) - 1  # the position that predicts greedy[0]
        assert (forced[n0:n0 + args.new].argmax(-1) == np.array(greedy)).mean() == 1.0, \
            "f32 teacher-forced argmax must reproduce f32 greedy"
        held = None
        if args.held_out:
            held = tok.encode(open(args.held_out, encoding="utf-8").read()).ids[:args.max_held_out_tokens]
        print()
        print("| weights | max abs logit error | mean abs logit error | max error / max logit | "
              f"greedy agreement ({args.new}, teacher-forced) | first divergence (free-running) |"
              + (" held-out perplexity |" if held else ""))
        print("|---|---:|---:|---:|---:|---:|" + ("---:|" if held else ""))
        for dtype in DTYPES:
            z = base if dtype == "f32" else logits(model, prompt, dtype, tmp)
            err = np.abs(z - base)
            tf = forced if dtype == "f32" else logits(model, prompt + greedy, dtype, tmp)
            agree = float((tf[n0:n0 + args.new].argmax(-1) == np.array(greedy)).mean())
            own = greedy if dtype == "f32" else generate(model, prompt, args.new, dtype)
            diverge = next((i for i, (a, b) in enumerate(zip(own, greedy)) if a != b), None)
            row = (f"| {dtype} | {err.max():.3g} | {err.mean():.3g} | {err.max() / scale:.2e} | "
                   f"{agree:.3f} | {'none' if diverge is None else diverge} |")
            if held:
                ppl, count = perplexity(model, held, dtype, tmp)
                row += f" {ppl:.4f} ({count} tokens) |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
