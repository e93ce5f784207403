#!/usr/bin/env python3
"""mmc's image input against Pillow, pixel for pixel.

MiniMax-VL-01's outputs depend on every pixel of the preprocessed tiles, so
the decoders, the BICUBIC resize and the anyres tiling must equal what the
released processor computes with Pillow <= 12. This script checks:
  1. decode: PNG (every colour type Pillow writes) and JPEG (4:2:0, 4:4:4,
     gray, progressive) equal Image.open(f).convert("RGB");
  2. resize: hundreds of random sizes, up and down, equal the installed
     Pillow's Image.resize(size, BICUBIC) exactly;
  3. the same resize equals digests recorded from Pillow 12.1 (so a machine
     with another Pillow still checks against 12.1, the newest that always
     runs the horizontal pass first; 12.2 and later sometimes go vertical
     first and differ by a level or two);
  4. anyres: tiles and pixel_values for images of many aspect ratios equal
     the processor as spec/minimax-vl-01.md gives it, written with Pillow;
  5. token layout: thousands of sizes give the released formula's count;
  6. refusals: truncated, empty, unsupported and too-elongated images.
Inputs come from SplitMix64, not numpy's RNG, so they are the same on every
numpy version. --record rewrites the Pillow 12.1 digests (needs Pillow 12.1).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

try:
    import PIL
    from PIL import Image
except ImportError:
    sys.exit("check_pillow.py: Pillow is missing (scripts/setup.sh installs python3-pil)")

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "oracle"))
import anyres_reference as anyres  # noqa: E402

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
failures = []


def splitmix(seed, count):
    """count uint64 draws of SplitMix64 started at seed."""
    with np.errstate(over="ignore"):
        z = np.uint64(seed) + GOLDEN * np.arange(1, count + 1, dtype=np.uint64)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def test_image(seed, width, height):
    """Noise for even seeds (clamping everywhere), a noisy gradient for odd ones."""
    raw = splitmix(seed, (width * height * 3 + 7) // 8).view(np.uint8)[: width * height * 3]
    pixels = raw.reshape(height, width, 3)
    if seed % 2:
        y, x = np.mgrid[0:height, 0:width]
        base = (x * 255 // max(width - 1, 1) + y * 128 // max(height - 1, 1))[..., None] + np.array([0, 60, 120])
        pixels = ((base + (pixels.astype(np.int64) % 17) - 8) % 256).astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(pixels), "RGB")


def check(cond, message):
    if not cond:
        failures.append(message)
        print("FAIL", message)


class Probe:
    """Batches commands through one mm-image-probe process."""

    def __init__(self, binary, work):
        self.binary, self.work, self.lines = binary, work, []

    def add(self, line):
        self.lines.append(line)
        return len(self.lines) - 1

    def run(self):
        path = os.path.join(self.work, "commands.txt")
        with open(path, "w") as f:
            f.write("\n".join(self.lines) + "\n")
        out = subprocess.run([self.binary, path], check=True, capture_output=True, text=True).stdout
        answers = [json.loads(line) for line in out.splitlines()]
        assert len(answers) == len(self.lines), (len(answers), len(self.lines))
        self.lines = []
        return answers


def read_u8(path, shape):
    return np.fromfile(path, dtype=np.uint8).reshape(shape)


def resize_cases(seed, count):
    draws = splitmix(seed, 4 * count).reshape(count, 4)
    cases = []
    for i, (a, b, c, d) in enumerate(draws):
        w, h = 1 + int(a) % 96, 1 + int(b) % 96
        cases.append((seed * 100000 + i, w, h, 1 + int(c) % 160, 1 + int(d) % 160))
    # Shapes the processor meets: big downscales, 1-pixel sides, identity.
    cases += [(7, 500, 375, 336, 336), (8, 1000, 20, 37, 5), (9, 3, 3, 336, 336),
              (10, 1, 50, 20, 1), (11, 64, 48, 64, 48), (12, 700, 9, 672, 8),
              (13, 336, 1000, 336, 336), (14, 2, 700, 1, 300)]
    return cases


def resize_digest(probe, work, cases):
    """Runs each case through the probe; returns the outputs' SHA-256 and Pillow's output."""
    index = []
    for k, (seed, w, h, tw, th) in enumerate(cases):
        src = os.path.join(work, f"r{k}.png")
        test_image(seed, w, h).save(src)
        index.append(probe.add(f"resize {src} {tw} {th} {os.path.join(work, f'r{k}.raw')}"))
    answers = probe.run()
    digests = []
    for k, (seed, w, h, tw, th) in enumerate(cases):
        ans = answers[index[k]]
        if "error" in ans:
            digests.append("error: " + ans["error"])
            continue
        ours = read_u8(os.path.join(work, f"r{k}.raw"), (th, tw, 3))
        digests.append(hashlib.sha256(ours.tobytes()).hexdigest())
    return digests


def check_decode(probe, work):
    base = test_image(3, 37, 23)
    variants = {
        "rgb.png": (base, {}), "gray.png": (base.convert("L"), {}),
        "gray-alpha.png": (base.convert("LA"), {}), "rgba.png": (base.convert("RGBA"), {}),
        "palette.png": (base.convert("P", palette=Image.Palette.ADAPTIVE, colors=50), {}),
        "bilevel.png": (base.convert("1"), {}),
        "gray16.png": (Image.frombytes("I;16", (37, 23), (np.arange(37 * 23, dtype="<u2") * 3).tobytes()), {}),
        "q90.jpg": (base, {"quality": 90}), "q75-444.jpg": (base, {"quality": 75, "subsampling": 0}),
        "gray.jpg": (base.convert("L"), {"quality": 85}),
        "progressive.jpg": (base, {"quality": 80, "progressive": True}),
    }
    palette_t = base.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    palette_t.info["transparency"] = 3
    variants["palette-transparent.png"] = (palette_t, {"transparency": 3})
    rgba = np.asarray(base.convert("RGBA")).copy()
    rgba[..., 3] = np.arange(37)[None, :] * 7  # alpha must be dropped, not composited
    variants["alpha-ramp.png"] = (Image.fromarray(rgba, "RGBA"), {})
    index = {}
    for name, (image, options) in variants.items():
        path = os.path.join(work, name)
        image.save(path, **options)
        index[name] = probe.add(f"decode {path} {path}.raw")
    answers = probe.run()
    for name in variants:
        ans = answers[index[name]]
        path = os.path.join(work, name)
        want = np.asarray(Image.open(path).convert("RGB"))
        if "error" in ans:
            check(False, f"decode {name}: {ans['error']}")
            continue
        ours = read_u8(path + ".raw", (ans["height"], ans["width"], 3))
        diff = int(np.abs(ours.astype(int) - want.astype(int)).max()) if ours.shape == want.shape else -1
        check(diff == 0, f"decode {name}: max difference {diff} against Pillow")
    print(f"decode: {len(variants)} PNG/JPEG variants equal Image.open().convert('RGB')")


PINPOINTS = anyres.released_pinpoints(336)


def reference_anyres(image, tile=336):
    """The released processor's anyres path (scripts/oracle/anyres_reference.py)."""
    u8, pixels, _ = anyres.preprocess(image, tile, PINPOINTS)
    return u8, pixels


def released_tokens(w, h, patch=14, tile=336):
    W, H = anyres.select_best(w, h, PINPOINTS)
    g = tile // patch
    rows, cols = (H // tile) * g, (W // tile) * g
    if w / h > cols / rows:
        kept = (h * cols) // w
        rows -= 2 * ((rows - kept) // 2)
    else:
        kept = (w * rows) // h
        cols -= 2 * ((cols - kept) // 2)
    return (336 // patch) ** 2 + rows * (cols + 1)


def check_anyres(probe, work):
    sizes = [(336, 336), (640, 480), (480, 640), (1024, 768), (37, 1000), (1000, 37), (700, 336),
             (13, 9), (1920, 1080), (1, 1), (673, 671), (2100, 300)]
    index = []
    for k, (w, h) in enumerate(sizes):
        path = os.path.join(work, f"a{k}.png")
        test_image(50 + k, w, h).save(path)
        index.append(probe.add(f"anyres {path} {path}.u8 {path}.f32"))
    answers = probe.run()
    for k, (w, h) in enumerate(sizes):
        ans = answers[index[k]]
        path = os.path.join(work, f"a{k}.png")
        u8, pixels = reference_anyres(Image.open(path))
        if "error" in ans:
            check(False, f"anyres {w}x{h}: {ans['error']}")
            continue
        check(ans["tiles"] == len(u8), f"anyres {w}x{h}: {ans['tiles']} tiles, Pillow path {len(u8)}")
        ours = read_u8(path + ".u8", (ans["tiles"], 336, 336, 3))
        check(ours.shape == u8.shape and np.array_equal(ours, u8),
              f"anyres {w}x{h}: tiles differ from the Pillow processor")
        ours_f = np.fromfile(path + ".f32", dtype=np.float32).reshape(pixels.shape)
        err = float(np.abs(ours_f - pixels).max())
        # Same float32 operations in the same order: equal, up to one ulp (2.4e-7 near 2).
        check(err <= 5e-7, f"anyres {w}x{h}: pixel_values differ by {err}")
        check(ans["tokens"] == released_tokens(w, h), f"anyres {w}x{h}: {ans['tokens']} tokens")
    print(f"anyres: {len(sizes)} images, tiles bit-exact and pixel_values equal to the Pillow processor")


def check_layout(probe):
    draws = splitmix(77, 3000).reshape(1500, 2)
    sizes = [(1 + int(a) % 4000, 1 + int(b) % 4000) for a, b in draws]
    sizes += [(1 + int(a) % 60, 1 + int(b) % 3000) for a, b in draws[:300]]  # thin ones
    sizes += [(1, 2000), (2000, 1), (1, 5000), (5000, 1), (2, 7000), (100000, 3)]  # the last four too thin
    index = [probe.add(f"layout {w} {h}") for w, h in sizes]
    answers = probe.run()
    refused = 0
    for (w, h), i in zip(sizes, index):
        ans = answers[i]
        W, H = anyres.select_best(w, h, PINPOINTS)
        degenerate = (int(W * h / w) if w / h > W / H else int(H * w / h)) < 1
        if "error" in ans:
            refused += 1
            check(degenerate, f"layout {w}x{h} refused: {ans['error']}")
            check("too elongated" in ans["error"], f"layout {w}x{h}: {ans['error']}")
            continue
        check(ans["tokens"] == released_tokens(w, h), f"layout {w}x{h}: {ans['tokens']} != {released_tokens(w, h)}")
        check(ans["best"] == [W, H], f"layout {w}x{h}: best {ans['best']} != {[W, H]}")
    check(refused >= 4, f"layout: only {refused} too-thin sizes refused")
    print(f"layout: {len(sizes)} sizes give the released token count ({refused} too elongated, refused)")


def check_refusals(probe, work):
    good = os.path.join(work, "good.png")
    test_image(5, 40, 30).save(good)
    data = open(good, "rb").read()
    cases = {"truncated.png": data[: len(data) // 2], "empty.png": b"", "fake.gif": b"GIF89a\x01\x00\x01\x00",
             "garbage.jpg": b"\xff\xd8\xff" + bytes(200)}
    index = {}
    for name, blob in cases.items():
        with open(os.path.join(work, name), "wb") as f:
            f.write(blob)
        index[name] = probe.add(f"decode {os.path.join(work, name)} {os.path.join(work, name)}.raw")
    wide = os.path.join(work, "wide.png")
    Image.new("RGB", (100000, 1)).save(wide)
    index["wide.png"] = probe.add(f"anyres {wide} {wide}.u8 {wide}.f32")
    answers = probe.run()
    for name, i in index.items():
        err = answers[i].get("error", "")
        check(name in err, f"{name}: expected an error naming the file, got {answers[i]}")
    print(f"refusals: {len(index)} bad images refused with their file named")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--probe", required=True)
    parser.add_argument("--digests", required=True)
    parser.add_argument("--record", action="store_true", help="rewrite --digests from this Pillow (12.x)")
    args = parser.parse_args()
    print(f"Pillow {PIL.__version__}")
    major, minor = (int(x) for x in PIL.__version__.split(".")[:2])
    if (major, minor) >= (12, 2):
        sys.exit(f"check_pillow.py: Pillow {PIL.__version__} may resize vertically first (since 12.2); "
                 "the released processor ran on an earlier Pillow. Run it with Debian's python3-pil.")
    with tempfile.TemporaryDirectory() as work:
        probe = Probe(args.probe, work)
        if args.record:
            if (major, minor) != (12, 1):
                sys.exit("--record needs Pillow 12.1 (the last with the horizontal pass always first)")
            cases = resize_cases(2024, 200)
            digests = [hashlib.sha256(np.asarray(test_image(s, w, h).resize((tw, th), Image.BICUBIC)).tobytes()).hexdigest()
                       for s, w, h, tw, th in cases]
            with open(args.digests, "w") as f:
                json.dump({"pillow": PIL.__version__, "cases": [list(c) + [d] for c, d in zip(cases, digests)]}, f, indent=0)
            print(f"recorded {len(cases)} Pillow {PIL.__version__} digests")
        check_decode(probe, work)
        live = resize_cases(1, 400)
        ours = resize_digest(probe, work, live)
        for (s, w, h, tw, th), got in zip(live, ours):
            want = hashlib.sha256(np.asarray(test_image(s, w, h).resize((tw, th), Image.BICUBIC)).tobytes()).hexdigest()
            check(got == want, f"resize {w}x{h} -> {tw}x{th} (seed {s}) differs from Pillow {PIL.__version__}")
        print(f"resize: {len(live)} random sizes equal Pillow {PIL.__version__} BICUBIC")
        recorded = json.load(open(args.digests))
        cases = [tuple(c[:5]) for c in recorded["cases"]]
        ours = resize_digest(probe, work, cases)
        for c, got in zip(recorded["cases"], ours):
            check(got == c[5], f"resize {c[1]}x{c[2]} -> {c[3]}x{c[4]} (seed {c[0]}) differs from Pillow {recorded['pillow']}")
        print(f"resize: {len(cases)} sizes equal the recorded Pillow {recorded['pillow']} digests")
        check_anyres(probe, work)
        check_layout(probe)
        check_refusals(probe, work)
    if failures:
        print(f"{len(failures)} failures")
        return 1
    print("all image checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
