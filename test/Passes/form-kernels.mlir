// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-form-kernels | FileCheck %s

// CHECK-LABEL: func @remaining
// CHECK: mm.param
// CHECK: mm.kernel embedding
// CHECK: mm.reshape
// CHECK: mm.kernel gather
// CHECK: mm.kernel norm
// CHECK: mm.kernel gemm
func.func @remaining(%ids: tensor<?x?xi64>, %last: tensor<?xi64>) -> tensor<?x100xf32> {
  %t = mm.param "embed" : tensor<100x16xf32>
  %g = mm.param "norm" : tensor<16xf32>
  %e = mm.embedding %t, %ids : (tensor<100x16xf32>, tensor<?x?xi64>) -> tensor<?x?x16xf32>
  %r = mm.reshape %e [0, 0, 16] : (tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %h = mm.gather %r, %last {dim = 1 : i64, batch_dims = 1 : i64} : (tensor<?x?x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>
  %n = mm.rms_norm %h, %g : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %l = mm.linear %n, %t : (tensor<?x16xf32>, tensor<100x16xf32>) -> tensor<?x100xf32>
  return %l : tensor<?x100xf32>
}

// -----

func.func @no_template(%x: tensor<?x5x4xf32>, %w: tensor<12x4xf32>, %b: tensor<12xf32>) -> tensor<?x5x4xf32> {
  // expected-error @+1 {{'mm.gru' op has no kernel kind: the compiled targets cannot generate it yet}}
  %s, %h = mm.gru %x, %w, %w, %b, %b : (tensor<?x5x4xf32>, tensor<12x4xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>) -> (tensor<?x5x4xf32>, tensor<?x4xf32>)
  return %s : tensor<?x5x4xf32>
}
