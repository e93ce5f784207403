#!/usr/bin/python3
"""Checks @F_train_step (mm-training-step) against NumPy AdamW.

Usage: check_training_step.py MM_OPT MM_RUN CASES_DIR [--compiled cpu,cuda]

For the tiny hybrid MoE language model of CASES_DIR/model.mlir and a small
MLP, three consecutive training steps run three ways:
  * NumPy float64, written from PyTorch's clip_grad_norm_ and torch.optim.AdamW
    (the gradients from @F_grad on the reference executor in float64, already
    checked against finite differences by check_gradients.py);
  * @F_train_step on the reference executor in float64: must agree to
    1e-10 relative (both are float64; the only differences are rounding in
    differently ordered sums);
  * @F_train_step compiled (float32, each backend of --compiled, default cpu;
    cuda on a GPU or the fake toolkit): must agree with float32 tolerance. A
    step a target cannot generate must be refused with the op's location. AdamW divides m by sqrt(v) + eps, which amplifies
    a relative error of g by up to 1/2 on the update, so the bound is the
    gradient's float32 bound (2^12 u32, see check_gradients.py) times the step
    size lr on the weights.
Options under test: the default AdamW (0.9, 0.999, 1e-8, wd 0.01, clip 1.0)
and MiniMax-M1's RL setting (0.9, 0.95, 1e-15) with clipping off, and per-weight-step
(each weight's own step count, as AMER's weight-sharing supernets use it).
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_gradients as cg  # noqa: E402

U32 = 2.0 ** -24


def r(x):
    """The graph is float32: its constants (betas, eps, ...) are float32 values,
    which the float64 reference evaluates exactly; NumPy uses the same ones."""
    return float(np.float32(x))


def adamw(w, g, m, v, lr, t, beta1, beta2, eps, wd, max_norm):
    """PyTorch clip_grad_norm_ then AdamW, float64, all weights at once."""
    norm = np.sqrt(sum(float(np.sum(x * x)) for x in g.values()))
    scale = min(1.0, r(max_norm) / (norm + r(1e-6))) if max_norm > 0 else 1.0
    out_w, out_m, out_v = {}, {}, {}
    for k in w:
        gk = g[k] * scale
        out_m[k] = r(beta1) * m[k] + r(1 - beta1) * gk
        out_v[k] = r(beta2) * v[k] + r(1 - beta2) * gk * gk
        # beta^t as exp(t ln beta), with ln beta a float32 constant of the graph;
        # t per weight with per-weight-step (a dict), else shared.
        tk = t[k] if isinstance(t, dict) else t
        bc1, bc2 = 1 - np.exp(tk * r(np.log(beta1))), 1 - np.exp(tk * r(np.log(beta2)))
        decayed = w[k] * (1 - lr * r(wd)) if w[k].ndim >= 2 else w[k]
        denom = np.sqrt(out_v[k]) / np.sqrt(bc2) + r(eps)
        out_w[k] = decayed - lr / bc1 * out_m[k] / denom
    return norm, out_w, out_m, out_v


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(p.stdout + p.stderr)


REFUSED = []


def check(mm_opt, mm_run, src, fn, case, opts, tmp, compiled=("cpu",)):
    flag = "function=" + fn + "".join(f" {k}={v}" for k, v in opts.items())
    step_file = os.path.join(tmp, "step.mlir")
    run([mm_opt, src, f"-mm-autodiff=function={fn}", f"-mm-training-step={flag}", "-o", step_file])
    text = open(src).read()
    args, floats, params = cg.make_inputs(case, text, seed=99)
    ev = cg.Evaluator(mm_run, tmp)
    names = list(params)
    w = {k: v.copy() for k, v in params.items()}
    m = {k: np.zeros_like(v) for k, v in params.items()}
    v = {k: np.zeros_like(x) for k, x in params.items()}
    states = {b: (dict(w), dict(m), dict(v)) for b in ["reference", *compiled]}
    beta1, beta2 = float(opts.get("beta1", 0.9)), float(opts.get("beta2", 0.999))
    eps, wd = float(opts.get("epsilon", 1e-8)), float(opts.get("weight-decay", 0.01))
    clip = float(opts.get("max-grad-norm", 1.0))
    per_weight = opts.get("per-weight-step") == "true"
    lr = 3e-3
    errors = []
    for t in (1, 2, 3):
        # NumPy: gradients of the current weights from @F_grad (float64).
        grad_file = os.path.join(tmp, "grad.mlir")
        run([mm_opt, src, f"-mm-autodiff=function={fn}", "-o", grad_file])
        outs = ev(grad_file, fn + "_grad", args, w, 1 + len(floats) + len(names))
        g = dict(zip(names, outs[1 + len(floats):]))
        # per-weight-step: each weight's own count, as if some had skipped steps.
        ts = {k: float(t + 3 * i) for i, k in enumerate(names)} if per_weight else t
        norm, w, m, v = adamw(w, g, m, v, lr, ts, beta1, beta2, eps, wd, clip)
        for backend, state in list(states.items()):
            sw, sm, sv = state
            step_args = list(args) + [sw[k] for k in names] + [sm[k] for k in names] + \
                [sv[k] for k in names] + [np.array(lr)] + \
                ([np.array(ts[k]) for k in names] if per_weight else [np.array(float(t))])
            try:
                res = ev(step_file, fn + "_train_step", step_args, {}, 2 + 3 * len(names), backend=backend)
            except RuntimeError as e:
                if backend != "reference" and any(r in str(e) for r in cg.COMPILED_REFUSALS) and "loc(" in str(e):
                    REFUSED.append(f"{fn} on {backend}")
                    del states[backend]
                    continue
                raise
            for i, k in enumerate(names):
                sw[k], sm[k], sv[k] = (res[2 + i].astype(np.float64),
                                       res[2 + len(names) + i].astype(np.float64),
                                       res[2 + 2 * len(names) + i].astype(np.float64))
            if backend == "reference":
                tol_w, tol_n = 1e-10, 1e-10
            else:
                tol_w, tol_n = 2.0 ** 12 * U32 * lr * t, 2.0 ** 12 * U32
            if abs(float(res[1]) - norm) > tol_n * norm:
                errors.append(f"{backend} step {t}: grad norm {float(res[1])} vs {norm}")
            for k in names:
                scale = np.abs(w[k]).max() + lr
                diff = np.abs(sw[k] - w[k]).max()
                if not diff <= tol_w * scale:
                    errors.append(f"{backend} step {t}: weight {k} off by {diff:.3g} (tol {tol_w * scale:.3g})")
                if backend == "reference":
                    for name, got, want in (("m", sm[k], m[k]), ("v", sv[k], v[k])):
                        d = np.abs(got - want).max()
                        if not d <= 1e-10 * (np.abs(want).max() + 1e-30):
                            errors.append(f"reference step {t}: {name} of {k} off by {d:.3g}")
            # Both implementations continue from NumPy's state (no drift).
            sw.update(w), sm.update(m), sv.update(v)
    return errors


def main(argv):
    if len(argv) < 4:
        print(__doc__)
        return 2
    mm_opt, mm_run, cases_dir = (os.path.abspath(a) for a in argv[1:4])
    compiled = (argv[argv.index("--compiled") + 1] if "--compiled" in argv else "cpu").split(",")
    cg.build_cases()
    tiny = next(c for c in cg.CASES if c.fn == "tiny_lm")
    mlp = next(c for c in cg.CASES if c.fn == "mlp")
    runs = [
        ("model", "tiny_lm", tiny, {}),
        ("model", "tiny_lm", tiny, {"beta1": 0.9, "beta2": 0.95, "epsilon": 1e-15, "max-grad-norm": 0}),
        ("model", "mlp", mlp, {"weight-decay": 0.1, "max-grad-norm": 0.05}),
        ("model", "mlp", mlp, {"per-weight-step": "true"}),
    ]
    failed = 0
    with tempfile.TemporaryDirectory(prefix="mm-step-") as tmp:
        for file, fn, case, opts in runs:
            src = os.path.join(cases_dir, file + ".mlir")
            try:
                errors = check(mm_opt, mm_run, src, fn, case, opts, tmp, compiled)
            except RuntimeError as e:
                errors = [str(e)]
            label = f"{fn} {opts or 'defaults'}"
            print(("PASS " if not errors else "FAIL ") + label)
            for e in errors:
                print("     " + e)
            failed += bool(errors)
    print(f"# refused (each with its location): {', '.join(REFUSED) or 'none'}")
    print(f"{len(runs) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
