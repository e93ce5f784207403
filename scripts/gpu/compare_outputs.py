#!/usr/bin/env python3
"""Compares a CUDA run of a compiled model with the reference executor's.

    compare_outputs.py NAME REF.json REF.npy GOT.json GOT.npy

The JSON files are the last line of `--json` output (generated ids); the .npy
files are `--dump-logits` ([steps, vocab] of the first sequence). Greedy ids
must be identical, and every step's logits within 1e-4 of the reference
relative to the step's largest |logit|: both sides compute in float32, and
the GPU re-associates sums (cuBLAS dot products, tree reductions in RMSNorm
and softmax, the block-wise lightning scan). Each re-association moves a
result by a few ulp of the terms' magnitude (~1e-7 relative); a few dozen such
steps through the layers stay near 1e-6, so 1e-4 has two orders of margin and
still catches any wrong index, decay or mask (those move logits by >1e-2).
Exit status 1 on a mismatch.
"""
import json
import sys

import numpy as np


def last_json(path):
    with open(path) as f:
        lines = [l for l in f.read().splitlines() if l.strip().startswith("{")]
    return json.loads(lines[-1])


def main():
    name, ref_json, ref_npy, got_json, got_npy = sys.argv[1:6]
    ref, got = last_json(ref_json), last_json(got_json)
    ok = ref["ids"] == got["ids"]
    print(f"{name}: greedy ids {'identical' if ok else 'DIFFER'} "
          f"({got['generated_tokens']} tokens; backend {got.get('backend')})")
    if not ok:
        print(f"  reference {ref['ids']}\n  cuda      {got['ids']}")
    if ref_npy != "-":
        a, b = np.load(ref_npy), np.load(got_npy)
        if a.shape != b.shape:
            print(f"  logits shapes differ: {a.shape} vs {b.shape}")
            ok = False
        else:
            rel = np.abs(a - b).max(axis=1) / np.abs(a).max(axis=1)
            print(f"  logits over {a.shape[0]} steps: max relative error {rel.max():.2e} "
                  f"(step {int(rel.argmax())}), median {np.median(rel):.2e}; bound 1e-4")
            ok = ok and bool(rel.max() <= 1e-4)
    print(f"  {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
