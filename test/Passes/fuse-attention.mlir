// RUN: mm-opt %s -split-input-file -mm-fuse-attention | FileCheck %s

// RoPE of q and k joins the attention; the key cache updates in place (the
// updated value cache is not used, so the kernel does not return it).
// CHECK-LABEL: func @attention_with_rope
// CHECK: %[[K:.*]]:2 = mm.kernel attention (%arg0, %arg1, %arg2, %arg3, %arg4, %arg5, %arg6) {in_place = array<i64: -1, 4>}
// CHECK:   mm.rope
// CHECK:   mm.rope
// CHECK:   mm.attention {{.*}} cache
// CHECK:   mm.yield
// CHECK: return %[[K]]#0, %[[K]]#1
func.func @attention_with_rope(%q: tensor<?x?x4x8xf32>, %pos: tensor<?x?xi64>, %k: tensor<?x?x2x8xf32>,
                               %v: tensor<?x?x2x8xf32>, %kc: tensor<?x?x2x8xf32>, %vc: tensor<?x?x2x8xf32>,
                               %cp: tensor<?xi64>) -> (tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>) {
  %q2 = mm.rope %q, %pos {rotary_dim = 4 : i64, theta = 1.0e4 : f64} : (tensor<?x?x4x8xf32>, tensor<?x?xi64>) -> tensor<?x?x4x8xf32>
  %k2 = mm.rope %k, %pos {rotary_dim = 4 : i64, theta = 1.0e4 : f64} : (tensor<?x?x2x8xf32>, tensor<?x?xi64>) -> tensor<?x?x2x8xf32>
  %o, %kc2, %vc2 = mm.attention %q2, %k2, %v cache(%kc, %vc) at %cp {causal}
      : (tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?xi64>)
      -> (tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>)
  return %o, %kc2 : tensor<?x?x4x8xf32>, tensor<?x?x2x8xf32>
}

// -----

// A rotated query that something else also reads stays outside.
// CHECK-LABEL: func @shared_rope
// CHECK: %[[Q:.*]] = mm.rope
// CHECK: mm.kernel attention (%[[Q]]) :
// CHECK-NOT: mm.rope
// CHECK: return
func.func @shared_rope(%q: tensor<1x4x4x8xf32>, %pos: tensor<1x4xi64>) -> (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) {
  %q2 = mm.rope %q, %pos {rotary_dim = 8 : i64, theta = 1.0e4 : f64} : (tensor<1x4x4x8xf32>, tensor<1x4xi64>) -> tensor<1x4x4x8xf32>
  %o = mm.attention %q2, %q2, %q2 {causal} : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return %o, %q2 : tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>
}

// -----

// q, k and v sliced from one interleaved projection: the kernel reads it in
// place, and the state updates in place.
// CHECK-LABEL: func @lightning
// CHECK: mm.kernel lightning (%arg0, %arg1, %arg2) {in_place = array<i64: -1, 1>}
// CHECK-COUNT-3: mm.slice
// CHECK: mm.lightning_attention
func.func @lightning(%qkv: tensor<?x?x4x48xf32>, %s: tensor<?x4x16x16xf32>, %len: tensor<?xi64>)
    -> (tensor<?x?x4x16xf32>, tensor<?x4x16x16xf32>) {
  %q = mm.slice %qkv dim 3 [0 : 16] : (tensor<?x?x4x48xf32>) -> tensor<?x?x4x16xf32>
  %k = mm.slice %qkv dim 3 [16 : 32] : (tensor<?x?x4x48xf32>) -> tensor<?x?x4x16xf32>
  %v = mm.slice %qkv dim 3 [32 : 48] : (tensor<?x?x4x48xf32>) -> tensor<?x?x4x16xf32>
  %o, %s2 = mm.lightning_attention %q, %k, %v state(%s) lengths(%len) {layer_index = 0 : i64, num_layers = 2 : i64}
      : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x4x16x16xf32>, tensor<?xi64>)
      -> (tensor<?x?x4x16xf32>, tensor<?x4x16x16xf32>)
  return %o, %s2 : tensor<?x?x4x16xf32>, tensor<?x4x16x16xf32>
}

// -----

// Separate q, k, v tensors: only the attention op moves.
// CHECK-LABEL: func @lightning_separate
// CHECK: mm.kernel lightning (%arg0, %arg1, %arg2) :
// CHECK-NOT: mm.slice
func.func @lightning_separate(%q: tensor<1x8x2x4xf32>, %k: tensor<1x8x2x4xf32>, %v: tensor<1x8x2x4xf32>) -> tensor<1x8x2x4xf32> {
  %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 1 : i64, num_layers = 2 : i64}
      : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>) -> (tensor<1x8x2x4xf32>, tensor<1x2x4x4xf32>)
  return %o : tensor<1x8x2x4xf32>
}
