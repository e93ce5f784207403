// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss' -mm-training-step='function=loss beta2=0.95 epsilon=1e-15' | FileCheck %s
// RUN: not mm-opt %s -split-input-file -mm-training-step='function=loss' 2>&1 | FileCheck %s --check-prefix=NOGRAD
// RUN: not mm-opt %s -split-input-file -mm-autodiff='function=loss' -mm-training-step='function=loss beta1=1.5' 2>&1 | FileCheck %s --check-prefix=BETA

// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss' -mm-training-step='function=loss per-weight-step=true' | FileCheck %s --check-prefix=PERWEIGHT

// With per-weight-step, one step count per weight follows lr.
// PERWEIGHT-LABEL: func.func @loss_train_step(
// PERWEIGHT-SAME: %{{.*}}: tensor<f32> {mm.name = "lr"}, %{{.*}}: tensor<f32> {mm.name = "step.w"}, %{{.*}}: tensor<f32> {mm.name = "step.g"})

// NOGRAD: error: mm-training-step: no @loss_grad in the module (run -mm-autodiff='function=loss' first)
// BETA: error: mm-training-step: beta1 and beta2 must be in [0, 1), got 1.5

// Weights become arguments (then their moments, lr and step); results are
// the loss, the gradient norm and the updates, tagged with what they replace.
// The matrix decays, the norm gain does not.
// CHECK-LABEL: func.func @loss_train_step(
// CHECK-SAME: %{{.*}}: tensor<4x8xf32>, %{{.*}}: tensor<4xi64>, %[[W:.*]]: tensor<3x8xf32> {mm.name = "w"}, %[[G:.*]]: tensor<8xf32> {mm.name = "g"},
// CHECK-SAME: {mm.name = "adam_m.w"}, %{{.*}}: tensor<8xf32> {mm.name = "adam_m.g"}, %{{.*}}: tensor<3x8xf32> {mm.name = "adam_v.w"}, %{{.*}}: tensor<8xf32> {mm.name = "adam_v.g"},
// CHECK-SAME: %[[LR:.*]]: tensor<f32> {mm.name = "lr"}, %[[T:.*]]: tensor<f32> {mm.name = "step"})
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<3x8xf32> {mm.update_of = "w"}, tensor<8xf32> {mm.update_of = "g"}, tensor<3x8xf32> {mm.update_of = "adam_m.w"}, tensor<8xf32> {mm.update_of = "adam_m.g"}, tensor<3x8xf32> {mm.update_of = "adam_v.w"}, tensor<8xf32> {mm.update_of = "adam_v.g"})
// CHECK-NOT: mm.param
// CHECK: %[[NORM:.*]] = mm.sqrt
// CHECK: mm.min
// CHECK: arith.constant dense<-0.0512932949> : tensor<f32>
// CHECK: arith.constant dense<1.000000e-15> : tensor<f32>
// CHECK: return %{{.*}}, %[[NORM]],
func.func @loss(%x: tensor<4x8xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  %w = mm.param "w" : tensor<3x8xf32>
  %g = mm.param "g" : tensor<8xf32>
  %n = mm.rms_norm %x, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %l = mm.linear %n, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %c = mm.cross_entropy mean %l, %y : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return %c : tensor<f32>
}

// -----

// expected-error @+1 {{has no float mm.param weights to train}}
func.func @loss(%x: tensor<4xf32>) -> tensor<f32> {
  %l = mm.reduce sum %x dims [0] : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// @loss's other results (here the per-row losses, a metric) pass through
// after the gradient norm, before the updates.
// CHECK-LABEL: func.func @loss_train_step(
// CHECK-SAME: -> (tensor<f32>, tensor<f32>, tensor<4xf32>, tensor<3x8xf32> {mm.update_of = "w"},
// CHECK: return %{{.*}}, %{{.*}}, %[[ROWS:.*]], %{{.*}}, %{{.*}}, %{{.*}} :
func.func @loss(%x: tensor<4x8xf32>, %y: tensor<4xi64>) -> (tensor<f32>, tensor<4xf32>) {
  %w = mm.param "w" : tensor<3x8xf32>
  %l = mm.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %rows = mm.cross_entropy none %l, %y : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<4xf32>
  %c = mm.reduce mean %rows dims [0] : (tensor<4xf32>) -> tensor<f32>
  return %c, %rows : tensor<f32>, tensor<4xf32>
}


// -----

// A weight's split tags (the model's tensor / expert parallelism) move with
// it to its argument and to its moments': -mm-model-parallel splits all
// three alike (test/Passes/model-parallel-training.mlir).
// CHECK-LABEL: func.func @loss_train_step(
// CHECK-SAME: tensor<4x8xf32> {mm.name = "w", mm.tp_dim = 0 : i64}
// CHECK-SAME: tensor<4x8xf32> {mm.name = "adam_m.w", mm.tp_dim = 0 : i64}
// CHECK-SAME: tensor<4x8xf32> {mm.name = "adam_v.w", mm.tp_dim = 0 : i64}
func.func @loss(%x: tensor<2x8xf32>, %y: tensor<2xi64>) -> tensor<f32> {
  %w = mm.param "w" {mm.tp_dim = 0 : i64} : tensor<4x8xf32>
  %l = mm.linear %x, %w : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x4xf32>
  %c = mm.cross_entropy mean %l, %y : (tensor<2x4xf32>, tensor<2xi64>) -> tensor<f32>
  return %c : tensor<f32>
}
