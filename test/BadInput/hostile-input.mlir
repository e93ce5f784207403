// mm-opt on malformed or hostile input prints a located diagnostic and exits
// non-zero: never a crash, an assertion or a hang.

// Garbage bytes.
// RUN: printf '\000\377\376 garbage \001\002 }{' > %t.garbage
// RUN: not mm-opt %t.garbage 2>&1 | FileCheck %s --check-prefix=GARBAGE
// GARBAGE: garbage:1:{{[0-9]+}}: error:

// A truncated file: the round-trip test cut in the middle of an op.
// RUN: head -c 1500 %S/../IR/roundtrip.mlir > %t.truncated
// RUN: not mm-opt %t.truncated 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// TRUNCATED: truncated:{{[0-9]+}}:{{[0-9]+}}: error:

// Nesting far deeper than any model: refused before parsing.
// RUN: head -c 200000 /dev/zero | tr '\000' '[' > %t.deep
// RUN: not mm-opt %t.deep 2>&1 | FileCheck %s --check-prefix=DEEP
// DEEP: deep:1:1001: error: input nests deeper than 1000 levels

// Deep but allowed nesting parses on mm-opt's large stack, then fails cleanly.
// RUN: head -c 900 /dev/zero | tr '\000' X | sed 's/X/tuple</g' > %t.tuples
// RUN: printf 'func.func private @f() -> ' | cat - %t.tuples > %t.tuples.mlir
// RUN: not mm-opt %t.tuples.mlir 2>&1 | FileCheck %s --check-prefix=TUPLES
// TUPLES: tuples.mlir:1:{{[0-9]+}}: error:

// Negative and absurd dimensions.
// RUN: printf 'func.func private @f(tensor<-4xf32>)\n' > %t.negative
// RUN: not mm-opt %t.negative 2>&1 | FileCheck %s --check-prefix=NEGATIVE
// NEGATIVE: negative:1:{{[0-9]+}}: error:
// RUN: printf 'func.func private @f(tensor<99999999999999999999999xf32>)\n' > %t.absurd
// RUN: not mm-opt %t.absurd 2>&1 | FileCheck %s --check-prefix=ABSURD
// ABSURD: absurd:1:{{[0-9]+}}: error:
