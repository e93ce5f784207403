"""The released MiniMax-VL-01 processor's anyres path, written with Pillow from
../shared/spec/minimax-vl-01.md ("Preprocessing"): the reference that mmc's
image pipeline is compared with (test/vision/check_pillow.py), and the
processor of the float64 oracle (make_vl_data.py) and the VL bench.
Needs only numpy and Pillow <= 12.1 (12.2 and later sometimes resize
vertically first, which the released processor predates).
"""
import numpy as np
from PIL import Image

MEAN = np.array([0.48145466, 0.4578275, 0.40821073], dtype=np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], dtype=np.float32)


def released_pinpoints(tile):
    """[a*tile, b*tile] for the 28 (a, b) of the released config, (width, height)."""
    return [[a * tile, b * tile] for a, bs in zip(range(1, 7), [6, 6, 6, 4, 3, 3]) for b in range(1, bs + 1)]


def select_best(w, h, pinpoints):
    best, best_eff, best_waste = None, 0, float("inf")
    for W, H in pinpoints:
        scale = min(W / w, H / h)
        eff = min(int(w * scale) * int(h * scale), w * h)
        waste = W * H - eff
        if eff > best_eff or (eff == best_eff and waste < best_waste):
            best, best_eff, best_waste = (W, H), eff, waste
    return best


def preprocess(image, tile, pinpoints):
    """uint8 tiles [n, tile, tile, 3] (thumbnail first, then row-major), the
    pixel_values [n, 3, tile, tile] float32, and the chosen (width, height)."""
    w, h = image.size
    W, H = select_best(w, h, pinpoints)
    if w / h > W / H:
        nw, nh = W, int(W * h / w)
    else:
        nw, nh = int(H * w / h), H
    canvas = Image.new("RGB", (W, H), (0, 0, 0))
    canvas.paste(image.resize((nw, nh), Image.BICUBIC), ((W - nw) // 2, (H - nh) // 2))
    tiles = [image.resize((tile, tile), Image.BICUBIC)]
    tiles += [canvas.crop((c, r, c + tile, r + tile)) for r in range(0, H, tile) for c in range(0, W, tile)]
    u8 = np.stack([np.asarray(t.convert("RGB")) for t in tiles])
    # transformers: rescale in float64 stored as float32, then normalise in float32.
    scaled = (u8.astype(np.float64) * (1 / 255)).astype(np.float32)
    return u8, ((scaled - MEAN) / STD).transpose(0, 3, 1, 2).copy(), (W, H)
