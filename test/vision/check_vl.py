#!/usr/bin/env python3
"""MiniMax-VL-01 end to end against the float64 oracle (test/data/vl/tiny,
written by scripts/oracle/make_vl_data.py from transformers' CLIP vision model
and MiniMaxForCausalLM with the official semantics).

  1. `mm-run logits --image` for every case (square, landscape, portrait, very
     wide, two images in one prompt): the expanded prompt's logits match the
     oracle's, on the reference executor (float32 and float64) and compiled
     for the host (the vision tower, then the language model too), and from
     the same weights saved under transformers' names;
  2. the vision tower alone (`emit-ir --vision`, then `eval @vision_tower`)
     matches CLIP's hidden states on both backends;
  3. greedy `generate --image` equals the oracle's continuation for every
     case, alone and in one batch that mixes in a text-only prompt;
     a prompt that already holds every image token is filled in place;
  4. bad input is refused with the file or count named: an image for a
     text-only model, placeholders that match no image count, a corrupt image,
     a missing image, and an image too elongated to tile.

Tolerances: float32 logits within 1e-4 of the logit scale (the project's bar;
the float32 error measured is ~1e-6), float64 within 1e-6 (the oracle logits
are stored as float32, and the text oracle test uses the same bound).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

MM_RUN = sys.argv[1]
DATA = sys.argv[2]
TEXT_MODEL = sys.argv[3]
failures = []


def check(cond, message):
    print(("ok   " if cond else "FAIL ") + message)
    if not cond:
        failures.append(message)


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def run(args, expect_ok=True):
    p = subprocess.run([MM_RUN] + args, capture_output=True, text=True)
    if expect_ok and p.returncode != 0:
        failures.append(" ".join(args) + ": " + p.stderr.strip())
        print("FAIL", p.stderr.strip())
    return p


def transformers_copy(src, dst):
    """The tiny model re-saved under transformers' names (model.language_model.*,
    model.vision_tower.*, model.multi_modal_projector.*, model.image_newline,
    lm_head.weight): the same bytes, a renamed safetensors header."""
    os.makedirs(dst)
    for name in ["config.json", "preprocessor_config.json"]:
        with open(os.path.join(src, name)) as f, open(os.path.join(dst, name), "w") as g:
            g.write(f.read())
    blob = open(os.path.join(src, "model.safetensors"), "rb").read()
    n = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + n])
    renamed = {}
    for key, value in header.items():
        if key == "language_model.lm_head.weight":
            key = "lm_head.weight"
        elif key.startswith("language_model.model."):
            key = "model.language_model." + key[len("language_model.model."):]
        elif key != "__metadata__":
            key = "model." + key
        renamed[key] = value
    text = json.dumps(renamed).encode()
    text += b" " * (-len(text) % 8)
    with open(os.path.join(dst, "model.safetensors"), "wb") as f:
        f.write(len(text).to_bytes(8, "little") + text + blob[8 + n:])
    return dst


def main():
    expected = json.load(open(os.path.join(DATA, "expected.json")))
    token = expected["image_token_index"]
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "logits.npy")
        transformers_layout = transformers_copy(DATA, os.path.join(work, "transformers-layout"))
        for case in expected["cases"]:
            ids = ",".join(map(str, case["ids"]))
            images = sum((["--image", os.path.join(DATA, f"{n}.png")] for n in case["images"]), [])
            ref = np.load(os.path.join(DATA, f"{case['name']}-logits.npy"))
            for text, vision, precision, bound in [
                    ("reference", "reference", "f32", 1e-4), ("reference", "reference", "f64", 1e-6),
                    ("reference", "cpu", "f32", 1e-4), ("cpu", "cpu", "f32", 1e-4)]:
                for model in [DATA, transformers_layout]:
                    if model != DATA and (text, precision) != ("reference", "f32"):
                        continue
                    if run(["logits", "--model", model, "--ids", ids, "--out", out, "--precision", precision,
                            "--backend", text, "--vision-backend", vision] + images).returncode:
                        continue
                    got = np.load(out)
                    layout = "" if model == DATA else ", transformers layout"
                    check(got.shape == ref.shape and rel(got, ref) < bound,
                          f"{case['name']}: {text} text, {vision} vision, {precision}{layout}: logits "
                          f"{got.shape}, error {rel(got, ref):.1e} (bound {bound:.0e})")

        # Greedy generation through the KV cache and lightning state: each case
        # alone, then all of them in one batch with a text-only prompt mixed in.
        steps = len(expected["cases"][0]["greedy"])
        batch_args, batch_images = [], []
        for case in expected["cases"]:
            ids = ",".join(map(str, case["ids"]))
            images = sum((["--image", os.path.join(DATA, f"{n}.png")] for n in case["images"]), [])
            p = run(["generate", "--model", DATA, "--ids", ids, "--greedy", "--max-new-tokens", str(steps),
                     "--json"] + images)
            got = json.loads(p.stdout.splitlines()[-1])["ids"] if p.returncode == 0 else None
            check(got == case["greedy"], f"{case['name']}: greedy {got} (oracle {case['greedy']})")
            batch_args += ["--ids", ids]
            batch_images += images
        solo = run(["generate", "--model", DATA, "--ids", "1,2,3", "--greedy", "--max-new-tokens", str(steps),
                    "--json"])
        solo_ids = json.loads(solo.stdout.splitlines()[-1])["ids"] if solo.returncode == 0 else None
        want = [c["greedy"] for c in expected["cases"][:2]] + [solo_ids] + [c["greedy"] for c in expected["cases"][2:]]
        for backend in ["reference", "cpu"]:
            p = run(["generate", "--model", DATA, "--greedy", "--max-new-tokens", str(steps), "--json",
                     "--backend", backend, "--vision-backend", "cpu"]
                    + batch_args[:4] + ["--ids", "1,2,3"] + batch_args[4:] + batch_images)
            got = json.loads(p.stdout.splitlines()[-1])["ids"] if p.returncode == 0 else []
            check(got == want, f"{backend}: a batch of {len(want)} prompts, one text-only, continues each "
                               f"as alone: {got}")

        # The prompt may hold every image token already: filled in place.
        case = expected["cases"][0]
        full = []
        for t in case["ids"]:
            full += [t] * (case["expanded_length"] - len(case["ids"]) + 1) if t == token else [t]
        run(["logits", "--model", DATA, "--ids", ",".join(map(str, full)), "--out", out,
             "--image", os.path.join(DATA, case["images"][0] + ".png")])
        ref = np.load(os.path.join(DATA, f"{case['name']}-logits.npy"))
        check(rel(np.load(out), ref) < 1e-4, "a prompt holding every image token is filled in place")

        # The tower alone against CLIP's hidden states, and the packed features.
        mlir = os.path.join(work, "vision.mlir")
        with open(mlir, "w") as f:
            f.write(run(["emit-ir", "--model", DATA, "--vision"]).stdout)
        tower = np.load(os.path.join(DATA, "landscape-tower.npy"))
        for backend in ["reference", "cpu"]:
            got_path = os.path.join(work, f"tower-{backend}.npy")
            run(["eval", mlir, "--function", "vision_tower", "--backend", backend,
                 "--input", "@" + os.path.join(DATA, "landscape-pixel_values.npy"),
                 "--params", os.path.join(DATA, "model.safetensors"), "--output", "@" + got_path])
            got = np.load(got_path)
            check(got.shape == tower.shape and rel(got, tower) < 1e-5,
                  f"vision tower on {backend} vs CLIP: {got.shape}, error {rel(got, tower):.1e}")

        # Refusals: the message names what is wrong.
        bad = os.path.join(work, "corrupt.png")
        with open(os.path.join(DATA, "square.png"), "rb") as f:
            blob = f.read()
        with open(bad, "wb") as f:
            f.write(blob[: len(blob) // 2])
        wide = os.path.join(work, "wide.png")
        # A valid 20000 x 1 PNG written by hand (no Pillow needed): too thin to tile.
        import struct, zlib
        raw = b"\x00" + bytes(20000 * 3)
        def chunk(kind, data):
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        with open(wide, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 1, 8, 2, 0, 0, 0))
                    + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
        square = os.path.join(DATA, "square.png")
        refusals = [
            (["--model", TEXT_MODEL, "--ids", "1,2", "--image", square], "text-only"),
            (["--model", DATA, "--ids", f"1,{token},{token},2", "--image", square], "give one per image"),
            (["--model", DATA, "--ids", f"1,{token},2"], "give one per image"),
            (["--model", DATA, "--ids", f"1,{token},2", "--image", bad], "corrupt.png"),
            (["--model", DATA, "--ids", f"1,{token},2", "--image", os.path.join(work, "none.png")], "none.png"),
            (["--model", DATA, "--ids", f"1,{token},2", "--image", wide], "too elongated"),
            (["--model", DATA, "--ids", f"1,{token},2", "--image", square, "--precision", "f64",
              "--vision-backend", "cpu"], "computes in f32"),
        ]
        for args, needle in refusals:
            p = run(["logits", "--out", out] + args, expect_ok=False)
            check(p.returncode != 0 and needle in p.stderr and "error" in p.stderr,
                  f"refused ({needle}): {p.stderr.strip()[:150]}")
        p = run(["generate", "--model", DATA, "--ids", f"3,{token},4", "--ids", f"8,{token}", "--image", square,
                 "--max-new-tokens", "2"], expect_ok=False)
        check(p.returncode != 0 and "hold 2 image token(s)" in p.stderr,
              f"refused (a batch short of images): {p.stderr.strip()[:150]}")
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("all VL checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
