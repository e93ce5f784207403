// Data parallel over a grid axis: every gradient and the loss are averaged
// over the ranks (all_reduce sum, times 1/size) before the norm.
// RUN: mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=dp' | FileCheck %s --check-prefix=DP
// RUN: mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=dp zero1=true' | FileCheck %s --check-prefix=ZERO
// RUN: mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=dp zero1=true dp-weight=true' | FileCheck %s --check-prefix=WEIGHT
// RUN: not mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-weight=true' 2>&1 | FileCheck %s --check-prefix=NOWEIGHT
// RUN: not mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=dp zero1=true split-tags=mm.tp' 2>&1 | FileCheck %s --check-prefix=BADTAG
// RUN: not mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=nogrid' 2>&1 | FileCheck %s --check-prefix=NOGRID
// RUN: not mm-opt %s -mm-autodiff='function=loss' -mm-training-step='function=loss zero1=true' 2>&1 | FileCheck %s --check-prefix=NOZERO
// DP-LABEL: func.func @loss_train_step(
// DP: %[[GW:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
// DP: %[[HALF:.*]] = arith.constant dense<5.000000e-01> : tensor<f32>
// DP: mm.mul %[[GW]], %[[HALF]]
// DP: shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<3x4xf32> -> tensor<3x4xf32>
// DP: %[[L:.*]] = shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<f32> -> tensor<f32>
// DP: %[[LOSS:.*]] = mm.mul %[[L]],
// DP: mm.sqrt
// DP: return %[[LOSS]],
// NOGRID: error: mm-training-step: dp-grid=nogrid dp-axis=0 does not name a static axis of a shard.grid in the module
// NOZERO: error: mm-training-step: zero1 needs dp-grid

// ZeRO-1: w's leading dim 4 splits over 2 ranks, so its moments are its 2
// rows, its gradient is reduce-scattered and its new value all-gathered;
// w3 (3 rows) keeps whole moments and an all_reduce.
// ZERO-LABEL: func.func @loss_train_step(
// ZERO-SAME: tensor<4x8xf32> {mm.name = "w"}, %{{.*}}: tensor<3x4xf32> {mm.name = "w3"}, %{{.*}}: tensor<2x8xf32> {mm.name = "adam_m.w"}, %{{.*}}: tensor<3x4xf32> {mm.name = "adam_m.w3"}, %{{.*}}: tensor<2x8xf32> {mm.name = "adam_v.w"}
// ZERO-SAME: -> (tensor<f32>, tensor<f32>, tensor<4x8xf32> {mm.update_of = "w"}, tensor<3x4xf32> {mm.update_of = "w3"}, tensor<2x8xf32> {mm.update_of = "adam_m.w"}
// ZERO: shard.reduce_scatter %{{.*}} on @dp grid_axes = [0] scatter_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
// ZERO: shard.all_reduce %{{.*}} on @dp grid_axes = [0] : tensor<3x4xf32> -> tensor<3x4xf32>
// ZERO: %[[SQ:.*]] = mm.reduce sum %{{.*}} dims [0, 1] : (tensor<2x8xf32>) -> tensor<f32>
// ZERO: shard.all_reduce %[[SQ]] on @dp grid_axes = [0] : tensor<f32> -> tensor<f32>
// ZERO: shard.all_slice %{{.*}} on @dp grid_axes = [0] slice_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
// ZERO: shard.all_gather %{{.*}} on @dp grid_axes = [0] gather_axis = 0 : tensor<2x8xf32> -> tensor<4x8xf32>
// dp-weight: the rank's share of the loss terms is the last argument; each
// value is scaled by it before the sum (no 1/size after).
// WEIGHT-LABEL: func.func @loss_train_step(
// WEIGHT-SAME: %[[WT:[a-z0-9]+]]: tensor<f32> {mm.name = "dp_weight"})
// WEIGHT: %[[G:.*]] = mm.mul %{{.*}}, %[[WT]] : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
// WEIGHT-NEXT: shard.reduce_scatter %[[G]] on @dp grid_axes = [0] scatter_axis = 0 : tensor<4x8xf32> -> tensor<2x8xf32>
// WEIGHT: %[[G3:.*]] = mm.mul %{{.*}}, %[[WT]] : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>
// WEIGHT-NEXT: shard.all_reduce %[[G3]] on @dp grid_axes = [0] : tensor<3x4xf32> -> tensor<3x4xf32>
// WEIGHT: %[[L:.*]] = mm.mul %{{.*}}, %[[WT]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// WEIGHT-NEXT: %[[LOSS:.*]] = shard.all_reduce %[[L]] on @dp grid_axes = [0] : tensor<f32> -> tensor<f32>
// WEIGHT: return %[[LOSS]],
// NOWEIGHT: error: mm-training-step: dp-weight needs dp-grid
// BADTAG: error: mm-training-step: split-tags: 'mm.tp' is not a split tag (mm.tp_dim, mm.ep_dim, mm.etp_dim or mm.vocab_dim)
shard.grid @dp(shape = 2)
func.func @loss(%x: tensor<4x8xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  %w = mm.param "w" : tensor<4x8xf32>
  %h = mm.linear %x, %w : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x4xf32>
  %w3 = mm.param "w3" : tensor<3x4xf32>
  %logits = mm.linear %h, %w3 : (tensor<4x4xf32>, tensor<3x4xf32>) -> tensor<4x3xf32>
  %l = mm.cross_entropy mean %logits, %y : (tensor<4x3xf32>, tensor<4xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
