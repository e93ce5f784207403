#!/usr/bin/env python3
"""Fails when a file includes a layer it must not depend on.

The runtime (what AOT binaries link) and the file-format readers include
nothing from the compiler side; the reference kernels (the oracle) include
nothing from the compiler either, and the compiled runtime does not include
them. Usage: check_layering.py SOURCE_ROOT [--self-test]
"""
import os
import re
import sys
import tempfile

COMPILER = ("codegen/", "passes/", "ir/", "models/", "tools/mm-compile", "tools/mm-opt",
            "tools/mm-run", "mlir/", "llvm/")
# folder -> include prefixes it must not use
RULES = {
    "runtime/": COMPILER + ("reference/",),
    "frontends/": COMPILER + ("reference/", "runtime/compiled/", "runtime/engine/", "runtime/cuda/"),
    "reference/kernels/": COMPILER + ("reference/Executor", "reference/Reference"),
    "tools/mm-aot-runner/": COMPILER + ("reference/",),
    "tools/common/": COMPILER + ("reference/",),
}
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)
SOURCE = (".h", ".cpp", ".cuh", ".cu", ".inc")


def violations(root):
    found = []
    for folder, forbidden in RULES.items():
        base = os.path.join(root, folder)
        for dirpath, _, files in os.walk(base):
            for name in files:
                if not name.endswith(SOURCE):
                    continue
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8", errors="replace") as f:
                    text = f.read()
                for m in INCLUDE.finditer(text):
                    target = m.group(1)
                    for prefix in forbidden:
                        if target.startswith(prefix):
                            line = text.count("\n", 0, m.start()) + 1
                            rel = os.path.relpath(path, root)
                            found.append(f"{rel}:{line}: includes {target} "
                                         f"({folder} must not depend on {prefix})")
    return found


def self_test():
    """The checker must catch a forbidden include and pass a clean tree."""
    with tempfile.TemporaryDirectory() as tmp:
        os.makedirs(os.path.join(tmp, "runtime"))
        with open(os.path.join(tmp, "runtime", "Ok.h"), "w") as f:
            f.write('#include "runtime/Tensor.h"\n')
        assert not violations(tmp), "a clean tree was flagged"
        with open(os.path.join(tmp, "runtime", "Bad.cpp"), "w") as f:
            f.write('#include "runtime/Tensor.h"\n#include "codegen/Compile.h"\n')
        found = violations(tmp)
        assert len(found) == 1 and "runtime/Bad.cpp:2" in found[0], found


def main():
    root = sys.argv[1]
    self_test()
    found = violations(root)
    for v in found:
        print(v)
    print(f"layering: {len(found)} forbidden includes")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
