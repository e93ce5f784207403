#!/usr/bin/env python3
"""Prints the generated kernels of an --emit-kernels folder for golden review.

Each file's generated part (after the library) is normalised: kernel names
(mm_kernel_<i>, mm_k<i>) and mm IR locations become placeholders, so the
80 layers of a full-size model reduce to the distinct kernels that code
generation produces. Each distinct kernel is printed once under its kind,
with how many kernels share it and the first of them; a change to code
generation shows up as a diff, as tinygrad's process replay shows one.

Usage: golden_kernels.py EMIT_DIR
"""
import os
import re
import sys

MARKER = "// ---- generated kernel ----"


def normalise(text):
    text = re.sub(r"\bmm_kernel_\d+\b", "mm_kernel_N", text)
    text = re.sub(r"\bmmk_[0-9a-f]{16}\b", "mm_kernel_N", text)  # named by content
    text = re.sub(r"\bmm_k\d+(_\w+)?\b", lambda m: "mm_kN" + (m.group(1) or ""), text)
    return re.sub(r'loc\("[^"\n]*"(:\d+:\d+)?\)', "loc(...)", text)


def main():
    folder = sys.argv[1]
    distinct = {}  # normalised text -> [kind, count, first file]
    for name in sorted(os.listdir(folder)):
        if not name.endswith((".cpp", ".cu")):
            continue
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            text = f.read()
        if MARKER not in text:
            sys.exit(f"{name}: no '{MARKER}' line")
        body = normalise(text.split(MARKER, 1)[1].lstrip("\n"))
        kind = re.sub(r"^k\d+_", "", os.path.splitext(name)[0])
        entry = distinct.setdefault(body, [kind, 0, name])
        entry[1] += 1
    for body, (kind, count, first) in sorted(distinct.items(), key=lambda e: (e[1][0], e[1][2])):
        print(f"==== {kind}: {count} kernel(s), first {first}")
        print(body, end="" if body.endswith("\n") else "\n")
    kinds = sorted({k for k, _, _ in distinct.values()})
    print(f"==== {len(distinct)} distinct kernels of {len(kinds)} kinds: {', '.join(kinds)}")


if __name__ == "__main__":
    main()
