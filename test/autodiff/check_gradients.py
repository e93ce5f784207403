#!/usr/bin/python3
"""Checks every vector-Jacobian rule against central finite differences.

Usage: check_gradients.py MM_OPT MM_RUN CASES_DIR [--filter SUBSTRING]
                          [--compiled cpu,cuda] [--no-finite-differences]

For each case, a scalar loss function @F of CASES_DIR/<file>.mlir:
  1. `mm-opt -mm-autodiff='function=F'` adds @F_grad;
  2. `mm-run eval --function F_grad --backend reference --precision f64` gives
     the loss and the gradient of every float argument and weight;
  3. for each of those inputs and two random directions v (numpy default_rng,
     fixed seeds), the directional derivative <grad, v> is compared with the
     central difference (F(x + h v) - F(x - h v)) / 2h, F run by the same
     executor in float64.

Tolerance. With h = 1e-5, inputs and directions O(1), the central difference
is off by the truncation h^2/6 |F'''(t)| (about 1e-10 times the directional
third derivative) plus the rounding eps |F| / h (about 1e-11 |F|). The check
allows 1e-6 (|g| |v| + |F|): a hundredfold margin over both for these small
shapes, while a wrong rule (a missing term, a wrong sign, one element wrong)
is off by order |g_i v_i| >= |g| |v| / n, far above it. Directions are random,
so a wrong gradient cannot hide in a subspace the check never probes.

Inputs are drawn away from the kinks of non-smooth ops (relu, max, top-k
selection, clipping), where a finite difference and a one-sided derivative
legitimately disagree. Also checks that every expected-nonzero gradient is
nonzero (a rule that drops a term to zero everywhere cannot pass), and that
the refusals (argmax, float-to-int casts, cached attention, product
reductions, ops without a rule) fail with the op's location.

Then each compiled backend of --compiled (default cpu; cuda runs on a GPU or
the fake toolkit) computes @F_grad in float32, compared with the reference's
float64 gradients (COMPILED_TOL below); a function a target cannot generate
must be refused with the op's location and is listed. --no-finite-differences
leaves out step 3 (the CUDA test: the rules are checked by the CPU one).
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

H = 1e-5
RTOL = 1e-6
DIRECTIONS = 2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "eval"))
from check_ops import write_safetensors  # noqa: E402


class Case:
    def __init__(self, file, fn, ints=None, dyn=None, positive=(), floats=None, params=None,
                 zero=(), scale=1.0):
        self.file, self.fn = file, fn
        self.ints = ints or {}          # integer argument values
        self.dyn = dyn or {}            # sizes of each argument's dynamic dims
        self.positive = set(positive)   # float args drawn in [0.5, 2]
        self.floats = floats or {}      # explicit float argument values
        self.params = params or {}      # explicit weights (else random)
        self.zero = set(zero)           # inputs whose gradient is zero by definition
        self.scale = scale


CASES = []


def add(*a, **kw):
    CASES.append(Case(*a, **kw))


def build_cases():
    for op in ["silu", "sigmoid", "relu", "tanh", "exp", "neg", "gelu", "gelu_tanh"]:
        add("elementwise", op)
    for op in ["log", "sqrt", "rsqrt"]:
        add("elementwise", op, positive=["x"])
    for op in ["add", "sub", "mul", "max", "min"]:
        add("elementwise", f"{op}_row")
        add("elementwise", f"{op}_col")
    add("elementwise", "div_row", positive=["y"])
    add("elementwise", "div_col", positive=["y"])
    add("elementwise", "swiglu")
    add("elementwise", "cast_f64")

    add("linear_norm", "linear_bias", dyn={"x": [2], "c": [2]})
    add("linear_norm", "linear_1d")
    for fn in ["matmul", "matmul_tt", "matmul_tl"]:
        add("linear_norm", fn)
    add("linear_norm", "embedding", ints={"ids": [[0, 5, 2], [2, 3, 2]]})
    add("linear_norm", "rms_norm", dyn={"x": [2], "c": [2]})
    add("linear_norm", "layer_norm")

    for op in ["softmax", "log_softmax"]:
        add("reduction", f"{op}_last")
        add("reduction", f"{op}_first")
    for kind in ["sum", "mean", "max", "min"]:
        add("reduction", f"reduce_{kind}", dyn={"x": [2], "c": [2]})
        add("reduction", f"reduce_{kind}_keep", dyn={"x": [3]})
    add("reduction", "top_k")

    add("shape", "reshape", dyn={"x": [2, 3], "c": [2, 3]})
    add("shape", "reshape_flatten", dyn={"x": [2], "c": [2]})
    add("shape", "transpose")
    add("shape", "concat")
    add("shape", "slice_middle")
    add("shape", "slice_last")
    add("shape", "gather_take", ints={"i": [[0, 4], [2, 0]]})
    add("shape", "gather_batched", ints={"i": [3, 1]})
    add("shape", "scatter_add", ints={"i": [1, 4, 1, 0]})
    add("shape", "scatter_add_batched", ints={"i": [[0, 2, 0], [4, 1, 3]]})

    add("attention", "rope", ints={"pos": [[0, 1, 2], [5, 9, 13]]})
    add("attention", "attention_causal_gqa")
    add("attention", "attention_full_scaled")
    add("attention", "attention_query_start", ints={"start": [2]})
    add("attention", "attention_key_mask",
        floats={"m": np.array([[0, 1, 0, 1], [1, 1, 0, 1]], dtype=np.float64)}, zero={"m"})
    add("attention", "lightning_state", scale=0.5)
    add("attention", "lightning_lengths", ints={"len": [5, 8]}, scale=0.5)
    add("attention", "lightning_head_index", ints={"idx": [3, 1]}, scale=0.5)

    add("moe", "moe_block")
    add("moe", "moe_block_w8")
    add("moe", "router_plain")

    add("loss", "cross_entropy_mean", ints={"labels": [[0, 4, -100], [2, 2, 1]]})
    add("loss", "cross_entropy_sum", ints={"labels": [3, 0, 4, 1]})
    add("loss", "cross_entropy_none", ints={"labels": [3, -100, 4, 1]})
    rng = np.random.default_rng(7)
    add("loss", "sigmoid_bce_mean", floats={"y": rng.uniform(0, 1, (2, 5))})
    add("loss", "sigmoid_bce_sum", floats={"y": rng.uniform(0, 1, (6,))})
    # CISPO: every log-ratio in [0.3, 0.6], above log(1 + eps_high) = 0.18, so
    # the clipped weight is constant: the finite difference sees sg(c) too,
    # and old_logprobs has no gradient.
    lp = rng.normal(-1.0, 0.3, (2, 4))
    add("loss", "policy_cispo",
        floats={"lp": lp, "old": lp - rng.uniform(0.3, 0.6, (2, 4)), "adv": np.array([1.5, -0.7]),
                "mask": rng.uniform(0.2, 1.0, (2, 4))}, zero={"old", "adv", "mask"})
    lp2 = rng.normal(-1.0, 0.3, (2, 4))
    ratios = np.array([[0.5, 0.9, 1.1, 1.6], [0.6, 0.95, 1.05, 1.5]])  # both sides of the clip
    # Only lp gets a gradient: old_logprobs, advantages and mask are rollout data.
    add("loss", "policy_ppo",
        floats={"lp": lp2, "old": lp2 - np.log(ratios), "adv": np.array([[1.0, -1.0, 0.5, -0.5], [-1.2, 0.8, -0.3, 2.0]]),
                "mask": rng.uniform(0.2, 1.0, (2, 4))}, zero={"old", "adv", "mask"})
    # CISPO with an absolute cap min(r, 2): every ratio in [2.5, 3.3], above the
    # cap, so the weight is the constant 2 (the finite difference sees sg(w)).
    # Their own generator, so the draws of the cases below stay as they were.
    prng = np.random.default_rng(11)
    lp3 = prng.normal(-1.0, 0.3, (2, 4))
    add("loss", "policy_cispo_cap",
        floats={"lp": lp3, "old": lp3 - prng.uniform(0.9, 1.2, (2, 4)), "adv": np.array([0.8, -1.3]),
                "mask": prng.uniform(0.2, 1.0, (2, 4))}, zero={"old", "adv", "mask"})
    # DAPO: eps 0.2 / 0.28, dual clip 3, divided by a global token count n = 12.
    # Row 0 (A < 0): clipped below, inside, kept above (2 < 3), dual-clipped (4 > 3);
    # row 1 (A > 0): kept below, inside, clipped above twice.
    lp4 = prng.normal(-1.0, 0.3, (2, 4))
    ratios = np.array([[0.5, 0.9, 2.0, 4.0], [0.6, 1.1, 1.5, 5.0]])
    add("loss", "policy_ppo_dual",
        floats={"lp": lp4, "old": lp4 - np.log(ratios), "adv": np.array([-1.0, 0.8]),
                "mask": prng.uniform(0.2, 1.0, (2, 4)), "n": np.array(12.0)},
        zero={"old", "adv", "mask", "n"})
    # GRPO: per-sequence means, one row without tokens (it adds 0).
    lp5 = prng.normal(-1.0, 0.3, (3, 4))
    ratios = np.array([[0.5, 0.9, 1.1, 1.6], [0.7, 1.05, 1.3, 2.0], [0.6, 0.95, 1.15, 1.5]])
    mask5 = prng.uniform(0.2, 1.0, (3, 4))
    mask5[1] = 0.0
    add("loss", "policy_ppo_seq",
        floats={"lp": lp5, "old": lp5 - np.log(ratios), "adv": np.array([1.2, -0.6, -0.9]), "mask": mask5},
        zero={"old", "adv", "mask"})

    masks = np.array([[1, 1, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 1, 1, 1]], dtype=np.float64)
    for kind in ("sum", "mean", "max"):
        add("recsys", f"pool_{kind}", floats={"m": masks}, zero={"m"})
    add("recsys", "pool_mean_nomask", dyn={"x": [2], "c": [2]})
    add("recsys", "pool_max_last", floats={"m": (rng.uniform(0, 1, (3, 5, 4)) > 0.3).astype(np.float64)},
        zero={"m"})
    add("recsys", "target_attention",
        floats={"m": np.array([[1, 1, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0], [1, 0, 1, 1, 1, 1]], dtype=np.float64)},
        zero={"m"})
    add("recsys", "target_attention_scaled")
    # GRU by backpropagation through time: every step's state and the last one
    # feed the loss; with and without an initial state (which then gets one).
    add("recsys", "gru", scale=0.5)
    add("recsys", "gru_init", scale=0.5)
    add("recsys", "hadamard")
    add("recsys", "conv1d")
    add("recsys", "conv1d_same", dyn={"x": [2], "c": [2]})
    add("vision", "conv2d")
    add("vision", "conv2d_patch")
    add("vision", "merge_image_features", ints={"ids": [[7, 1, 7, 2], [3, 7, 4, 5]]})

    add("model", "tiny_lm", ints={"ids": [[1, 7, 3, 10, 0], [4, 4, 9, 2, 6]],
                                  "labels": [[7, 3, 10, 0, -100], [4, 9, 2, 6, 5]],
                                  "pos": [[0, 1, 2, 3, 4], [0, 1, 2, 3, 4]]},
        dyn={"ids": [2, 5], "labels": [2, 5], "pos": [2, 5]}, scale=0.5)
    add("model", "mlp", ints={"y": [0, 3, 1, 2, 2]}, dyn={"x": [5], "y": [5]})


REFUSALS = [
    ("argmax", "mm.argmax", "integer result"),
    ("float_to_int", "mm.cast", "integer result"),
    ("cached_attention", "mm.attention", "KV cache"),
    ("reduce_prod", "mm.reduce", "product"),
    ("no_rule", "mm.cross_entropy_grad", "no gradient rule"),
    ("not_scalar", "result #0 must be a float scalar", ""),
]

# ---------------------------------------------------------------------------

TYPE = re.compile(r"%(\w+): tensor<([^>]*)>")


def parse_type(t):
    parts = t.split("x")
    return [None if p == "?" else int(p) for p in parts[:-1]], parts[-1]


def signature(text, fn):
    m = re.search(r"func\.func @" + fn + r"\((.*?)\)\s*->", text)
    if not m:
        raise SystemExit(f"no function @{fn}")
    return [(n, *parse_type(t)) for n, t in TYPE.findall(m.group(1))]


def function_text(text, fn):
    start = text.index(f"func.func @{fn}(")
    end = text.find("\nfunc.func @", start + 1)
    return text[start:end if end >= 0 else len(text)]


def params_of(text, fn):
    seen = {}
    for name, t in re.findall(r'mm\.param "([^"]+)" : tensor<([^>]*)>', function_text(text, fn)):
        seen.setdefault(name, parse_type(t))
    return seen


def make_inputs(case, text, seed):
    rng = np.random.default_rng(seed)
    args, floats = [], []
    for name, dims, elt in signature(text, case.fn):
        sizes = list(case.dyn.get(name, []))
        shape = [d if d is not None else sizes.pop(0) for d in dims]
        if elt.startswith("i"):
            args.append(np.asarray(case.ints[name], dtype=np.int64).reshape(shape))
            continue
        if name in case.floats:
            a = np.asarray(case.floats[name], dtype=np.float64).reshape(shape)
        elif name in case.positive:
            a = rng.uniform(0.5, 2.0, shape)
        else:
            a = rng.normal(0.0, case.scale, shape)
        args.append(a)
        floats.append(name)
    params = {}
    for name, (dims, elt) in params_of(text, case.fn).items():
        params[name] = np.asarray(case.params.get(name, rng.normal(0.0, case.scale, dims)), dtype=np.float64)
    return args, floats, params


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


class Evaluator:
    def __init__(self, mm_run, tmp):
        self.mm_run, self.tmp, self.n = mm_run, tmp, 0

    def __call__(self, file, fn, args, params, nout, backend="reference"):
        self.n += 1
        cmd = [self.mm_run, "eval", file, "--function", fn, "--backend", backend]
        if backend == "reference":
            cmd += ["--precision", "f64"]
        for i, a in enumerate(args):
            p = os.path.join(self.tmp, f"in{i}.npy")
            np.save(p, a)
            cmd += ["--input", "@" + p]
        if params:
            sp = os.path.join(self.tmp, "params.safetensors")
            write_safetensors(sp, params)
            cmd += ["--params", sp]
        outs = [os.path.join(self.tmp, f"out{i}.npy") for i in range(nout)]
        for o in outs:
            cmd += ["--output", "@" + o]
        rc, msg = run(cmd)
        if rc != 0:
            raise RuntimeError(msg.strip())
        return [np.load(o) for o in outs]


def check_case(case, mm_opt, ev, cases_dir, tmp, compiled=("cpu",), fd=True):
    src = os.path.join(cases_dir, case.file + ".mlir")
    text = open(src).read()
    grad_file = os.path.join(tmp, "grad.mlir")
    rc, msg = run([mm_opt, src, f"-mm-autodiff=function={case.fn}", "-o", grad_file])
    if rc != 0:
        return [f"mm-opt -mm-autodiff failed: {msg.strip()}"]
    grad_text = open(grad_file).read()
    sig = re.search(r"func\.func @" + case.fn + r"_grad\(.*?\)\s*->\s*\((.*?)\)\s*\{", grad_text)
    labels = re.findall(r'mm\.gradient_of = "([^"]+)"', sig.group(1))
    args, floats, params = make_inputs(case, text, seed=len(case.fn) * 7919 + 1)
    arg_names = [n for n, _, _ in signature(text, case.fn)]
    # Gradient order: float args in order, then weights by first appearance.
    targets = [("arg", arg_names.index(n)) for n in floats] + [("param", n) for n in params]
    if len(labels) != len(targets):
        return [f"@{case.fn}_grad returns {len(labels)} gradients, expected {len(targets)}"]
    outs = ev(grad_file, case.fn + "_grad", args, params, 1 + len(targets))
    loss = float(outs[0])
    (f0,) = ev(src, case.fn, args, params, 1)
    errors = []
    if abs(float(f0) - loss) > 1e-12 * (1 + abs(loss)):
        errors.append(f"loss of @{case.fn}_grad {loss} != @{case.fn} {float(f0)}")
    rng = np.random.default_rng(12345)
    for (kind, key), g in zip(targets, outs[1:]):
        base = args[key] if kind == "arg" else params[key]
        label = arg_names[key] if kind == "arg" else key
        if g.shape != base.shape:
            errors.append(f"gradient of {label}: shape {g.shape}, input {base.shape}")
            continue
        if label in case.zero:
            if np.any(g != 0):
                errors.append(f"gradient of {label} should be zero by definition, max {np.abs(g).max()}")
            continue
        if not np.any(g != 0):
            errors.append(f"gradient of {label} is identically zero")
        for _ in range(DIRECTIONS if fd else 0):
            v = rng.normal(size=base.shape)
            vals = []
            for sgn in (1, -1):
                a2 = [a.copy() for a in args]
                p2 = {k: p.copy() for k, p in params.items()}
                if kind == "arg":
                    a2[key] = a2[key] + sgn * H * v
                else:
                    p2[key] = p2[key] + sgn * H * v
                vals.append(float(ev(src, case.fn, a2, p2, 1)[0]))
            fd = (vals[0] - vals[1]) / (2 * H)
            an = float(np.sum(g * v))
            tol = RTOL * (np.linalg.norm(g) * np.linalg.norm(v) + abs(loss))
            if not abs(fd - an) <= tol:
                errors.append(f"d/d{label}: <g, v> = {an:.12g}, finite difference {fd:.12g}, "
                              f"|diff| {abs(fd - an):.3g} > tol {tol:.3g}")
    for backend in compiled:
        errors += check_compiled(case, ev, grad_file, args, params, outs, backend)
    return errors


# The compiled host backend computes @F_grad in float32. Each gradient element
# here is formed by at most ~64 ops of the backward graph, each a sum of at
# most 64 terms, so its error is below 64 * 64 * u32 = 2.4e-4 times the
# magnitude of the terms: |got - want| <= 2^12 u32 (|want| + max|want|).
# A wrong kernel is off by the size of the gradient itself.
U32 = 2.0 ** -24
COMPILED_TOL = 2.0 ** 12 * U32
COMPILED_REFUSALS = ("has no kernel kind", "has no elementwise generator", "cannot generate CUDA for")
REFUSED = {}


def check_compiled(case, ev, grad_file, args, params, want, backend):
    try:
        got = ev(grad_file, case.fn + "_grad", args, params, len(want), backend=backend)
    except RuntimeError as e:
        msg = str(e)
        if any(r in msg for r in COMPILED_REFUSALS) and "loc(" in msg:
            op = re.search(r"'([a-z0-9_.]+)' (?:op |kernel)?", msg[msg.find("loc("):])
            REFUSED.setdefault(backend, []).append(f"{case.file}.{case.fn} ({op.group(1) if op else '?'})")
            return []
        return [f"--backend {backend}: {msg}"]
    errors = []
    for i, (g, w) in enumerate(zip(got, want)):
        tol = COMPILED_TOL * (np.abs(w) + np.abs(w).max())
        bad = np.abs(g.astype(np.float64) - w) > tol
        if g.shape != w.shape or bad.any():
            errors.append(f"--backend {backend} result {i}: max |diff| "
                          f"{np.abs(g.astype(np.float64) - w).max():.3g} beyond float32 tolerance")
    return errors


def check_refusals(mm_opt, cases_dir):
    src = os.path.join(cases_dir, "refusals.mlir")
    failures = []
    for fn, needle, detail in REFUSALS:
        rc, msg = run([mm_opt, src, f"-mm-autodiff=function={fn}", "-o", os.devnull])
        ok = rc != 0 and needle in msg and detail in msg and "refusals.mlir:" in msg
        print(f"{'PASS' if ok else 'FAIL'} refusal {fn}" + ("" if ok else f": {msg.strip()[:300]}"))
        if not ok:
            failures.append(fn)
    return failures


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    mm_opt, mm_run, cases_dir = (os.path.abspath(a) for a in argv[1:4])
    filt = argv[argv.index("--filter") + 1] if "--filter" in argv else None
    compiled = (argv[argv.index("--compiled") + 1] if "--compiled" in argv else "cpu").split(",")
    fd = "--no-finite-differences" not in argv
    build_cases()
    passed = failed = 0
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="mm-grad-") as tmp:
        ev = Evaluator(mm_run, tmp)
        for case in CASES:
            name = f"{case.file}.{case.fn}"
            if filt and filt not in name:
                continue
            try:
                errors = check_case(case, mm_opt, ev, cases_dir, tmp, compiled, fd)
            except Exception as e:  # an mm-run failure is a test failure, with its message
                errors = [str(e)]
            if errors:
                failed += 1
                print(f"FAIL {name}")
                for e in errors:
                    print(f"     {e}")
            else:
                passed += 1
                print(f"PASS {name}")
        if (not filt or "refusal" in filt) and fd:
            bad = check_refusals(mm_opt, cases_dir)
            failed += len(bad)
            passed += len(REFUSALS) - len(bad)
    for backend in compiled:
        refused = REFUSED.get(backend, [])
        print(f"# {backend} refused {len(refused)}: {', '.join(refused) or 'none'}")
    print(f"# {ev.n} mm-run evaluations in {time.time() - t0:.1f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
