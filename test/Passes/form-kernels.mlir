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

func.func @run_time_choice(%x: tensor<?x8xf32>, %sel: tensor<i64>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'mm.choice' op selects a supernet candidate at run time: compile one child architecture (mm-specialize-choices, or a constant selector)}}
  %y = mm.choice "block0.act" %sel : tensor<i64> -> (tensor<?x8xf32>) {
    %a = mm.relu %x : tensor<?x8xf32>
    mm.yield %a : tensor<?x8xf32>
  }, {
    %b = mm.tanh %x : tensor<?x8xf32>
    mm.yield %b : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

// -----

// Any module: each op gets the kind whose generator covers it.
// CHECK-LABEL: func @any_module
// CHECK: mm.kernel matmul
// CHECK: mm.kernel softmax
// CHECK: mm.kernel reduce
// CHECK: mm.kernel copy
// CHECK: mm.kernel loss
// CHECK: mm.kernel conv
func.func @any_module(%a: tensor<4x8xf32>, %b: tensor<8x8xf32>, %labels: tensor<4xi64>,
                      %seq: tensor<2x5x8xf32>, %w: tensor<8x8x3xf32>)
    -> (tensor<4xf32>, tensor<8x4xf32>, tensor<f32>, tensor<2x3x8xf32>) {
  %m = mm.matmul %a, %b : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %p = mm.softmax %m {dim = -1 : i64} : tensor<4x8xf32>
  %s = mm.reduce sum %p dims [1] : (tensor<4x8xf32>) -> tensor<4xf32>
  %t = mm.transpose %p [1, 0] : (tensor<4x8xf32>) -> tensor<8x4xf32>
  %l = mm.cross_entropy mean %m, %labels : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<f32>
  %c = mm.conv1d %seq, %w : (tensor<2x5x8xf32>, tensor<8x8x3xf32>) -> tensor<2x3x8xf32>
  return %s, %t, %l, %c : tensor<4xf32>, tensor<8x4xf32>, tensor<f32>, tensor<2x3x8xf32>
}

// -----

// A collective reads a buffer: the constant it reads (a rank's slice of the
// global head indices) gets a kernel that writes it; a splat constant an
// elementwise kernel reads is cloned into that kernel instead.
// CHECK-LABEL: func @constant_for_a_collective
// CHECK: %[[IOTA:.*]] = mm.kernel constant () : () -> tensor<4xi64> {
// CHECK-NEXT: arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK: mm.kernel all_slice (%[[IOTA]])
// CHECK: mm.kernel elementwise
// CHECK-NEXT: ^bb0
// CHECK-NEXT: arith.constant dense<2.000000e+00>
shard.grid @tp(shape = 2)
func.func @constant_for_a_collective(%x: tensor<4xf32>) -> (tensor<2xi64>, tensor<4xf32>) {
  %iota = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
  %two = arith.constant dense<2.0> : tensor<f32>
  %mine = shard.all_slice %iota on @tp grid_axes = [0] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
  %y = mm.mul %x, %two : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  return %mine, %y : tensor<2xi64>, tensor<4xf32>
}

// -----

// A kernel that takes a constant as an input (an elementwise kernel reads
// splats only, -mm-fuse-elementwise) reads a buffer too: a constant kernel
// writes it.
// CHECK-LABEL: func @constant_input_of_a_kernel
// CHECK: %[[IDS:.*]] = mm.kernel constant () : () -> tensor<3xf32> {
// CHECK-NEXT: arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: mm.kernel elementwise (%[[IDS]], %arg0)
func.func @constant_input_of_a_kernel(%first: tensor<1xf32>) -> tensor<3xf32> {
  %ids = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %0 = mm.kernel elementwise (%ids, %first) : (tensor<3xf32>, tensor<1xf32>) -> tensor<3xf32> {
  ^bb0(%a: tensor<3xf32>, %b: tensor<1xf32>):
    %1 = mm.add %a, %b : (tensor<3xf32>, tensor<1xf32>) -> tensor<3xf32>
    mm.yield %1 : tensor<3xf32>
  }
  return %0 : tensor<3xf32>
}

// -----

// A lightning kernel writes its output even where nothing reads it (LASP+
// runs a chunk from a zero state only for its final state): the output
// stays a kernel result, so the kernel has a buffer to write.
// CHECK-LABEL: func @lightning_output_nothing_reads
// CHECK: %[[K:.*]]:2 = mm.kernel lightning (%arg0, %arg1, %arg2) : (tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>) -> (tensor<1x?x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK: return %[[K]]#1
func.func @lightning_output_nothing_reads(%q: tensor<1x?x2x2xf32>, %k: tensor<1x?x2x2xf32>, %v: tensor<1x?x2x2xf32>) -> tensor<1x2x2x2xf32> {
  %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 0 : i64, num_layers = 2 : i64} : (tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>) -> (tensor<1x?x2x2xf32>, tensor<1x2x2x2xf32>)
  return %s : tensor<1x2x2x2xf32>
}
