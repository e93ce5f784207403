// RUN: mm-opt %s -split-input-file -mm-fuse-elementwise | FileCheck %s

// CHECK-LABEL: func @chain
// CHECK: %[[K:.*]] = mm.kernel elementwise (%arg0, %arg1)
// CHECK: mm.silu
// CHECK: mm.mul
// CHECK: mm.neg
// CHECK: return %[[K]]
func.func @chain(%x: tensor<?x8xf32>, %y: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = mm.silu %x : tensor<?x8xf32>
  %1 = mm.mul %0, %y : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  %2 = mm.neg %1 : tensor<?x8xf32>
  return %2 : tensor<?x8xf32>
}

// -----

// An intermediate read twice splits the chain: two kernels, and the value
// is materialised between them.
// CHECK-LABEL: func @split
// CHECK: %[[A:.*]] = mm.kernel elementwise (%arg0)
// CHECK: mm.exp
// CHECK: %[[B:.*]] = mm.kernel elementwise (%[[A]])
// CHECK: mm.add
// CHECK: return %[[B]]
func.func @split(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = mm.exp %x : tensor<8xf32>
  %1 = mm.add %0, %0 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %1 : tensor<8xf32>
}

// -----

// Integer arithmetic (the last-token index of the LM head) fuses too.
// CHECK-LABEL: func @ints
// CHECK: mm.kernel elementwise (%arg0)
// CHECK: arith.constant dense<1> : tensor<i64>
// CHECK: mm.sub
func.func @ints(%lengths: tensor<?xi64>) -> tensor<?xi64> {
  %one = arith.constant dense<1> : tensor<i64>
  %0 = mm.sub %lengths, %one : (tensor<?xi64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

// A splat constant is a literal inside the kernel; any other constant (the
// class ids of a vocab-parallel cross-entropy) is an input of the kernel,
// which -mm-form-kernels then writes with a constant kernel.
// CHECK-LABEL: func @table_constant
// CHECK: %[[IDS:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: mm.kernel elementwise (%[[IDS]], %arg0)
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT: mm.add
// CHECK-NEXT: mm.mul
func.func @table_constant(%first: tensor<1xf32>) -> tensor<3xf32> {
  %ids = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %0 = mm.add %ids, %first : (tensor<3xf32>, tensor<1xf32>) -> tensor<3xf32>
  %1 = mm.mul %0, %two : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}
