// RUN: mm-opt %s -split-input-file -mm-fuse-moe | FileCheck %s

// CHECK-LABEL: func @moe
// CHECK: %[[R:.*]]:2 = mm.kernel moe_router (%arg1)
// CHECK: %[[D:.*]]:3 = mm.kernel moe_dispatch (%arg0, %[[R]]#1)
// CHECK: %[[H:.*]] = mm.kernel grouped_gemm_swiglu (%[[D]]#0, %arg2, %[[D]]#1, %arg3)
// CHECK-COUNT-2: mm.grouped_matmul
// CHECK: mm.swiglu
// CHECK: mm.grouped_matmul %[[H]], %arg4
// CHECK: mm.moe_combine
func.func @moe(%x: tensor<?x?x16xf32>, %logits: tensor<?x?x4xf32>, %w1: tensor<4x8x16xf32>,
               %w3: tensor<4x8x16xf32>, %w2: tensor<4x16x8xf32>) -> tensor<?x?x16xf32> {
  %w, %e = mm.moe_router %logits {top_k = 2 : i64} : (tensor<?x?x4xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  %xs, %off, %ord = mm.moe_dispatch %x, %e {num_experts = 4 : i64} : (tensor<?x?x16xf32>, tensor<?x?x2xi64>) -> (tensor<?x16xf32>, tensor<5xi64>, tensor<?xi64>)
  %a = mm.grouped_matmul %xs, %w1, %off : (tensor<?x16xf32>, tensor<4x8x16xf32>, tensor<5xi64>) -> tensor<?x8xf32>
  %b = mm.grouped_matmul %xs, %w3, %off : (tensor<?x16xf32>, tensor<4x8x16xf32>, tensor<5xi64>) -> tensor<?x8xf32>
  %h = mm.swiglu %a, %b : tensor<?x8xf32>
  %y = mm.grouped_matmul %h, %w2, %off : (tensor<?x8xf32>, tensor<4x16x8xf32>, tensor<5xi64>) -> tensor<?x16xf32>
  %out = mm.moe_combine %y, %ord, %w : (tensor<?x16xf32>, tensor<?xi64>, tensor<?x?x2xf32>) -> tensor<?x?x16xf32>
  return %out : tensor<?x?x16xf32>
}

// -----

// Grouped matmuls of different inputs do not pair up.
// CHECK-LABEL: func @no_pair
// CHECK-NOT: grouped_gemm_swiglu
// CHECK: mm.swiglu
func.func @no_pair(%x: tensor<?x16xf32>, %y: tensor<?x16xf32>, %w: tensor<4x8x16xf32>, %off: tensor<5xi64>) -> tensor<?x8xf32> {
  %a = mm.grouped_matmul %x, %w, %off : (tensor<?x16xf32>, tensor<4x8x16xf32>, tensor<5xi64>) -> tensor<?x8xf32>
  %b = mm.grouped_matmul %y, %w, %off : (tensor<?x16xf32>, tensor<4x8x16xf32>, tensor<5xi64>) -> tensor<?x8xf32>
  %h = mm.swiglu %a, %b : tensor<?x8xf32>
  return %h : tensor<?x8xf32>
}
