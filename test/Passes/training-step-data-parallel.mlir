// Data parallel over a grid axis: every gradient and the loss are averaged
// over the ranks (all_reduce sum, times 1/size) before the norm.
// RUN: mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=dp' | FileCheck %s --check-prefix=DP
// RUN: not mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=nogrid' 2>&1 | FileCheck %s --check-prefix=NOGRID
// DP-LABEL: func.func @loss_train_step(
// DP: %[[GW:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<3x8xf32> -> tensor<3x8xf32>
// DP: %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// DP: mm.mul %[[GW]], %[[HALF]]
// DP: %[[L:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<f32> -> tensor<f32>
// DP: %[[LOSS:.*]] = mm.mul %[[L]],
// DP: mm.sqrt
// DP: return %[[LOSS]],
// NOGRID: error: mm-training-step: dp-grid=nogrid dp-axis=0 does not name a static axis of a shard.grid in the module
shard.grid @dp(shape = 2)
func.func @loss(%x: tensor<4x8xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  %w = mm.param "w" : tensor<3x8xf32>
  %logits = mm.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  %l = mm.cross_entropy mean %logits, %y : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
