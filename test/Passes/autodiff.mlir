// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss' | FileCheck %s
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss recompute=layers' | FileCheck %s --check-prefix=RECOMPUTE
// RUN: not mm-opt %s -split-input-file -mm-autodiff='function=nosuch' 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not mm-opt %s -split-input-file -mm-autodiff 2>&1 | FileCheck %s --check-prefix=NONAME

// MISSING: error: mm-autodiff: no function @nosuch in the module
// NONAME: error: mm-autodiff needs function=NAME

// @loss_grad keeps @loss and its argument attributes; it returns the loss,
// then d/d(float argument) in order (the integer ids get none), then
// d/d(weight) by name in order of first appearance. The tied weight "emb",
// read twice, gets the sum of both uses' gradients; the unused weight gets
// zeros; the embedding gradient is a scatter-add.
// CHECK-LABEL: func.func @loss(
// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: %[[IDS:.*]]: tensor<?xi64> {mm.dims = ["N"]}, %[[X:.*]]: tensor<?x4xf32> {mm.dims = ["N", ""], mm.name = "x"})
// CHECK-SAME: -> (tensor<f32>, tensor<?x4xf32> {mm.gradient_of = "x"}, tensor<6x4xf32> {mm.gradient_of = "emb"}, tensor<4xf32> {mm.gradient_of = "unused"})
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: mm.scatter_add {{.*}} {dim = 0 : i64}
// CHECK: %[[TIED:.*]] = mm.add
// CHECK: %[[ZERO:.*]] = mm.zeros_like %{{.*}} : tensor<4xf32>
// CHECK: return %{{.*}}, %{{.*}}, %[[TIED]], %[[ZERO]]
func.func @loss(%ids: tensor<?xi64> {mm.dims = ["N"]}, %x: tensor<?x4xf32> {mm.dims = ["N", ""], mm.name = "x"}) -> tensor<f32> {
  %emb = mm.param "emb" : tensor<6x4xf32>
  %unused = mm.param "unused" : tensor<4xf32>
  %e = mm.embedding %emb, %ids : (tensor<6x4xf32>, tensor<?xi64>) -> tensor<?x4xf32>
  %h = mm.mul %e, %x : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %emb2 = mm.param "emb" : tensor<6x4xf32>
  %logits = mm.linear %h, %emb2 : (tensor<?x4xf32>, tensor<6x4xf32>) -> tensor<?x6xf32>
  %l = mm.cross_entropy mean %logits, %ids : (tensor<?x6xf32>, tensor<?xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// recompute=layers: the backward of layer 0 reads a recomputed copy (marked
// mm.recomputed, so CSE keeps it apart); ops outside the layer are not copied.
// RECOMPUTE-LABEL: func.func @loss_grad(
// RECOMPUTE: %[[H:.*]] = mm.tanh %arg0 : tensor<4x8xf32>
// RECOMPUTE: %[[Y:.*]] = mm.linear %[[H]], %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// RECOMPUTE: %[[S:.*]] = mm.silu %[[Y]]
// RECOMPUTE: mm.reduce sum %[[S]]
// RECOMPUTE: %[[Y2:.*]] = mm.linear %[[H]], %{{.*}} {mm.recomputed}
// RECOMPUTE: mm.sigmoid %[[Y2]]
// RECOMPUTE-NOT: mm.tanh %arg0 {mm.recomputed}
// CHECK-LABEL: func.func @loss_grad(
// CHECK-NOT: mm.recomputed
func.func @loss(%x: tensor<4x8xf32>) -> tensor<f32> {
  %w = mm.param "w" : tensor<8x8xf32> loc("layers.0.fc")
  %h = mm.tanh %x : tensor<4x8xf32> loc("embed")
  %y = mm.linear %h, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("layers.0.fc")
  %s = mm.silu %y : tensor<4x8xf32> loc("layers.0")
  %l = mm.reduce sum %s dims [0, 1] : (tensor<4x8xf32>) -> tensor<f32> loc("head")
  return %l : tensor<f32>
}

// -----

// Softmax attention differentiates through the flash-style backward op.
// CHECK-LABEL: func.func @loss_grad(
// CHECK: mm.attention_grad %arg0, %arg1, %arg2, %{{.*}}, %{{.*}} {causal}
func.func @loss(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf32>) -> tensor<f32> {
  %o = mm.attention %q, %k, %v {causal} : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>) -> tensor<1x4x2x8xf32>
  %l = mm.reduce sum %o dims [0, 1, 2, 3] : (tensor<1x4x2x8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A key mask passes to the backward op and gets no gradient of its own.
// CHECK-LABEL: func.func @loss_grad(
// CHECK: mm.attention_grad %arg0, %arg1, %arg2, %{{.*}}, %{{.*}} key_mask(%arg3) {causal}
func.func @loss(%q: tensor<1x4x2x8xf32>, %k: tensor<1x4x2x8xf32>, %v: tensor<1x4x2x8xf32>, %m: tensor<1x4xf32>) -> tensor<f32> {
  %o = mm.attention %q, %k, %v key_mask(%m) {causal} : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4xf32>) -> tensor<1x4x2x8xf32>
  %l = mm.reduce sum %o dims [0, 1, 2, 3] : (tensor<1x4x2x8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// Lightning attention: its state gradient is zeros when only the output is used.
// CHECK-LABEL: func.func @loss_grad(
// CHECK: %[[DS:.*]] = mm.zeros_like %{{.*}} : tensor<1x2x4x4xf32>
// CHECK: mm.lightning_attention_grad %arg0, %arg1, %arg2, %{{.*}}, %[[DS]] {block_size = 2 : i64, layer_index = 0 : i64, num_layers = 1 : i64}
func.func @loss(%q: tensor<1x5x2x4xf32>, %k: tensor<1x5x2x4xf32>, %v: tensor<1x5x2x4xf32>) -> tensor<f32> {
  %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 0 : i64, num_layers = 1 : i64, block_size = 2 : i64} : (tensor<1x5x2x4xf32>, tensor<1x5x2x4xf32>, tensor<1x5x2x4xf32>) -> (tensor<1x5x2x4xf32>, tensor<1x2x4x4xf32>)
  %l = mm.reduce sum %o dims [0, 1, 2, 3] : (tensor<1x5x2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A rank's block of the heads: the gradient keeps head_index and total_heads
// (its heads' slopes among all).
// CHECK-LABEL: func.func @loss_grad(
// CHECK: mm.lightning_attention_grad %arg0, %arg1, %arg2, %{{.*}}, %{{.*}} head_index(%arg3) {block_size = 2 : i64, layer_index = 0 : i64, num_layers = 1 : i64, total_heads = 4 : i64}
func.func @loss(%q: tensor<1x5x2x4xf32>, %k: tensor<1x5x2x4xf32>, %v: tensor<1x5x2x4xf32>, %heads: tensor<2xi64>) -> tensor<f32> {
  %o, %s = mm.lightning_attention %q, %k, %v head_index(%heads) {layer_index = 0 : i64, num_layers = 1 : i64, block_size = 2 : i64, total_heads = 4 : i64} : (tensor<1x5x2x4xf32>, tensor<1x5x2x4xf32>, tensor<1x5x2x4xf32>, tensor<2xi64>) -> (tensor<1x5x2x4xf32>, tensor<1x2x4x4xf32>)
  %l = mm.reduce sum %o dims [0, 1, 2, 3] : (tensor<1x5x2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The router's expert choice is constant; argmax's is refused.
func.func @loss(%x: tensor<3x5xf32>, %t: tensor<5x4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'mm.argmax' op has no gradient: the loss depends on its integer result #0}}
  %i = mm.argmax %x {dim = -1 : i64} : (tensor<3x5xf32>) -> tensor<3xi64>
  %e = mm.embedding %t, %i : (tensor<5x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  %l = mm.reduce sum %e dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A backward op has no rule of its own (no second derivatives).
func.func @loss(%x: tensor<3x5xf32>, %y: tensor<3xi64>, %g: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'mm.cross_entropy_grad' op has no gradient rule}}
  %d = mm.cross_entropy_grad mean %x, %y, %g : (tensor<3x5xf32>, tensor<3xi64>, tensor<f32>) -> tensor<3x5xf32>
  %l = mm.reduce sum %d dims [0, 1] : (tensor<3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// VL-01's merge: the embeddings' gradient is g with zero rows merged in at
// the placeholders; the features' gradient is g's rows there.
// CHECK-LABEL: func.func @loss_grad(%{{.*}}: tensor<1x4x3xf32>
// CHECK-SAME: %[[IDS:[^:]*]]: tensor<1x4xi64>, %[[F:[^:]*]]: tensor<2x3xf32>)
// CHECK: %[[Z:.*]] = mm.zeros_like %[[F]]
// CHECK: %[[DE:.*]] = mm.merge_image_features %[[G:.*]], %[[IDS]], %[[Z]] {image_token_id = 7 : i64}
// CHECK: %[[DF:.*]] = mm.merge_image_features_grad %[[G]], %[[IDS]], %[[F]] {image_token_id = 7 : i64}
// CHECK: return %{{.*}}, %[[DE]], %[[DF]]
func.func @loss(%e: tensor<1x4x3xf32>, %ids: tensor<1x4xi64>, %f: tensor<2x3xf32>) -> tensor<f32> {
  %m = mm.merge_image_features %e, %ids, %f {image_token_id = 7 : i64} : (tensor<1x4x3xf32>, tensor<1x4xi64>, tensor<2x3xf32>) -> tensor<1x4x3xf32>
  %l = mm.reduce sum %m dims [0, 1, 2] : (tensor<1x4x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @loss(%t: tensor<3x4xf32>, %ids: tensor<5xi64>, %first: tensor<1xi64>) -> tensor<f32> {
  // expected-error @+1 {{'mm.embedding' op the gradient of a vocab-parallel part (rows_from) is not built}}
  %h = mm.embedding %t, %ids rows_from(%first) {vocab_size = 6 : i64} : (tensor<3x4xf32>, tensor<5xi64>, tensor<1xi64>) -> tensor<5x4xf32>
  %l = mm.reduce sum %h dims [0, 1] : (tensor<5x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// The GRU's gradient is one mm.gru_grad (backpropagation through time); an
// absent initial state is zeros, and an unused sequence result's gradient too.
// CHECK-LABEL: func.func @loss_grad(
// CHECK: %[[SEQ:[a-z_0-9]+]], %[[LAST:[a-z_0-9]+]] = mm.gru
// CHECK: mm.add
// CHECK-NEXT: %[[H0:.*]] = mm.zeros_like %[[LAST]]
// CHECK-NEXT: %[[GS:.*]] = mm.zeros_like %[[SEQ]]
// CHECK-NEXT: mm.gru_grad %arg0, %arg1, %arg2, %arg3, %arg4, %[[H0]], %[[SEQ]], %[[GS]],
func.func @loss(%x: tensor<2x3x4xf32>, %wih: tensor<6x4xf32>, %whh: tensor<6x2xf32>, %bih: tensor<6xf32>, %bhh: tensor<6xf32>) -> tensor<f32> {
  %s, %h = mm.gru %x, %wih, %whh, %bih, %bhh : (tensor<2x3x4xf32>, tensor<6x4xf32>, tensor<6x2xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<2x3x2xf32>, tensor<2x2xf32>)
  %l = mm.reduce sum %h dims [0, 1] : (tensor<2x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{result #0 must be a float scalar}}
func.func @loss(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = mm.tanh %x : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// expected-error @+1 {{cannot be differentiated into @loss_grad: the module already has a symbol of that name}}
func.func @loss(%x: tensor<4xf32>) -> tensor<f32> {
  %l = mm.reduce sum %x dims [0] : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
func.func @loss_grad() {
  return
}
