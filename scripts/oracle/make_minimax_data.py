#!/usr/bin/env python3
"""Writes the tiny MiniMax checkpoints and float64 oracle outputs that mmc's
numeric tests compare against (test/data/minimax/<case>/).

Each case is a random-weight model saved in one of the real checkpoint layouts,
with the logits of every position of a prompt and greedy continuations, all
computed by Hugging Face transformers' MiniMaxForCausalLM in float64 with the
official MiniMax semantics (minimax_oracle.py lists the three patches).

    pip install torch transformers safetensors numpy   # or scripts/setup.sh --python
    python3 scripts/oracle/make_minimax_data.py [--out test/data/minimax]

Deterministic: fixed seeds. Greedy continuations are checked for a clear margin
between the two best logits at every step, so a float32 implementation cannot
flip a near-tie; a case that fails the check stops the script.
"""
import argparse
import json
import os
import shutil

import numpy as np
import torch
from safetensors.torch import save_file
from transformers import MiniMaxConfig, MiniMaxForCausalLM

import minimax_oracle

# Greedy steps must beat the runner-up by this much (relative to the logit
# scale): far above float32 error (~1e-6), so the continuation is well defined.
MIN_MARGIN = 1e-3


def make_model(hf_config, seed):
    torch.manual_seed(seed)
    # The eager experts loop: the default grouped_mm kernel has no float64.
    model = MiniMaxForCausalLM._from_config(hf_config, experts_implementation="eager")
    # O(1) activations: weights ~ N(0, 1/fan_in), norm gains around 1. With
    # transformers' default init (std 0.02) the logits are nearly uniform and
    # greedy decoding is a sequence of near-ties.
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.dim() == 1:
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            elif name.endswith("embed_tokens.weight"):
                p.copy_(torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / math_sqrt(p.shape[-1]))
    return model


def math_sqrt(x):
    return float(x) ** 0.5


def round_weights(model, dtype):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(p.dtype))


def official_state_dict(model, cfg):
    """The per-expert layout of the official checkpoints."""
    out = {}
    inter = cfg["intermediate_size"]
    for name, t in model.state_dict().items():
        if "rotary_emb" in name or name.endswith(("slope_rate", "query_decay", "key_decay", "diagonal_decay")):
            continue
        if name.endswith("mlp.gate.weight"):
            out[name.replace("mlp.gate.weight", "block_sparse_moe.gate.weight")] = t
        elif name.endswith("mlp.experts.gate_up_proj"):
            prefix = name.replace("mlp.experts.gate_up_proj", "block_sparse_moe.experts.")
            for e in range(t.shape[0]):
                out[f"{prefix}{e}.w1.weight"] = t[e, :inter]
                out[f"{prefix}{e}.w3.weight"] = t[e, inter:]
        elif name.endswith("mlp.experts.down_proj"):
            prefix = name.replace("mlp.experts.down_proj", "block_sparse_moe.experts.")
            for e in range(t.shape[0]):
                out[f"{prefix}{e}.w2.weight"] = t[e]
        else:
            out[name] = t
    return out


def packed_state_dict(model):
    """transformers 5's own layout (mlp.gate, mlp.experts.gate_up_proj / down_proj)."""
    return {
        n: t
        for n, t in model.state_dict().items()
        if "rotary_emb" not in n
        and not n.endswith(("slope_rate", "query_decay", "key_decay", "diagonal_decay"))
    }


def save_weights(state, folder, dtype, shards):
    state = {n: t.detach().to(dtype).contiguous() for n, t in state.items()}
    if shards == 1:
        save_file(state, os.path.join(folder, "model.safetensors"))
        return
    names = sorted(state)
    weight_map = {}
    for s in range(shards):
        part = names[s::shards]
        fname = f"model-{s + 1:05d}-of-{shards:05d}.safetensors"
        save_file({n: state[n] for n in part}, os.path.join(folder, fname))
        weight_map.update({n: fname for n in part})
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": 0}, "weight_map": weight_map}, f, indent=1)


def greedy(model, prompt, steps):
    """Greedy continuation through transformers' cache path (the lightning
    recurrence and the KV cache), checking the margin at every step."""
    ids = torch.tensor([prompt])
    out = model.generate(ids, max_new_tokens=steps, do_sample=False, output_scores=True,
                         return_dict_in_generate=True, eos_token_id=None, pad_token_id=0)
    generated = out.sequences[0, len(prompt):].tolist()
    for step, scores in enumerate(out.scores):
        top2 = torch.topk(scores[0], 2).values
        margin = (top2[0] - top2[1]).item() / scores[0].abs().max().item()
        if margin < MIN_MARGIN:
            raise SystemExit(f"greedy step {step} of prompt {prompt[:4]}... has margin {margin:.2e}; "
                             "choose another seed")
    return generated


CASES = [
    {
        # transformers naming, float32, packed experts, GQA 4:2, attention width
        # 64 != hidden 32, partial rotary (8 of 16), residual alpha/beta != 1,
        # layer kinds not alternating, block 16 with a partial last block.
        "name": "hf-f32-packed",
        "naming": "hf",
        "dtype": torch.float32,
        "layout": "packed",
        "shards": 1,
        "config": dict(vocab_size=96, hidden_size=32, intermediate_size=24, num_hidden_layers=5,
                       num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                       num_local_experts=4, num_experts_per_tok=2, block_size=16,
                       layer_types=["linear_attention", "full_attention", "linear_attention",
                                    "linear_attention", "full_attention"],
                       rope_theta=10000.0, partial_rotary_factor=0.5, rms_norm_eps=1e-5,
                       alpha=(1.7, 0.9, 1.5, 0.8, 1.3, 1.1)),
        "prompt_len": 40,
        "seed": 1,
    },
    {
        # official naming, bfloat16, per-expert weights, 6 heads (not a power of
        # two: ALiBi slope interleaving), GQA 6:3, rotary 4 of 8, no block_size
        # (256) and a 300-token prompt: one full block and a partial one.
        "name": "official-bf16",
        "naming": "official",
        "dtype": torch.bfloat16,
        "layout": "official",
        "shards": 1,
        "config": dict(vocab_size=80, hidden_size=24, intermediate_size=16, num_hidden_layers=3,
                       num_attention_heads=6, num_key_value_heads=3, head_dim=8,
                       num_local_experts=3, num_experts_per_tok=2,
                       layer_types=["linear_attention", "full_attention", "linear_attention"],
                       rope_theta=1e7, partial_rotary_factor=0.5, rms_norm_eps=1e-5,
                       alpha=(3.5565588, 1.0, 3.5565588, 1.0, 3.5565588, 1.0)),
        "prompt_len": 300,
        "seed": 2,
    },
    {
        # transformers naming, float16, two shards, multi-query (2:1), full
        # rotary, tied embeddings, block 4.
        "name": "hf-f16-sharded-tied",
        "naming": "hf",
        "dtype": torch.float16,
        "layout": "packed",
        "shards": 2,
        "config": dict(vocab_size=64, hidden_size=16, intermediate_size=12, num_hidden_layers=2,
                       num_attention_heads=2, num_key_value_heads=1, head_dim=8,
                       num_local_experts=2, num_experts_per_tok=1, block_size=4,
                       layer_types=["full_attention", "linear_attention"],
                       rope_theta=10000.0, partial_rotary_factor=1.0, rms_norm_eps=1e-6,
                       tie_word_embeddings=True, alpha=(1.0, 1.0, 1.0, 1.0, 1.0, 1.0)),
        "prompt_len": 11,
        "seed": 3,
    },
]


def hf_config(spec):
    c = dict(spec["config"])
    la, lb, fa, fb, ma, mb = c.pop("alpha")
    theta, partial = c.pop("rope_theta"), c.pop("partial_rotary_factor")
    return MiniMaxConfig(**c, rope_parameters={"rope_type": "default", "rope_theta": theta,
                                               "partial_rotary_factor": partial},
                         linear_attn_alpha_factor=la, linear_attn_beta_factor=lb,
                         full_attn_alpha_factor=fa, full_attn_beta_factor=fb,
                         mlp_alpha_factor=ma, mlp_beta_factor=mb, eos_token_id=None,
                         bos_token_id=None, pad_token_id=None)


def config_json(spec):
    c = dict(spec["config"])
    la, lb, fa, fb, ma, mb = c.pop("alpha")
    theta, partial = c.pop("rope_theta"), c.pop("partial_rotary_factor")
    kinds = c.pop("layer_types")
    head_dim = c["head_dim"]
    if spec["naming"] == "official":
        out = dict(c, architectures=["MiniMaxText01ForCausalLM"], model_type="minimax_text_01",
                   attn_type_list=[1 if k == "full_attention" else 0 for k in kinds],
                   rope_theta=theta, rotary_dim=int(head_dim * partial), postnorm=True,
                   layernorm_linear_attention_alpha=la, layernorm_linear_attention_beta=lb,
                   layernorm_full_attention_alpha=fa, layernorm_full_attention_beta=fb,
                   layernorm_mlp_alpha=ma, layernorm_mlp_beta=mb, shared_intermediate_size=0,
                   hidden_act="silu", tie_word_embeddings=c.get("tie_word_embeddings", False))
        out.pop("block_size", None)
        return out
    return dict(c, architectures=["MiniMaxForCausalLM"], model_type="minimax", layer_types=kinds,
                rope_parameters={"rope_type": "default", "rope_theta": theta,
                                 "partial_rotary_factor": partial},
                linear_attn_alpha_factor=la, linear_attn_beta_factor=lb,
                full_attn_alpha_factor=fa, full_attn_beta_factor=fb,
                mlp_alpha_factor=ma, mlp_beta_factor=mb, hidden_act="silu",
                eos_token_id=None, bos_token_id=None)


def write_case(spec, root):
    folder = os.path.join(root, spec["name"])
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    cfg = spec["config"]
    model = make_model(hf_config(spec), spec["seed"])
    round_weights(model, spec["dtype"])  # the oracle sees exactly the stored weights
    state = official_state_dict(model, cfg) if spec["layout"] == "official" else packed_state_dict(model)
    if cfg.get("tie_word_embeddings"):
        state.pop("lm_head.weight", None)
    save_weights(state, folder, spec["dtype"], spec["shards"])
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config_json(spec), f, indent=1)

    model = minimax_oracle.to_float64(model).eval()
    gen = torch.Generator().manual_seed(100 + spec["seed"])
    prompt = torch.randint(0, cfg["vocab_size"], (spec["prompt_len"],), generator=gen).tolist()
    short = prompt[: max(3, spec["prompt_len"] // 3)]
    with torch.no_grad():
        logits = model(torch.tensor([prompt])).logits[0]
        steps = 12
        expected = {
            "prompt": prompt,
            "greedy": greedy(model, prompt, steps),
            "batch": [{"prompt": short, "greedy": greedy(model, short, steps)},
                      {"prompt": prompt, "greedy": greedy(model, prompt, steps)}],
            "greedy_steps": steps,
            "oracle": "transformers MiniMaxForCausalLM, float64, official MiniMax semantics "
                      "(scripts/oracle/minimax_oracle.py)",
        }
    np.save(os.path.join(folder, "logits.npy"), logits.numpy().astype(np.float32))
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f)
    print(f"{spec['name']}: {len(prompt)} tokens, logits {tuple(logits.shape)}, "
          f"greedy {expected['greedy']}")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(here, "..", "..", "test", "data", "minimax"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    minimax_oracle.spec_semantics()
    for spec in CASES:
        write_case(spec, args.out)


if __name__ == "__main__":
    main()
