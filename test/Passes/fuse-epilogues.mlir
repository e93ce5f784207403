// RUN: mm-opt %s -split-input-file -mm-fuse-epilogues | FileCheck %s

// The post-norm residual alpha * u + beta * (o W^T): one GEMM kernel.
// CHECK-LABEL: func @residual
// CHECK: %[[K:.*]] = mm.kernel gemm (%arg0, %arg1, %arg2)
// CHECK-DAG: arith.constant dense<3.500000e+00>
// CHECK-DAG: arith.constant dense<5.000000e-01>
// CHECK: mm.linear
// CHECK: mm.mul
// CHECK: mm.mul
// CHECK: mm.add
// CHECK: mm.yield
// CHECK: return %[[K]]
func.func @residual(%o: tensor<?x?x64xf32>, %w: tensor<32x64xf32>, %u: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  %alpha = arith.constant dense<3.5> : tensor<f32>
  %beta = arith.constant dense<0.5> : tensor<f32>
  %a = mm.linear %o, %w : (tensor<?x?x64xf32>, tensor<32x64xf32>) -> tensor<?x?x32xf32>
  %r = mm.mul %u, %alpha : (tensor<?x?x32xf32>, tensor<f32>) -> tensor<?x?x32xf32>
  %b = mm.mul %a, %beta : (tensor<?x?x32xf32>, tensor<f32>) -> tensor<?x?x32xf32>
  %h = mm.add %r, %b : (tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  return %h : tensor<?x?x32xf32>
}

// -----

// SiLU on the qkv projection; a bias-like row vector is a side input.
// CHECK-LABEL: func @silu_bias
// CHECK: mm.kernel gemm (%arg0, %arg1, %arg2)
// CHECK: mm.silu
// CHECK: mm.add
func.func @silu_bias(%x: tensor<?x32xf32>, %w: tensor<96x32xf32>, %b: tensor<96xf32>) -> tensor<?x96xf32> {
  %a = mm.linear %x, %w : (tensor<?x32xf32>, tensor<96x32xf32>) -> tensor<?x96xf32>
  %s = mm.silu %a : tensor<?x96xf32>
  %y = mm.add %s, %b : (tensor<?x96xf32>, tensor<96xf32>) -> tensor<?x96xf32>
  return %y : tensor<?x96xf32>
}

// -----

// A result that something else also reads ends the epilogue.
// CHECK-LABEL: func @shared_result
// CHECK: %[[K:.*]] = mm.kernel gemm (%arg0, %arg1)
// CHECK: mm.sigmoid
// CHECK: mm.yield
// CHECK: %[[T:.*]] = mm.tanh %[[K]]
// CHECK: mm.exp %[[K]]
func.func @shared_result(%x: tensor<?x32xf32>, %w: tensor<8x32xf32>) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %a = mm.linear %x, %w : (tensor<?x32xf32>, tensor<8x32xf32>) -> tensor<?x8xf32>
  %s = mm.sigmoid %a : tensor<?x8xf32>
  %t = mm.tanh %s : tensor<?x8xf32>
  %e = mm.exp %s : tensor<?x8xf32>
  return %t, %e : tensor<?x8xf32>, tensor<?x8xf32>
}

// -----

// RMSNorm with an elementwise prologue and the output gate as epilogue.
// CHECK-LABEL: func @norm
// CHECK: mm.kernel norm (%arg0, %arg1, %arg2, %arg3)
// CHECK: mm.add
// CHECK: mm.rms_norm
// CHECK: mm.sigmoid
// CHECK: mm.mul
// CHECK-NOT: mm.kernel
func.func @norm(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>, %g: tensor<64xf32>, %gate: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %h = mm.add %x, %y : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %n = mm.rms_norm %h, %g : (tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x64xf32>
  %s = mm.sigmoid %gate : tensor<?x64xf32>
  %o = mm.mul %s, %n : (tensor<?x64xf32>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return %o : tensor<?x64xf32>
}

// -----

// The MoE combine takes the residual of the block as its epilogue; the W2
// grouped matmul becomes a grouped_gemm kernel.
// CHECK-LABEL: func @combine
// CHECK: mm.kernel grouped_gemm
// CHECK: mm.kernel moe_combine
// CHECK: mm.moe_combine
// CHECK: mm.add
func.func @combine(%h: tensor<?x16xf32>, %w2: tensor<4x16x16xf32>, %off: tensor<5xi64>, %ord: tensor<?xi64>,
                   %rw: tensor<?x?x2xf32>, %res: tensor<?x?x16xf32>) -> tensor<?x?x16xf32> {
  %y = mm.grouped_matmul %h, %w2, %off : (tensor<?x16xf32>, tensor<4x16x16xf32>, tensor<5xi64>) -> tensor<?x16xf32>
  %m = mm.moe_combine %y, %ord, %rw : (tensor<?x16xf32>, tensor<?xi64>, tensor<?x?x2xf32>) -> tensor<?x?x16xf32>
  %o = mm.add %res, %m : (tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  return %o : tensor<?x?x16xf32>
}

// -----

// A side input that broadcasts along a middle dim is not something a kernel
// reads: the epilogue stops before it.
// CHECK-LABEL: func @unsupported_broadcast
// CHECK: mm.kernel gemm
// CHECK: mm.yield
// CHECK: mm.mul
func.func @unsupported_broadcast(%x: tensor<2x3x8xf32>, %w: tensor<8x8xf32>, %s: tensor<2x1x8xf32>) -> tensor<2x3x8xf32> {
  %a = mm.linear %x, %w : (tensor<2x3x8xf32>, tensor<8x8xf32>) -> tensor<2x3x8xf32>
  %m = mm.mul %a, %s : (tensor<2x3x8xf32>, tensor<2x1x8xf32>) -> tensor<2x3x8xf32>
  return %m : tensor<2x3x8xf32>
}
