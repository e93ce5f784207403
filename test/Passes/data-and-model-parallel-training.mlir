// A training step both data and tensor parallel: -mm-training-step averages
// over the leading dp axis of the grid that -mm-model-parallel (with its dp)
// then splits the weights over, and the partition runs those collectives on
// each rank's parts (ir/CollectiveShardingModels.cpp).
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss' -mm-training-step='function=loss dp-grid=tp zero1 split-tags=mm.tp_dim' -mm-model-parallel="tp=2 dp=2" -mm-partition-pipeline | FileCheck %s

// Megatron's MLP on 2 replicas of 2 tp ranks. w1 (column parallel, split
// along dim 0) keeps whole moments of its part; w2 (row parallel) takes
// ZeRO-1 rows of its part: 4 of its part's 8 rows of moments. The gradients
// are averaged over axis 0 (the replicas) as parts: neither gradient is
// gathered; the tp partial sums reduce over axis 1.
// CHECK-LABEL: func.func @loss_train_step(
// CHECK-SAME: %{{.*}}: tensor<4x8xf32>, %{{.*}}: tensor<4xi64>, %[[W1:[a-z0-9]+]]: tensor<8x8xf32> {mm.name = "w1", mm.tp_dim = 0 : i64}, %[[W2:[a-z0-9]+]]: tensor<8x8xf32> {mm.name = "w2", mm.tp_dim = 1 : i64}
// CHECK-SAME: tensor<8x8xf32> {mm.name = "adam_m.w1", mm.tp_dim = 0 : i64}, %{{.*}}: tensor<4x8xf32> {mm.name = "adam_m.w2", mm.tp_dim = 1 : i64}
// CHECK: %[[P:.*]] = mm.linear %{{.*}}, %[[W2]] : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK: shard.all_reduce %[[P]] on @tp grid_axes = [1] : tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK: %[[DW2:.*]] = mm.matmul %{{.*}} {transpose_lhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
// CHECK: %[[DW1:.*]] = mm.matmul %{{.*}} {transpose_lhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
// CHECK: shard.all_reduce %[[DW1]] on @tp grid_axes = [0] : tensor<8x8xf32> -> tensor<8x8xf32>
// CHECK: shard.reduce_scatter %[[DW2]] on @tp grid_axes = [0] scatter_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
// CHECK: shard.all_reduce %{{.*}} on @tp grid_axes = [0] : tensor<f32> -> tensor<f32>
// CHECK: shard.all_slice %[[W2]] on @tp grid_axes = [0] slice_axis = 0 : tensor<8x8xf32> -> tensor<4x8xf32>
// CHECK: %[[NEW:.*]] = shard.all_gather %{{.*}} on @tp grid_axes = [0] gather_axis = 0 : tensor<4x8xf32> -> tensor<8x8xf32>
// CHECK: return %{{.*}}, %{{.*}}, %{{.*}}, %[[NEW]], {{.*}} : tensor<f32>, tensor<f32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>, tensor<8x8xf32>, tensor<4x8xf32>
shard.grid @tp(shape = 2x2)
func.func @loss(%x: tensor<4x8xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  %w1 = mm.param "w1" {mm.tp_dim = 0 : i64} : tensor<16x8xf32>
  %w2 = mm.param "w2" {mm.tp_dim = 1 : i64} : tensor<8x16xf32>
  %h = mm.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = mm.silu %h : tensor<4x16xf32>
  %o = mm.linear %a, %w2 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %c = mm.cross_entropy mean %o, %y : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<f32>
  return %c : tensor<f32>
}

// -----

// The step's grid must be the one -mm-model-parallel would make.
// expected-error @+1 {{the module already has a symbol @tp that is not the grid of dp=2 tp=2 ep=1 etp=1 cp=1 (shape = 2x2)}}
shard.grid @tp(shape = 3)
func.func @loss(%x: tensor<4x8xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  %w1 = mm.param "w1" {mm.tp_dim = 0 : i64} : tensor<16x8xf32>
  %h = mm.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %o = mm.reduce sum %h dims [1] : (tensor<4x16xf32>) -> tensor<4xf32>
  %c = mm.reduce sum %o dims [0] : (tensor<4xf32>) -> tensor<f32>
  return %c : tensor<f32>
}
