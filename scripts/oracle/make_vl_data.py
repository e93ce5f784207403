#!/usr/bin/env python3
"""Writes a tiny MiniMax-VL-01 checkpoint in the released layout and float64
oracle outputs for images of several aspect ratios (test/data/vl/tiny/).

The oracle is transformers' CLIPVisionModel (the vision tower), a projector
and the official pack_image_features written from spec/minimax-vl-01.md, and
transformers' MiniMaxForCausalLM with the official semantics
(minimax_oracle.py) for the language model, all in float64. The image
processor is the released anyres path on Pillow, which must resize with the
horizontal pass first: Pillow <= 12.1.

    PYTHONPATH=/path/to/pillow-12.1 python3 scripts/oracle/make_vl_data.py

Writes config.json, preprocessor_config.json, model.safetensors, the PNGs,
and per case: expected logits of every position of the expanded prompt, the
prompt ids before and after expansion, and for the first image its
pixel_values, the tower's hidden states and the packed features.
"""
import argparse
import json
import math
import os
import shutil

import numpy as np
import PIL
import torch
from PIL import Image
from safetensors.torch import save_file
from transformers import CLIPVisionConfig, CLIPVisionModel

import anyres_reference
import make_minimax_data as text
import minimax_oracle

TILE, PATCH = 56, 14
IMAGE_TOKEN = 95
PINPOINTS = anyres_reference.released_pinpoints(TILE)

TEXT = {
    # official naming, float32, 3 layers with a softmax layer in the middle,
    # GQA 4:2, partial rotary 8 of 16, residual alpha != 1, block 256 (absent).
    "name": "vl-text", "naming": "official", "dtype": torch.float32, "layout": "official", "shards": 1,
    "config": dict(vocab_size=96, hidden_size=32, intermediate_size=24, num_hidden_layers=3,
                   num_attention_heads=4, num_key_value_heads=2, head_dim=16, num_local_experts=3,
                   num_experts_per_tok=2,
                   layer_types=["linear_attention", "full_attention", "linear_attention"],
                   rope_theta=10000.0, partial_rotary_factor=0.5, rms_norm_eps=1e-5,
                   alpha=(1.7, 1.0, 1.5, 1.0, 1.3, 1.0)),
    "seed": 11,
}
VISION = dict(hidden_size=24, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              image_size=TILE, patch_size=PATCH, hidden_act="gelu", layer_norm_eps=1e-5,
              projection_dim=24)
# (name, width, height): square, 4:3, tall, very wide, and one smaller than a tile.
IMAGES = [("square", 56, 56), ("landscape", 100, 75), ("portrait", 60, 150), ("wide", 230, 40),
          ("small", 13, 17)]
# Each case: prompt ids with one IMAGE_TOKEN per image, and its images in order.
CASES = [
    {"name": "square", "ids": [3, 17, IMAGE_TOKEN, 40, 5, 9], "images": ["square"]},
    {"name": "landscape", "ids": [8, IMAGE_TOKEN, 22, 61], "images": ["landscape"]},
    {"name": "portrait", "ids": [IMAGE_TOKEN, 30, 31], "images": ["portrait"]},
    {"name": "wide", "ids": [4, 4, IMAGE_TOKEN, 77], "images": ["wide"]},
    {"name": "two-images", "ids": [2, IMAGE_TOKEN, 7, IMAGE_TOKEN, 11], "images": ["small", "landscape"]},
]


def preprocess(image):
    """The released anyres processor (anyres_reference.py): thumbnail + row-major tiles, normalised."""
    _, pixel_values, best = anyres_reference.preprocess(image, TILE, PINPOINTS)
    return pixel_values, best


def pack(features, image_size, best, newline):
    """pack_image_features of the official modeling code, for one image."""
    w, h = image_size
    g = TILE // PATCH
    base, rest = features[0], features[1:]
    rows, cols = best[1] // TILE, best[0] // TILE
    x = rest.view(rows, cols, g, g, -1).permute(4, 0, 2, 1, 3).flatten(1, 2).flatten(2, 3)
    Hc, Wc = x.shape[1], x.shape[2]
    if w / h > Wc / Hc:
        pad = (Hc - (h * Wc) // w) // 2
        x = x[:, pad:Hc - pad, :]
    else:
        pad = (Wc - (w * Hc) // h) // 2
        x = x[:, :, pad:Wc - pad]
    x = torch.cat([x, newline[:, None, None].expand(x.shape[0], x.shape[1], 1)], dim=-1)
    return torch.cat([base, x.flatten(1, 2).transpose(0, 1)], dim=0)


def make_vision(seed, text_hidden):
    torch.manual_seed(seed)
    clip = CLIPVisionModel(CLIPVisionConfig(**VISION)).double().eval()
    with torch.no_grad():
        for name, p in clip.named_parameters():
            if name.endswith("norm1.weight") or name.endswith("norm2.weight") or "layrnorm.weight" in name:
                p.copy_(1.0 + 0.1 * torch.randn_like(p))
            elif p.dim() == 1:
                p.copy_(0.1 * torch.randn_like(p) if "class_embedding" not in name else torch.randn_like(p))
            elif "position_embedding" in name:
                p.copy_(0.5 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / math.sqrt(p[0].numel()))
    d = VISION["hidden_size"]
    proj = {
        "linear_1.weight": torch.randn(text_hidden, d, dtype=torch.float64) / math.sqrt(d),
        "linear_1.bias": 0.1 * torch.randn(text_hidden, dtype=torch.float64),
        "linear_2.weight": torch.randn(text_hidden, text_hidden, dtype=torch.float64) / math.sqrt(text_hidden),
        "linear_2.bias": 0.1 * torch.randn(text_hidden, dtype=torch.float64),
    }
    newline = torch.randn(text_hidden, dtype=torch.float64)
    # Stored as float32: the oracle computes with exactly the stored values.
    for k in proj:
        proj[k] = proj[k].float().double()
    newline = newline.float().double()
    with torch.no_grad():
        for p in clip.parameters():
            p.copy_(p.float().double())
    return clip, proj, newline


def image_features(clip, proj, pixel_values):
    """Tower hidden states (last layer, CLS included) and projected features (CLS dropped)."""
    with torch.no_grad():
        hidden = clip(pixel_values=torch.from_numpy(pixel_values).double(), output_hidden_states=True).hidden_states[-1]
        x = hidden[:, 1:]
        x = torch.nn.functional.linear(x, proj["linear_1.weight"], proj["linear_1.bias"])
        x = torch.nn.functional.gelu(x)
        x = torch.nn.functional.linear(x, proj["linear_2.weight"], proj["linear_2.bias"])
    return hidden, x


GREEDY_STEPS = 8


def greedy(lm, embeds, steps):
    """Greedy continuation by full recomputation, the image token banned (only
    prompts hold it), each step's winner clear of the runner-up by 1e-3 of the
    logit scale so a float32 implementation cannot flip it."""
    out = []
    with torch.no_grad():
        for _ in range(steps):
            row = lm(inputs_embeds=embeds[None]).logits[0, -1].clone()
            row[IMAGE_TOKEN] = -float("inf")
            top2 = torch.topk(row, 2).values
            if (top2[0] - top2[1]).item() / row[torch.isfinite(row)].abs().max().item() < 1e-3:
                raise SystemExit("a greedy step is a near-tie; choose another seed")
            token = int(row.argmax())
            out.append(token)
            embeds = torch.cat([embeds, lm.model.embed_tokens(torch.tensor([token]))])
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=os.path.join(here, "..", "..", "test", "data", "vl", "tiny"))
    args = parser.parse_args()
    major, minor = (int(x) for x in PIL.__version__.split(".")[:2])
    if (major, minor) >= (12, 2):
        raise SystemExit(f"Pillow {PIL.__version__} may resize vertically first; run with Pillow <= 12.1")
    torch.set_num_threads(1)
    minimax_oracle.spec_semantics()
    folder = args.out
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)

    lm = text.make_model(text.hf_config(TEXT), TEXT["seed"])
    text.round_weights(lm, torch.float32)
    clip, proj, newline = make_vision(TEXT["seed"] + 1, TEXT["config"]["hidden_size"])

    state = {"language_model." + k: v for k, v in text.official_state_dict(lm, TEXT["config"]).items()}
    # transformers 5 flattens CLIPVisionModel (no .vision_model); the released
    # checkpoint nests the same tensors under vision_tower.vision_model.
    for k, v in clip.state_dict().items():
        if k.startswith("post_layernorm") or k.endswith("position_ids"):
            continue  # the released checkpoint has no post_layernorm
        state["vision_tower.vision_model." + k] = v.float()
    for k, v in proj.items():
        state["multi_modal_projector." + k] = v.float()
    state["image_newline"] = newline.float()
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(folder, "model.safetensors"),
              metadata={"format": "pt"})

    text_config = text.config_json(TEXT)
    text_config["shared_intermediate_size"] = [0]  # as the released text_config writes it
    config = {
        "architectures": ["MiniMaxVL01ForConditionalGeneration"], "model_type": "minimax_vl_01",
        "image_token_index": IMAGE_TOKEN, "projector_hidden_act": "gelu", "vision_feature_layer": -1,
        "vision_feature_select_strategy": "default", "image_grid_pinpoints": PINPOINTS,
        "vision_config": dict(VISION, model_type="clip_vision_model"), "text_config": text_config,
    }
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(config, f, indent=1)
    with open(os.path.join(folder, "preprocessor_config.json"), "w") as f:
        json.dump({"image_mean": anyres_reference.MEAN.tolist(), "image_std": anyres_reference.STD.tolist(), "process_image_mode": "anyres",
                   "patch_size": PATCH, "size": [TILE, TILE], "image_grid_pinpoints": PINPOINTS}, f, indent=1)

    lm = minimax_oracle.to_float64(lm).eval()
    rng = np.random.default_rng(5)
    packed = {}
    for name, w, h in IMAGES:
        # Smooth colour fields plus noise: natural-ish statistics, every level used.
        y, x = np.mgrid[0:h, 0:w]
        base = np.stack([128 + 100 * np.sin(x / 7 + c) * np.cos(y / 9 - c) for c in range(3)], axis=-1)
        pixels = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
        path = os.path.join(folder, f"{name}.png")
        Image.fromarray(pixels, "RGB").save(path)
        pixel_values, best = preprocess(Image.open(path))
        hidden, feats = image_features(clip, proj, pixel_values)
        packed[name] = pack(feats, (w, h), best, newline)
        if name == "landscape":
            np.save(os.path.join(folder, "landscape-pixel_values.npy"), pixel_values)
            np.save(os.path.join(folder, "landscape-tower.npy"), hidden.numpy().astype(np.float32))
        print(f"{name}: {w}x{h}, grid {best}, {len(pixel_values)} tiles, {len(packed[name])} tokens")

    expected = {"oracle": "transformers CLIPVisionModel + MiniMaxForCausalLM (official semantics), float64; "
                          "released anyres preprocessing on Pillow " + PIL.__version__,
                "image_token_index": IMAGE_TOKEN, "cases": []}
    for case in CASES:
        ids, rows, images = [], [], iter(case["images"])
        for t in case["ids"]:
            if t == IMAGE_TOKEN:
                feats = packed[next(images)]
                ids += [IMAGE_TOKEN] * len(feats)
                rows.append(feats)
            else:
                ids.append(t)
        with torch.no_grad():
            embeds = lm.model.embed_tokens(torch.tensor(ids))
            embeds[torch.tensor(ids) == IMAGE_TOKEN] = torch.cat(rows)
            logits = lm(inputs_embeds=embeds[None]).logits[0]
        np.save(os.path.join(folder, f"{case['name']}-logits.npy"), logits.numpy().astype(np.float32))
        expected["cases"].append({"name": case["name"], "ids": case["ids"], "images": case["images"],
                                  "expanded_length": len(ids), "greedy": greedy(lm, embeds, GREEDY_STEPS)})
        print(f"case {case['name']}: {len(case['ids'])} ids -> {len(ids)} tokens")
    with open(os.path.join(folder, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
