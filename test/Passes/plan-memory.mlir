// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-plan-memory='max-batch=2 max-tokens=4 max-context=8 symbol-max=N=10' | FileCheck %s
// RUN: not mm-opt %s -split-input-file -mm-plan-memory='symbol-max=N' 2>&1 | FileCheck %s --check-prefix=BADMAX
// BADMAX: symbol-max entry 'N' is not NAME=VALUE with VALUE >= 1

// Three kernels in a chain over [B, T, 16] f32 (2 * 4 * 16 * 4 = 512 bytes):
// the third reuses the first one's buffer, the reshape is a view, and the
// in-place result aliases the argument it overwrites (offset -1).
// CHECK-LABEL: func @chain
// CHECK-SAME: mm.arena_bytes = 1024
// CHECK: mm.kernel elementwise {{.*}}mm.offsets = array<i64: 0>
// CHECK: mm.kernel elementwise {{.*}}mm.offsets = array<i64: 512>
// CHECK: mm.reshape
// CHECK: mm.kernel elementwise {{.*}}mm.offsets = array<i64: 0>
// CHECK: mm.kernel elementwise {{.*}}mm.offsets = array<i64: -1>
func.func @chain(%x: tensor<?x?x16xf32> {mm.dims = ["B", "T", ""]}, %s: tensor<?x?x16xf32> {mm.dims = ["B", "T", ""]})
    -> (tensor<?x?x16xf32>, tensor<?x?x16xf32>) {
  // expected-remark @-2 {{arena 1024 bytes for 3 buffers (1536 without reuse)}}
  %a = mm.kernel elementwise (%x) : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  ^bb0(%arg: tensor<?x?x16xf32>):
    %0 = mm.exp %arg : tensor<?x?x16xf32>
    mm.yield %0 : tensor<?x?x16xf32>
  }
  %b = mm.kernel elementwise (%a) : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  ^bb0(%arg: tensor<?x?x16xf32>):
    %0 = mm.neg %arg : tensor<?x?x16xf32>
    mm.yield %0 : tensor<?x?x16xf32>
  }
  %v = mm.reshape %b [0, 0, 16] : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %c = mm.kernel elementwise (%v) : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  ^bb0(%arg: tensor<?x?x16xf32>):
    %0 = mm.tanh %arg : tensor<?x?x16xf32>
    mm.yield %0 : tensor<?x?x16xf32>
  }
  %d = mm.kernel elementwise (%s, %c) {in_place = array<i64: 0>} : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  ^bb0(%arg: tensor<?x?x16xf32>, %arg2: tensor<?x?x16xf32>):
    %0 = mm.add %arg, %arg2 : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
    mm.yield %0 : tensor<?x?x16xf32>
  }
  return %c, %d : tensor<?x?x16xf32>, tensor<?x?x16xf32>
}

// -----

// expected-error @+1 {{dynamic dim 0 of argument 0 has no symbol in its mm.dims attribute}}
func.func @no_symbols(%x: tensor<?x16xf32>) -> tensor<?x16xf32> {
  return %x : tensor<?x16xf32>
}

// -----

// expected-error @+1 {{shape symbol 'M' has no maximum (give symbol-max=M=VALUE; mm-compile --max M=VALUE)}}
func.func @unknown_symbol(%x: tensor<?x16xf32> {mm.dims = ["M", ""]}) -> tensor<?x16xf32> {
  return %x : tensor<?x16xf32>
}

// -----

// Any symbol name works once it has a maximum: N <= 10, so the kernel result
// [N, 16] f32 takes 640 bytes; the maxima are recorded on the function.
// CHECK-LABEL: func @named_symbol
// CHECK-SAME: mm.arena_bytes = 640
// CHECK-SAME: mm.symbol_max = {N = 10 : i64}
func.func @named_symbol(%x: tensor<?x16xf32> {mm.dims = ["N", ""]}) -> tensor<?x16xf32> {
  // expected-remark @-1 {{arena 640 bytes for 1 buffers (640 without reuse)}}
  %y = mm.kernel elementwise (%x) : (tensor<?x16xf32>) -> tensor<?x16xf32> {
  ^bb0(%a: tensor<?x16xf32>):
    %r = mm.relu %a : tensor<?x16xf32>
    mm.yield %r : tensor<?x16xf32>
  }
  return %y : tensor<?x16xf32>
}
