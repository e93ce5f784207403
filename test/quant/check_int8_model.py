#!/usr/bin/env python3
"""The bundled MiniMax model with int8 weights against the reference executor.

    check_int8_model.py MM_RUN MM_COMPILE MODEL_DIR

The oracle: a copy of the model folder whose int8-held tensors (the ones the
compiled binary's `--info` lists as DTYPE_I8_ROWS) are replaced by their
dequantized values q * scale, computed in NumPy float32 exactly as the
runtime quantizes (check_int8_weights.py's `quantize`). The reference
executor runs that copy in float32; `mm-run logits --backend cpu
--weight-dtype int8` runs the original folder. Both then compute the same
function in float32 and differ only by summation order and by the rounding
of q * scale to float32 (one ulp per weight), so every position's logits
must agree within 1e-4 of that position's largest |logit|, the bound
scripts/gpu/compare_outputs.py argues for re-associated float32 runs.

Negative control: the int8 run against the reference on the original f32
weights must differ by more than that bound (the quantization is visible, so
the comparison above can fail).

The MoE router's gates stay float32 (codegen/WeightStorage.h).

The file of int8 weights mm-compile writes beside the binary
(BIN.int8.safetensors, runtime/compiled/Int8WeightFile.h), on a copy of the
model folder: the binary loads it silently and generates the ids `mm-run
generate --weight-dtype int8` generates (quantizing in memory); without the
file it says so and generates the same ids; after the checkpoint is touched
it says the checkpoint changed and generates the same ids; with one data byte
changed it refuses, naming the checksum.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_int8_weights import quantize  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "eval"))
from check_ops import write_safetensors  # noqa: E402

IDS = "1,17,42,7,99,3,250,12,5,64,128,33,2,77,300,8,19,200,45,6"
BOUND = 1e-4


def read_safetensors(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        if info["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} is {info['dtype']}; this check reads F32 checkpoints")
        a, b = info["data_offsets"]
        out[name] = np.frombuffer(data[a:b], "<f4").reshape(info["shape"]).copy()
    return out


def run(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(args)}\n{p.stdout}{p.stderr}")
    return p.stdout


def run_status(args):
    p = subprocess.run(args, capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr


def last_ids(stdout):
    return json.loads(stdout.strip().splitlines()[-1])["ids"]


def check_weight_file(mm_run, mm_compile, model, tmp):
    """The checks of the int8 weight file, on a copy of `model`; returns the failures."""
    failures = 0
    model = shutil.copytree(model, os.path.join(tmp, "copy"))
    binary = os.path.join(tmp, "copy.bin")
    run([mm_compile, "--model", model, "--target", "cpu", "--weight-dtype", "int8", "-o", binary])
    gen = ["--ids", IDS, "--max-new-tokens", "16", "--greedy", "--ignore-eos", "--json"]
    want = last_ids(run([mm_run, "generate", "--model", model, "--backend", "cpu",
                         "--weight-dtype", "int8", *gen]))
    path = binary + ".int8.safetensors"

    def case(label, ok, detail):
        nonlocal failures
        print(f"{'ok  ' if ok else 'FAIL'} {label}" + ("" if ok else f": {detail}"))
        failures += 0 if ok else 1

    code, out, err = run_status([binary, *gen])
    case("the binary loads its int8 file: same ids as mm-run, no note",
         code == 0 and last_ids(out) == want and "note:" not in err, err[-300:])
    saved = path + ".saved"
    os.rename(path, saved)
    code, out, err = run_status([binary, *gen])
    case("without the file it quantizes the checkpoint, says so, same ids",
         code == 0 and last_ids(out) == want and "is missing" in err, err[-300:])
    os.rename(saved, path)
    checkpoint = os.path.join(model, "model.safetensors")
    then = os.stat(checkpoint)
    os.utime(checkpoint, ns=(then.st_atime_ns, then.st_mtime_ns + 1_000_000_000))
    code, out, err = run_status([binary, *gen])
    case("after the checkpoint changed it quantizes afresh, says so, same ids",
         code == 0 and last_ids(out) == want and "checkpoint changed" in err, err[-300:])
    os.utime(checkpoint, ns=(then.st_atime_ns, then.st_mtime_ns))
    saved = path + ".saved"
    os.rename(path, saved)
    with open(saved, "rb") as f:
        data = bytearray(f.read())
    data[-100] ^= 0x01  # a scale or an int8 value, not the header
    with open(path, "wb") as f:
        f.write(data)
    code, out, err = run_status([binary, *gen])
    case("a damaged file is refused, naming its checksum",
         code != 0 and "checksum does not match" in err and path in err, err[-300:])
    os.replace(saved, path)
    return failures


def int8_sources(info, tensors):
    """Checkpoint tensors behind each DTYPE_I8_ROWS weight of `--info`."""
    sources = []
    for line in info.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[0] != "weight" or "DTYPE_I8_ROWS" not in line:
            continue
        name = parts[1]
        if name in tensors:
            sources.append(name)
            continue
        # Stacked experts: <prefix>.experts.wN from <prefix>.experts.E.wN.weight.
        prefix, _, which = name.rpartition(".")
        stacked = [t for t in tensors if t.startswith(prefix + ".") and t.endswith("." + which + ".weight")]
        if not stacked:
            raise SystemExit(f"FAIL: no checkpoint tensor behind int8 weight {name}")
        sources += stacked
    return sources


def worst(got, want):
    scale = np.max(np.abs(want), axis=-1, keepdims=True)
    return float(np.max(np.abs(got - want) / scale))


def main(argv):
    if len(argv) != 4:
        print(__doc__)
        return 2
    mm_run, mm_compile, model = argv[1:4]
    checkpoint = os.path.join(model, "model.safetensors")
    tensors = read_safetensors(checkpoint)
    with tempfile.TemporaryDirectory() as tmp:
        binary = os.path.join(tmp, "int8.bin")
        run([mm_compile, "--model", model, "--target", "cpu", "--weight-dtype", "int8", "-o", binary])
        info = run([binary, "--info"])
        sources = int8_sources(info, tensors)
        gates = [l for l in info.splitlines() if ".block_sparse_moe.gate.weight" in l]
        gates_ok = bool(gates) and all("DTYPE_F32" in l for l in gates)
        print(f"{'ok  ' if gates_ok else 'FAIL'} the {len(gates)} router gates stay float32")
        print(f"{len(sources)} of {len(tensors)} checkpoint tensors are held as int8")

        copy = os.path.join(tmp, "dequantized")
        os.makedirs(copy)
        for f in os.listdir(model):
            if f != "model.safetensors":
                shutil.copy(os.path.join(model, f), copy)
        replaced = dict(tensors)
        for name in sources:
            q, s = quantize(tensors[name])
            replaced[name] = (q.astype(np.float32) * s[..., None]).astype(np.float32)
        write_safetensors(os.path.join(copy, "model.safetensors"), replaced)

        def logits(folder, *flags):
            out = os.path.join(tmp, f"logits{len(os.listdir(tmp))}.npy")
            run([mm_run, "logits", "--model", folder, "--ids", IDS, "--out", out, *flags])
            return np.load(out).astype(np.float64)

        got = logits(model, "--backend", "cpu", "--weight-dtype", "int8")
        oracle = logits(copy, "--backend", "reference")
        f32 = logits(model, "--backend", "reference")
        err, moved = worst(got, oracle), worst(got, f32)
        ok = err <= BOUND
        print(f"{'ok  ' if ok else 'FAIL'} int8 logits vs the reference on dequantized weights: "
              f"{err:.2e} of the largest |logit| (bound {BOUND:g})")
        control = moved > BOUND
        print(f"{'ok  ' if control else 'FAIL'} negative control, int8 vs f32 weights: {moved:.2e} "
              f"(must exceed {BOUND:g})")
        failures = check_weight_file(mm_run, mm_compile, model, tmp)
        return 0 if ok and control and gates_ok and not failures else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
