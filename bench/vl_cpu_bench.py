#!/usr/bin/env python3
"""MiniMax-VL-01 on CPU: the vision tower's throughput and the image-to-first-token
latency, mmc's compiled host path against transformers on PyTorch (float32 eager),
same threads, same weights, on this machine.

    python3 bench/vl_cpu_bench.py [--vision-layers 24] [--threads 2] [--repeat 3]

The vision tower has the released dimensions (CLIP ViT-L/14 at 336 px: hidden 1024,
16 heads, MLP 4096) with --vision-layers layers. The projector and the language model
are small: the text side is not what this measures. The image is 640x480, which is
5 tiles (thumbnail + 2x2) and 2340 image tokens.

  * ViT throughput: `@vision` (tower + projector) on the 5 tiles.
    - mmc: `mm-run eval --backend cpu --repeat`, the compile not timed.
    - transformers: CLIPVisionModel + the projector, median of --repeat.
    Reported in tiles/s and GFLOP/s, as a fraction of the float32 FMA peak
    (cores x MHz x 2 FMA units x lanes x 2, from /proc/cpuinfo; the two-unit count
    is an assumption).
  * Image to first token: decode, preprocess, tower, pack and the language model's
    prefill of the expanded prompt.
    - mmc: `mm-run logits --backend cpu --vision-backend cpu` wall time, run twice, the
      second with the kernel cache warm. It still includes the per-call MLIR pipeline
      and link of both functions, which an AOT binary would not pay.
    - transformers: Pillow preprocessing (the released path), the tower, the projector,
      packing and MiniMaxForCausalLM, in one process, median of --repeat.
Needs torch, transformers and Pillow <= 12.1 (as the oracle scripts do).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts", "oracle"))
import make_vl_data as vl  # noqa: E402  (the oracle's model and processor code)
import make_minimax_data as text  # noqa: E402
from train_cpu_bench import peak_gflops  # noqa: E402  (the float32 FMA peak of this machine)

MM_RUN = os.path.join(ROOT, "build", "bin", "mm-run")


def vit_flops(v, tiles, text_hidden):
    t, d, f = v["image_size"] // v["patch_size"], v["hidden_size"], v["intermediate_size"]
    g2 = t * t
    tokens = g2 + 1
    per_layer = 2 * tokens * (4 * d * d + 2 * d * f) + 4 * tokens * tokens * d
    conv = 2 * g2 * d * 3 * v["patch_size"] ** 2
    projector = 2 * g2 * (d * text_hidden + text_hidden * text_hidden)
    return tiles * (v["num_hidden_layers"] * per_layer + conv + projector)


def build_folder(folder, layers):
    """The released vision dimensions on a small language model, released layout."""
    vl.TILE, vl.PATCH = 336, 14
    vl.PINPOINTS = vl.anyres_reference.released_pinpoints(336)
    vl.VISION = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=layers, num_attention_heads=16,
                     image_size=336, patch_size=14, hidden_act="gelu", layer_norm_eps=1e-5, projection_dim=768)
    vl.IMAGE_TOKEN = 1000
    spec = dict(vl.TEXT, config=dict(vl.TEXT["config"], vocab_size=1024, hidden_size=256, head_dim=64,
                                     num_attention_heads=4, num_key_value_heads=2, intermediate_size=256))
    lm = text.make_model(text.hf_config(spec), 1).float().eval()
    clip, proj, newline = vl.make_vision(2, spec["config"]["hidden_size"])
    clip = clip.float()
    proj = {k: v.float() for k, v in proj.items()}
    state = {"language_model." + k: v.float() for k, v in text.official_state_dict(lm, spec["config"]).items()}
    for k, v in clip.state_dict().items():
        if not k.startswith("post_layernorm") and not k.endswith("position_ids"):
            state["vision_tower.vision_model." + k] = v
    state.update({"multi_modal_projector." + k: v for k, v in proj.items()})
    state["image_newline"] = newline.float()
    from safetensors.torch import save_file
    os.makedirs(folder, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(folder, "model.safetensors"))
    tc = text.config_json(spec)
    config = {"model_type": "minimax_vl_01", "image_token_index": vl.IMAGE_TOKEN, "projector_hidden_act": "gelu",
              "vision_feature_layer": -1, "vision_feature_select_strategy": "default",
              "image_grid_pinpoints": vl.PINPOINTS, "vision_config": dict(vl.VISION, model_type="clip_vision_model"),
              "text_config": tc}
    json.dump(config, open(os.path.join(folder, "config.json"), "w"))
    return lm, clip, proj, newline.float()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vision-layers", type=int, default=24)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    peak, machine = peak_gflops()
    from PIL import Image
    import PIL
    print(f"# {machine}; threads {args.threads}; torch {torch.__version__}; Pillow {PIL.__version__}")
    with tempfile.TemporaryDirectory() as work:
        folder = os.path.join(work, "vl")
        lm, clip, proj, newline = build_folder(folder, args.vision_layers)
        rng = np.random.default_rng(0)
        image_path = os.path.join(work, "photo.png")
        Image.fromarray(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)).save(image_path)
        pixel_values, best = vl.preprocess(Image.open(image_path))
        tiles = len(pixel_values)
        px = os.path.join(work, "px.npy")
        np.save(px, pixel_values)
        flops = vit_flops(vl.VISION, tiles, 256)

        # ViT throughput.
        mlir = os.path.join(work, "vision.mlir")
        with open(mlir, "w") as f:
            f.write(subprocess.run([MM_RUN, "emit-ir", "--model", folder, "--vision"], check=True,
                                   capture_output=True, text=True).stdout)
        out = subprocess.run([MM_RUN, "eval", mlir, "--function", "vision", "--backend", "cpu", "--input", "@" + px,
                              "--params", os.path.join(folder, "model.safetensors"), "--output",
                              "@" + os.path.join(work, "f.npy"), "--repeat", str(args.repeat),
                              "--threads", str(args.threads)], check=True, capture_output=True, text=True).stdout
        ours_ms = float(re.search(r"median ([0-9.]+) ms", out).group(1))
        x = torch.from_numpy(pixel_values)

        def torch_vision():
            with torch.no_grad():
                h = clip(pixel_values=x, output_hidden_states=True).hidden_states[-1][:, 1:]
                h = torch.nn.functional.gelu(torch.nn.functional.linear(h, proj["linear_1.weight"], proj["linear_1.bias"]))
                return torch.nn.functional.linear(h, proj["linear_2.weight"], proj["linear_2.bias"])

        torch_vision()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            torch_vision()
            times.append((time.perf_counter() - t0) * 1e3)
        torch_ms = sorted(times)[len(times) // 2]
        print(f"\n## ViT (tower {args.vision_layers} x 1024, 577 tokens per tile) + projector, {tiles} tiles "
              f"({flops / 1e9:.0f} GFLOP)")
        print("| | ms | tiles/s | GFLOP/s | of FMA peak |")
        print("|---|---|---|---|---|")
        for name, ms in [("mmc compiled (cpu)", ours_ms), ("transformers eager f32", torch_ms)]:
            print(f"| {name} | {ms:.0f} | {tiles / ms * 1e3:.2f} | {flops / ms / 1e6:.0f} | "
                  f"{flops / ms / 1e6 / peak:.0%} |")
        print(f"mmc / transformers time: {ours_ms / torch_ms:.2f}x (peak {peak:.0f} GFLOP/s)")

        # Image to first token.
        ids = "5,1000,7,9"
        walls = []
        for _ in range(2):
            t0 = time.perf_counter()
            subprocess.run([MM_RUN, "logits", "--model", folder, "--ids", ids, "--image", image_path, "--backend", "cpu",
                            "--vision-backend", "cpu", "--threads", str(args.threads), "--out",
                            os.path.join(work, "l.npy")], check=True, capture_output=True)
            walls.append(time.perf_counter() - t0)

        def torch_first_token():
            with torch.no_grad():
                pv, bst = vl.preprocess(Image.open(image_path))
                x = torch.from_numpy(pv)
                h = clip(pixel_values=x, output_hidden_states=True).hidden_states[-1][:, 1:]
                h = torch.nn.functional.gelu(torch.nn.functional.linear(h, proj["linear_1.weight"], proj["linear_1.bias"]))
                h = torch.nn.functional.linear(h, proj["linear_2.weight"], proj["linear_2.bias"])
                feats = vl.pack(h.double(), (640, 480), bst, newline.double()).float()
                prompt = [5] + [vl.IMAGE_TOKEN] * len(feats) + [7, 9]
                emb = lm.model.embed_tokens(torch.tensor(prompt))
                emb[torch.tensor(prompt) == vl.IMAGE_TOKEN] = feats
                return lm(inputs_embeds=emb[None]).logits[0, -1].argmax()

        torch_first_token()
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            torch_first_token()
            times.append(time.perf_counter() - t0)
        torch_s = sorted(times)[len(times) // 2]
        print(f"\n## Image to first token, 640x480 PNG, {tiles} tiles, {2340 + 3} prompt tokens")
        print("| | s |")
        print("|---|---|")
        print(f"| mmc `mm-run logits --backend cpu`, cold kernel cache | {walls[0]:.2f} |")
        print(f"| mmc, warm kernel cache (includes the per-call pipeline + link) | {walls[1]:.2f} |")
        print(f"| transformers eager f32, in process | {torch_s:.2f} |")


if __name__ == "__main__":
    main()
