#!/usr/bin/env python3
"""Trains the bundled demo model, examples/minimax-tiny: a 0.5M-parameter
MiniMax-Text-01 (lightning + softmax layers, MoE) with its own byte-level BPE
tokenizer, taught to recite The Zen of Python. It exists so that the README's
main job produces readable text on any machine in a second; it is not a
language model of any use beyond that.

Training runs transformers' MiniMaxForCausalLM with the official MiniMax
semantics (minimax_oracle.py), so what mmc computes is what was trained.

    python3 scripts/oracle/train_tiny_model.py [--steps 400]
"""
import argparse
import codecs
import json
import os
import this  # noqa: F401  (The Zen of Python lives in this.s, ROT13-encoded)

import torch
from safetensors.torch import save_file
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import MiniMaxConfig, MiniMaxForCausalLM

import minimax_oracle

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "examples", "minimax-tiny")
SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
         r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
BOS, EOS = "<beginning_of_sentence>", "<end_of_sentence>"


def corpus():
    return codecs.decode(this.s, "rot13")


def train_tokenizer(text, vocab_size):
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[BOS, EOS],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator([text], trainer)
    return tok


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=400)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    minimax_oracle.spec_semantics()
    text = corpus()
    tok = train_tokenizer(text, 384)
    bos, eos = tok.token_to_id(BOS), tok.token_to_id(EOS)
    lines = [l for l in text.split("\n") if l.strip()]
    data = [bos] + tok.encode("\n".join(lines) + "\n").ids + [eos]
    vocab = tok.get_vocab_size()

    config = MiniMaxConfig(
        vocab_size=vocab, hidden_size=64, intermediate_size=128, num_hidden_layers=4,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=4,
        num_experts_per_tok=2, block_size=32,
        layer_types=["linear_attention", "linear_attention", "linear_attention", "full_attention"],
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5},
        linear_attn_alpha_factor=1.6818, full_attn_alpha_factor=1.6818, mlp_alpha_factor=1.6818,
        bos_token_id=bos, eos_token_id=eos, pad_token_id=None)
    model = MiniMaxForCausalLM._from_config(config, experts_implementation="eager")
    model = minimax_oracle.to_dtype(model, torch.float32).train()
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    seq = torch.tensor(data)
    window = 96
    for step in range(args.steps):
        starts = torch.randint(0, len(data) - window - 1, (8,))
        batch = torch.stack([seq[s:s + window + 1] for s in starts])
        logits = model(batch[:, :-1]).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, vocab), batch[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"step {step}: loss {loss.item():.3f}", flush=True)

    os.makedirs(OUT, exist_ok=True)
    state = {n: t.detach().contiguous() for n, t in model.state_dict().items()
             if "rotary_emb" not in n and not n.endswith(
                 ("slope_rate", "query_decay", "key_decay", "diagonal_decay"))}
    save_file(state, os.path.join(OUT, "model.safetensors"))
    cfg = json.loads(config.to_json_string())
    for k in ("transformers_version", "dtype", "torch_dtype", "_experts_implementation"):
        cfg.pop(k, None)
    cfg["architectures"] = ["MiniMaxForCausalLM"]
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    tok.save(os.path.join(OUT, "tokenizer.json"))

    model.eval()
    prompt = tok.encode("Beautiful is better than").ids
    with torch.no_grad():
        out = model.generate(torch.tensor([[bos] + prompt]), max_new_tokens=24, do_sample=False)
    print("greedy:", tok.decode(out[0].tolist()[1:]))


if __name__ == "__main__":
    main()
