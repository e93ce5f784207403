// Every mm op prints, re-parses and prints again identically; the generic form
// round-trips too.
// RUN: mm-opt %s -split-input-file | mm-opt -split-input-file | FileCheck %s
// RUN: mm-opt %s -split-input-file -mlir-print-op-generic | mm-opt -split-input-file | FileCheck %s

// CHECK-LABEL: func @elementwise
func.func @elementwise(%x: tensor<?x8xf32>, %b: tensor<8xf32>, %h: tensor<?x8xbf16>, %i: tensor<4xi64>) {
  // CHECK: mm.param "w" : tensor<8x8xf32>
  %w = mm.param "w" : tensor<8x8xf32>
  // CHECK: mm.silu %{{.*}} : tensor<?x8xf32>
  %0 = mm.silu %x : tensor<?x8xf32>
  // CHECK: mm.sigmoid
  %1 = mm.sigmoid %x : tensor<?x8xf32>
  // CHECK: mm.relu
  %2 = mm.relu %x : tensor<?x8xf32>
  // CHECK: mm.tanh
  %3 = mm.tanh %x : tensor<?x8xf32>
  // CHECK: mm.exp
  %4 = mm.exp %x : tensor<?x8xf32>
  // CHECK: mm.log
  %5 = mm.log %x : tensor<?x8xf32>
  // CHECK: mm.sqrt
  %6 = mm.sqrt %x : tensor<?x8xf32>
  // CHECK: mm.rsqrt
  %7 = mm.rsqrt %x : tensor<?x8xf32>
  // CHECK: mm.neg
  %8 = mm.neg %x : tensor<?x8xf32>
  // CHECK: mm.gelu %{{.*}} : tensor<?x8xf32>
  %9 = mm.gelu %x : tensor<?x8xf32>
  // CHECK: mm.gelu tanh %{{.*}} : tensor<?x8xf32>
  %10 = mm.gelu tanh %x : tensor<?x8xf32>
  // CHECK: mm.add %{{.*}}, %{{.*}} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  %11 = mm.add %x, %b : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mm.sub
  %12 = mm.sub %x, %b : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mm.mul
  %13 = mm.mul %x, %b : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mm.div
  %14 = mm.div %x, %b : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mm.max
  %15 = mm.max %x, %b : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mm.min
  %16 = mm.min %x, %b : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  // CHECK: mm.add %{{.*}}, %{{.*}} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %17 = mm.add %i, %i : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  // CHECK: mm.swiglu %{{.*}}, %{{.*}} : tensor<?x8xf32>
  %18 = mm.swiglu %x, %x : tensor<?x8xf32>
  // CHECK: mm.cast %{{.*}} : tensor<?x8xbf16> to tensor<?x8xf32>
  %19 = mm.cast %h : tensor<?x8xbf16> to tensor<?x8xf32>
  return
}

// -----

// CHECK-LABEL: func @norms_and_linear
func.func @norms_and_linear(%x: tensor<?x?x64xbf16>, %g: tensor<64xbf16>, %w: tensor<32x64xbf16>,
                            %b: tensor<32xbf16>, %ids: tensor<?x?xi64>, %t: tensor<100x64xbf16>,
                            %q: tensor<2x4x16x8xf32>, %k: tensor<2x4x16x8xf32>) {
  // CHECK: mm.rms_norm %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<?x?x64xbf16>, tensor<64xbf16>) -> tensor<?x?x64xbf16>
  %0 = mm.rms_norm %x, %g {epsilon = 1.0e-6 : f64} : (tensor<?x?x64xbf16>, tensor<64xbf16>) -> tensor<?x?x64xbf16>
  // CHECK: mm.rms_norm %{{.*}}, %{{.*}} : (tensor<?x?x64xbf16>
  %1 = mm.rms_norm %x, %g : (tensor<?x?x64xbf16>, tensor<64xbf16>) -> tensor<?x?x64xbf16>
  // CHECK: mm.layer_norm %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x?x64xbf16>
  %2 = mm.layer_norm %x, %g, %g : (tensor<?x?x64xbf16>, tensor<64xbf16>, tensor<64xbf16>) -> tensor<?x?x64xbf16>
  // CHECK: mm.linear %{{.*}}, %{{.*}} : (tensor<?x?x64xbf16>, tensor<32x64xbf16>) -> tensor<?x?x32xbf16>
  %3 = mm.linear %x, %w : (tensor<?x?x64xbf16>, tensor<32x64xbf16>) -> tensor<?x?x32xbf16>
  // CHECK: mm.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?x64xbf16>, tensor<32x64xbf16>, tensor<32xbf16>) -> tensor<?x?x32xbf16>
  %4 = mm.linear %x, %w, %b : (tensor<?x?x64xbf16>, tensor<32x64xbf16>, tensor<32xbf16>) -> tensor<?x?x32xbf16>
  // CHECK: mm.matmul %{{.*}}, %{{.*}} {transpose_rhs} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x16xf32>
  %5 = mm.matmul %q, %k {transpose_rhs} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x16x16xf32>
  // CHECK: mm.matmul %{{.*}}, %{{.*}} {transpose_lhs} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %6 = mm.matmul %q, %k {transpose_lhs} : (tensor<2x4x16x8xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  // CHECK: mm.embedding %{{.*}}, %{{.*}} : (tensor<100x64xbf16>, tensor<?x?xi64>) -> tensor<?x?x64xbf16>
  %7 = mm.embedding %t, %ids : (tensor<100x64xbf16>, tensor<?x?xi64>) -> tensor<?x?x64xbf16>
  // A vocab-parallel part: rows [%first, %first + 100) of 400.
  // CHECK: mm.embedding %{{.*}}, %{{.*}} rows_from(%{{.*}}) {vocab_size = 400 : i64} : (tensor<100x64xbf16>, tensor<?x?xi64>, tensor<1xi64>) -> tensor<?x?x64xbf16>
  %first = arith.constant dense<100> : tensor<1xi64>
  %8 = mm.embedding %t, %ids rows_from(%first) {vocab_size = 400 : i64} : (tensor<100x64xbf16>, tensor<?x?xi64>, tensor<1xi64>) -> tensor<?x?x64xbf16>
  return
}

// -----

// CHECK-LABEL: func @attention
func.func @attention(%q: tensor<?x?x8x16xf32>, %k: tensor<?x?x2x16xf32>, %v: tensor<?x?x2x16xf32>,
                     %pos: tensor<?x?xi64>, %q1: tensor<?x1x8x16xf32>, %k1: tensor<?x1x2x16xf32>,
                     %v1: tensor<?x1x2x16xf32>, %kc: tensor<?x64x2x16xf32>, %vc: tensor<?x64x2x16xf32>,
                     %cp: tensor<?xi64>, %s: tensor<?x8x16x16xf32>, %len: tensor<?xi32>,
                     %mask: tensor<?x?xf32>) {
  // CHECK: mm.rope %{{.*}}, %{{.*}} {rotary_dim = 8 : i64, theta = 1.000000e+07 : f64} : (tensor<?x?x8x16xf32>, tensor<?x?xi64>) -> tensor<?x?x8x16xf32>
  %0 = mm.rope %q, %pos {rotary_dim = 8 : i64, theta = 1.0e7 : f64} : (tensor<?x?x8x16xf32>, tensor<?x?xi64>) -> tensor<?x?x8x16xf32>
  // CHECK: mm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal} : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>) -> tensor<?x?x8x16xf32>
  %1 = mm.attention %q, %k, %v {causal} : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>) -> tensor<?x?x8x16xf32>
  // CHECK: mm.attention %{{.*}}, %{{.*}}, %{{.*}} {scale = 1.250000e-01 : f64}
  %2 = mm.attention %q, %k, %v {scale = 0.125 : f64} : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>) -> tensor<?x?x8x16xf32>
  // CHECK: mm.attention %{{.*}}, %{{.*}}, %{{.*}} cache(%{{.*}}, %{{.*}}) at %{{.*}} {causal} : (tensor<?x1x8x16xf32>, tensor<?x1x2x16xf32>, tensor<?x1x2x16xf32>, tensor<?x64x2x16xf32>, tensor<?x64x2x16xf32>, tensor<?xi64>) -> (tensor<?x1x8x16xf32>, tensor<?x64x2x16xf32>, tensor<?x64x2x16xf32>)
  %3:3 = mm.attention %q1, %k1, %v1 cache(%kc, %vc) at %cp {causal}
      : (tensor<?x1x8x16xf32>, tensor<?x1x2x16xf32>, tensor<?x1x2x16xf32>, tensor<?x64x2x16xf32>, tensor<?x64x2x16xf32>, tensor<?xi64>)
      -> (tensor<?x1x8x16xf32>, tensor<?x64x2x16xf32>, tensor<?x64x2x16xf32>)
  // CHECK: mm.attention %{{.*}}, %{{.*}}, %{{.*}} key_mask(%{{.*}}) {causal} : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xf32>) -> tensor<?x?x8x16xf32>
  %m = mm.attention %q, %k, %v key_mask(%mask) {causal} : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?xf32>) -> tensor<?x?x8x16xf32>
  // CHECK: mm.attention_grad %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} key_mask(%{{.*}}) {causal}
  %g:3 = mm.attention_grad %q, %k, %v, %m, %m key_mask(%mask) {causal}
      : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>, tensor<?x?xf32>)
      -> (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
  // CHECK: mm.lightning_attention %{{.*}}, %{{.*}}, %{{.*}} {layer_index = 0 : i64, num_layers = 8 : i64} : (tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>) -> (tensor<?x?x8x16xf32>, tensor<?x8x16x16xf32>)
  %4:2 = mm.lightning_attention %q, %q, %q {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>) -> (tensor<?x?x8x16xf32>, tensor<?x8x16x16xf32>)
  // CHECK: mm.lightning_attention %{{.*}}, %{{.*}}, %{{.*}} state(%{{.*}}) lengths(%{{.*}}) {block_size = 64 : i64, layer_index = 3 : i64, num_layers = 8 : i64}
  %5:2 = mm.lightning_attention %q, %q, %q state(%s) lengths(%len) {layer_index = 3 : i64, num_layers = 8 : i64, block_size = 64 : i64}
      : (tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>, tensor<?x8x16x16xf32>, tensor<?xi32>) -> (tensor<?x?x8x16xf32>, tensor<?x8x16x16xf32>)
  return
}

// -----

// CHECK-LABEL: func @moe
func.func @moe(%x: tensor<?x64xbf16>, %logits: tensor<?x8xf32>, %w: tensor<8x32x64xbf16>,
               %x3: tensor<?x?x64xbf16>, %logits3: tensor<?x?x8xf32>) {
  // CHECK: mm.moe_router %{{.*}} {top_k = 2 : i64} : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi64>)
  %rw, %re = mm.moe_router %logits {top_k = 2 : i64} : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi64>)
  // CHECK: mm.moe_router %{{.*}} {renormalize = false, top_k = 2 : i64}
  %nw, %ne = mm.moe_router %logits {top_k = 2 : i64, renormalize = false} : (tensor<?x8xf32>) -> (tensor<?x2xf32>, tensor<?x2xi64>)
  // CHECK: mm.moe_dispatch %{{.*}}, %{{.*}} {num_experts = 8 : i64} : (tensor<?x64xbf16>, tensor<?x2xi64>) -> (tensor<?x64xbf16>, tensor<9xi64>, tensor<?xi64>)
  %d, %off, %ord = mm.moe_dispatch %x, %re {num_experts = 8 : i64} : (tensor<?x64xbf16>, tensor<?x2xi64>) -> (tensor<?x64xbf16>, tensor<9xi64>, tensor<?xi64>)
  // CHECK: mm.grouped_matmul %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x64xbf16>, tensor<8x32x64xbf16>, tensor<9xi64>) -> tensor<?x32xbf16>
  %h = mm.grouped_matmul %d, %w, %off : (tensor<?x64xbf16>, tensor<8x32x64xbf16>, tensor<9xi64>) -> tensor<?x32xbf16>
  // CHECK: mm.moe_combine %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x32xbf16>, tensor<?xi64>, tensor<?x2xf32>) -> tensor<?x32xbf16>
  %y = mm.moe_combine %h, %ord, %rw : (tensor<?x32xbf16>, tensor<?xi64>, tensor<?x2xf32>) -> tensor<?x32xbf16>
  // Token dims other than one flat dim pass through.
  // CHECK: mm.moe_router %{{.*}} {top_k = 2 : i64} : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  %bw, %be = mm.moe_router %logits3 {top_k = 2 : i64} : (tensor<?x?x8xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  // CHECK: mm.moe_dispatch %{{.*}}, %{{.*}} {num_experts = 8 : i64} : (tensor<?x?x64xbf16>, tensor<?x?x2xi64>) -> (tensor<?x64xbf16>, tensor<9xi64>, tensor<?xi64>)
  %bd, %boff, %bord = mm.moe_dispatch %x3, %be {num_experts = 8 : i64} : (tensor<?x?x64xbf16>, tensor<?x?x2xi64>) -> (tensor<?x64xbf16>, tensor<9xi64>, tensor<?xi64>)
  // CHECK: mm.moe_combine %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x64xbf16>, tensor<?xi64>, tensor<?x?x2xf32>) -> tensor<?x?x64xbf16>
  %by = mm.moe_combine %bd, %bord, %bw : (tensor<?x64xbf16>, tensor<?xi64>, tensor<?x?x2xf32>) -> tensor<?x?x64xbf16>
  return
}

// -----

// CHECK-LABEL: func @reductions
func.func @reductions(%x: tensor<4x?x16xf32>) {
  // CHECK: mm.softmax %{{.*}} : tensor<4x?x16xf32>
  %0 = mm.softmax %x : tensor<4x?x16xf32>
  // CHECK: mm.log_softmax %{{.*}} {dim = 1 : i64} : tensor<4x?x16xf32>
  %1 = mm.log_softmax %x {dim = 1 : i64} : tensor<4x?x16xf32>
  // CHECK: mm.reduce sum %{{.*}} dims [0, -1] : (tensor<4x?x16xf32>) -> tensor<?xf32>
  %2 = mm.reduce sum %x dims [0, -1] : (tensor<4x?x16xf32>) -> tensor<?xf32>
  // CHECK: mm.reduce max %{{.*}} dims [1] keep_dims : (tensor<4x?x16xf32>) -> tensor<4x1x16xf32>
  %3 = mm.reduce max %x dims [1] keep_dims : (tensor<4x?x16xf32>) -> tensor<4x1x16xf32>
  // CHECK: mm.reduce mean
  %4 = mm.reduce mean %x dims [2] : (tensor<4x?x16xf32>) -> tensor<4x?xf32>
  // CHECK: mm.reduce min
  %5 = mm.reduce min %x dims [2] : (tensor<4x?x16xf32>) -> tensor<4x?xf32>
  // CHECK: mm.reduce prod
  %6 = mm.reduce prod %x dims [2] : (tensor<4x?x16xf32>) -> tensor<4x?xf32>
  // CHECK: mm.top_k %{{.*}} {k = 3 : i64} : (tensor<4x?x16xf32>) -> (tensor<4x?x3xf32>, tensor<4x?x3xi64>)
  %7:2 = mm.top_k %x {k = 3 : i64} : (tensor<4x?x16xf32>) -> (tensor<4x?x3xf32>, tensor<4x?x3xi64>)
  // CHECK: mm.argmax %{{.*}} : (tensor<4x?x16xf32>) -> tensor<4x?xi64>
  %8 = mm.argmax %x : (tensor<4x?x16xf32>) -> tensor<4x?xi64>
  // CHECK: mm.argmax %{{.*}} {dim = 0 : i64, keep_dims} : (tensor<4x?x16xf32>) -> tensor<1x?x16xi64>
  %9 = mm.argmax %x {dim = 0 : i64, keep_dims} : (tensor<4x?x16xf32>) -> tensor<1x?x16xi64>
  return
}

// -----

// CHECK-LABEL: func @shapes
func.func @shapes(%x: tensor<?x?x512xf32>, %y: tensor<2x3x4xf32>, %idx: tensor<?xi64>, %lab: tensor<?x?xi64>) {
  // CHECK: mm.reshape %{{.*}} [0, 0, 4, 128] : (tensor<?x?x512xf32>) -> tensor<?x?x4x128xf32>
  %0 = mm.reshape %x [0, 0, 4, 128] : (tensor<?x?x512xf32>) -> tensor<?x?x4x128xf32>
  // CHECK: mm.reshape %{{.*}} [-1, 4] : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  %1 = mm.reshape %y [-1, 4] : (tensor<2x3x4xf32>) -> tensor<6x4xf32>
  // CHECK: mm.transpose %{{.*}} [0, 2, 1, 3] : (tensor<?x?x4x128xf32>) -> tensor<?x4x?x128xf32>
  %2 = mm.transpose %0 [0, 2, 1, 3] : (tensor<?x?x4x128xf32>) -> tensor<?x4x?x128xf32>
  // CHECK: mm.concat %{{.*}}, %{{.*}} dim 1 : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
  %3 = mm.concat %y, %y dim 1 : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x6x4xf32>
  // CHECK: mm.slice %{{.*}} dim 1 [-1 :] : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %4 = mm.slice %y dim 1 [-1 :] : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  // CHECK: mm.slice %{{.*}} dim 2 [0 : 4 : 2] : (tensor<2x3x4xf32>) -> tensor<2x3x2xf32>
  %5 = mm.slice %y dim 2 [0 : 4 : 2] : (tensor<2x3x4xf32>) -> tensor<2x3x2xf32>
  // CHECK: mm.gather %{{.*}}, %{{.*}} {batch_dims = 1 : i64, dim = 1 : i64} : (tensor<?x?x512xf32>, tensor<?xi64>) -> tensor<?x512xf32>
  %6 = mm.gather %x, %idx {dim = 1 : i64, batch_dims = 1 : i64} : (tensor<?x?x512xf32>, tensor<?xi64>) -> tensor<?x512xf32>
  // CHECK: mm.gather %{{.*}}, %{{.*}} {dim = 0 : i64} : (tensor<2x3x4xf32>, tensor<?xi64>) -> tensor<?x3x4xf32>
  %7 = mm.gather %y, %idx {dim = 0 : i64} : (tensor<2x3x4xf32>, tensor<?xi64>) -> tensor<?x3x4xf32>
  // CHECK: mm.scatter_add %{{.*}}, %{{.*}}, %{{.*}} {dim = 0 : i64} : (tensor<2x3x4xf32>, tensor<?xi64>, tensor<?x3x4xf32>) -> tensor<2x3x4xf32>
  %8 = mm.scatter_add %y, %idx, %7 {dim = 0 : i64} : (tensor<2x3x4xf32>, tensor<?xi64>, tensor<?x3x4xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

// CHECK-LABEL: func @losses
func.func @losses(%logits: tensor<?x?x100xf32>, %labels: tensor<?x?xi64>, %lp: tensor<?x?xf32>,
                  %adv: tensor<?xf32>, %x: tensor<?xf32>, %n: tensor<f32>) {
  // CHECK: mm.cross_entropy mean %{{.*}}, %{{.*}} : (tensor<?x?x100xf32>, tensor<?x?xi64>) -> tensor<f32>
  %0 = mm.cross_entropy mean %logits, %labels : (tensor<?x?x100xf32>, tensor<?x?xi64>) -> tensor<f32>
  // CHECK: mm.cross_entropy none %{{.*}}, %{{.*}} {ignore_index = 0 : i64} : (tensor<?x?x100xf32>, tensor<?x?xi64>) -> tensor<?x?xf32>
  %1 = mm.cross_entropy none %logits, %labels {ignore_index = 0 : i64} : (tensor<?x?x100xf32>, tensor<?x?xi64>) -> tensor<?x?xf32>
  // CHECK: mm.policy_loss cispo %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {eps_low = 1.000000e+01 : f64} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  %2 = mm.policy_loss cispo %lp, %lp, %adv, %lp {eps_low = 10.0 : f64, eps_high = 0.2 : f64}
      : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  // CHECK: mm.policy_loss ppo_clip %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<f32>
  %3 = mm.policy_loss ppo_clip %lp, %lp, %lp, %lp : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>) -> tensor<f32>
  // CHECK: mm.policy_loss ppo_clip per sequence %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  %5 = mm.policy_loss ppo_clip per sequence %lp, %lp, %adv, %lp : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  // `per token` is the default and is not printed.
  // CHECK: mm.policy_loss ppo_clip %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}}, %{{[^ ]*}} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  %6 = mm.policy_loss ppo_clip per token %lp, %lp, %adv, %lp : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  // CHECK: mm.policy_loss cispo %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {log_ratio_clamp = 7.000000e+02 : f64, ratio_cap = 5.000000e+00 : f64} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  %7 = mm.policy_loss cispo %lp, %lp, %adv, %lp {ratio_cap = 5.0 : f64, log_ratio_clamp = 700.0 : f64}
      : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
  // CHECK: mm.policy_loss ppo_clip %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} normalized_by %{{.*}} {dual_clip = 3.000000e+00 : f64, eps_high = 2.800000e-01 : f64} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>, tensor<f32>) -> tensor<f32>
  %8 = mm.policy_loss ppo_clip %lp, %lp, %adv, %lp normalized_by %n {eps_high = 0.28 : f64, dual_clip = 3.0 : f64}
      : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>, tensor<f32>) -> tensor<f32>
  // CHECK: mm.policy_loss cispo per sequence %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} normalized_by %{{.*}} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<f32>) -> tensor<f32>
  %9 = mm.policy_loss cispo per sequence %lp, %lp, %lp, %lp normalized_by %n
      : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<f32>) -> tensor<f32>
  // CHECK: mm.sigmoid_bce sum %{{.*}}, %{{.*}} : (tensor<?xf32>, tensor<?xf32>) -> tensor<f32>
  %4 = mm.sigmoid_bce sum %x, %x : (tensor<?xf32>, tensor<?xf32>) -> tensor<f32>
  return
}

// -----

// CHECK-LABEL: func @vision
func.func @vision(%img: tensor<?x3x336x336xf32>, %w: tensor<64x3x14x14xf32>, %b: tensor<64xf32>,
                  %e: tensor<?x?x64xf32>, %ids: tensor<?x?xi64>, %f: tensor<?x64xf32>) {
  // CHECK: mm.conv2d %{{.*}}, %{{.*}}, %{{.*}} {strides = array<i64: 14, 14>} : (tensor<?x3x336x336xf32>, tensor<64x3x14x14xf32>, tensor<64xf32>) -> tensor<?x64x24x24xf32>
  %0 = mm.conv2d %img, %w, %b {strides = array<i64: 14, 14>} : (tensor<?x3x336x336xf32>, tensor<64x3x14x14xf32>, tensor<64xf32>) -> tensor<?x64x24x24xf32>
  // CHECK: mm.conv2d %{{.*}}, %{{.*}} {dilation = array<i64: 2, 2>, padding = array<i64: 3, 3>} : (tensor<?x3x336x336xf32>, tensor<64x3x14x14xf32>) -> tensor<?x64x316x316xf32>
  %1 = mm.conv2d %img, %w {padding = array<i64: 3, 3>, dilation = array<i64: 2, 2>} : (tensor<?x3x336x336xf32>, tensor<64x3x14x14xf32>) -> tensor<?x64x316x316xf32>
  // CHECK: mm.merge_image_features %{{.*}}, %{{.*}}, %{{.*}} {image_token_id = 7 : i64} : (tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  %2 = mm.merge_image_features %e, %ids, %f {image_token_id = 7 : i64} : (tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<?x64xf32>) -> tensor<?x?x64xf32>
  // CHECK: mm.merge_image_features_grad %{{.*}}, %{{.*}}, %{{.*}} {image_token_id = 7 : i64} : (tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<?x64xf32>) -> tensor<?x64xf32>
  %3 = mm.merge_image_features_grad %e, %ids, %f {image_token_id = 7 : i64} : (tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<?x64xf32>) -> tensor<?x64xf32>
  return
}

// -----

// CHECK-LABEL: func @recsys
func.func @recsys(%x: tensor<?x50x16xf32>, %w: tensor<16x16x3xf32>, %b: tensor<16xf32>,
                  %wih: tensor<48x16xf32>, %whh: tensor<48x16xf32>, %bb: tensor<48xf32>,
                  %h0: tensor<?x16xf32>, %mask: tensor<?x50xf32>, %t: tensor<?x16xf32>,
                  %fields: tensor<?x6x16xf32>) {
  // CHECK: mm.conv1d %{{.*}}, %{{.*}} {dilation = 2 : i64, padding = array<i64: 2, 2>} : (tensor<?x50x16xf32>, tensor<16x16x3xf32>) -> tensor<?x50x16xf32>
  %0 = mm.conv1d %x, %w {dilation = 2 : i64, padding = array<i64: 2, 2>} : (tensor<?x50x16xf32>, tensor<16x16x3xf32>) -> tensor<?x50x16xf32>
  // CHECK: mm.conv1d %{{.*}}, %{{.*}}, %{{.*}} {padding = array<i64: 2, 0>} : (tensor<?x50x16xf32>, tensor<16x16x3xf32>, tensor<16xf32>) -> tensor<?x50x16xf32>
  %1 = mm.conv1d %x, %w, %b {padding = array<i64: 2, 0>} : (tensor<?x50x16xf32>, tensor<16x16x3xf32>, tensor<16xf32>) -> tensor<?x50x16xf32>
  // CHECK: mm.gru %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x50x16xf32>, tensor<48x16xf32>, tensor<48x16xf32>, tensor<48xf32>, tensor<48xf32>) -> (tensor<?x50x16xf32>, tensor<?x16xf32>)
  %2:2 = mm.gru %x, %wih, %whh, %bb, %bb : (tensor<?x50x16xf32>, tensor<48x16xf32>, tensor<48x16xf32>, tensor<48xf32>, tensor<48xf32>) -> (tensor<?x50x16xf32>, tensor<?x16xf32>)
  // CHECK: mm.gru {{.*}} init(%{{.*}}) :
  %3:2 = mm.gru %x, %wih, %whh, %bb, %bb init(%h0) : (tensor<?x50x16xf32>, tensor<48x16xf32>, tensor<48x16xf32>, tensor<48xf32>, tensor<48xf32>, tensor<?x16xf32>) -> (tensor<?x50x16xf32>, tensor<?x16xf32>)
  // CHECK: mm.pool mean %{{.*}} mask(%{{.*}}) dim 1 : (tensor<?x50x16xf32>, tensor<?x50xf32>) -> tensor<?x16xf32>
  %4 = mm.pool mean %x mask(%mask) dim 1 : (tensor<?x50x16xf32>, tensor<?x50xf32>) -> tensor<?x16xf32>
  // CHECK: mm.pool max %{{.*}} dim 1 : (tensor<?x50x16xf32>) -> tensor<?x16xf32>
  %5 = mm.pool max %x dim 1 : (tensor<?x50x16xf32>) -> tensor<?x16xf32>
  // CHECK: mm.pool sum
  %6 = mm.pool sum %x dim 1 : (tensor<?x50x16xf32>) -> tensor<?x16xf32>
  // CHECK: mm.target_attention %{{.*}}, %{{.*}} mask(%{{.*}}) : (tensor<?x50x16xf32>, tensor<?x16xf32>, tensor<?x50xf32>) -> tensor<?x16xf32>
  %7 = mm.target_attention %x, %t mask(%mask) : (tensor<?x50x16xf32>, tensor<?x16xf32>, tensor<?x50xf32>) -> tensor<?x16xf32>
  // CHECK: mm.target_attention %{{.*}}, %{{.*}} {scale = 1.000000e+00 : f64} : (tensor<?x50x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %8 = mm.target_attention %x, %t {scale = 1.0 : f64} : (tensor<?x50x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  // CHECK: mm.hadamard_interaction %{{.*}} [array<i64: 0, 1>, array<i64: 2, 3, 5>] : (tensor<?x6x16xf32>) -> tensor<?x2x16xf32>
  %9 = mm.hadamard_interaction %fields [array<i64: 0, 1>, array<i64: 2, 3, 5>] : (tensor<?x6x16xf32>) -> tensor<?x2x16xf32>
  return
}

// -----

// CHECK-LABEL: func @supernet
func.func @supernet(%x: tensor<?x8xf32>, %sel: tensor<i64>) -> tensor<?x8xf32> {
  // CHECK: mm.choice "block0.act" %{{.*}} : tensor<i64> -> (tensor<?x8xf32>) {
  // CHECK:   mm.relu
  // CHECK:   mm.yield %{{.*}} : tensor<?x8xf32>
  // CHECK: }, {
  // CHECK:   mm.yield %{{.*}} : tensor<?x8xf32>
  // CHECK: }
  %y = mm.choice "block0.act" %sel : tensor<i64> -> (tensor<?x8xf32>) {
    %a = mm.relu %x : tensor<?x8xf32>
    mm.yield %a : tensor<?x8xf32>
  }, {
    mm.yield %x : tensor<?x8xf32>
  }
  return %y : tensor<?x8xf32>
}

// -----

// Collectives come from the upstream shard dialect.
// CHECK-LABEL: func @collectives
shard.grid @tp(shape = 4)
func.func @collectives(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // CHECK: shard.all_reduce %{{.*}} on @tp grid_axes = [0]
  %0 = shard.all_reduce %x on @tp grid_axes = [0] : tensor<?x8xf32> -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// CHECK-LABEL: func @kernel
func.func @kernel(%x: tensor<?x64xf32>, %w: tensor<32x64xf32>, %r: tensor<?x32xf32>) -> tensor<?x32xf32> {
  // CHECK: mm.kernel gemm (%{{.*}}, %{{.*}}, %{{.*}}) {in_place = array<i64: 2>} : (tensor<?x64xf32>, tensor<32x64xf32>, tensor<?x32xf32>) -> tensor<?x32xf32> {
  // CHECK: ^bb0(%{{.*}}: tensor<?x64xf32>, %{{.*}}: tensor<32x64xf32>, %{{.*}}: tensor<?x32xf32>):
  // CHECK:   mm.linear
  // CHECK:   mm.add
  // CHECK:   mm.yield
  %0 = mm.kernel gemm (%x, %w, %r) {in_place = array<i64: 2>} : (tensor<?x64xf32>, tensor<32x64xf32>, tensor<?x32xf32>) -> tensor<?x32xf32> {
  ^bb0(%a: tensor<?x64xf32>, %b: tensor<32x64xf32>, %c: tensor<?x32xf32>):
    %1 = mm.linear %a, %b : (tensor<?x64xf32>, tensor<32x64xf32>) -> tensor<?x32xf32>
    %2 = mm.add %1, %c : (tensor<?x32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
    mm.yield %2 : tensor<?x32xf32>
  }
  return %0 : tensor<?x32xf32>
}

// -----

// A generation step (ir/GenerationStep.h): the step inputs' roles and the
// symbols by role survive printing and parsing.
// CHECK-LABEL: func @step
// CHECK-SAME: mm.step_input = "token_ids"
// CHECK-SAME: mm.step_input = "lengths"
// CHECK-SAME: mm.generation_step = {all_logits = false, batch = "B", logits = 0 : i64, tokens = "T"}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64, all_logits = false}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}
