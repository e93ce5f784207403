// RUN: mm-opt %s -split-input-file --pass-pipeline="builtin.module(func.func(sharding-propagation,mm-whole-returns,sharding-propagation,mm-stepwise-reshards))" | FileCheck %s
// RUN: mm-opt %s -split-input-file -mm-partition-pipeline | FileCheck %s --check-prefix=PART

// Logits split over both axes of a 2x2 grid (tensor parallelism on a
// [tp / ep, ep] grid), returned whole: one grid axis per step, the last
// added first, so shard-partition gathers over axis 1 and then axis 0
// (it crashes on a reshard of two axes at once).
shard.grid @tp(shape = 2x2)
// CHECK-LABEL: func.func @gather_two_axes
// CHECK: %[[S:.*]] = shard.sharding @tp split_axes = {{\[\[}}], [0, 1]] : !shard.sharding
// CHECK: %[[A:.*]] = shard.shard %{{.*}} to %[[S]] annotate_for_users : tensor<?x8xf32>
// CHECK: %[[M:.*]] = shard.sharding @tp split_axes = {{\[\[}}], [0]] : !shard.sharding
// CHECK: %[[B:.*]] = shard.shard %[[A]] to %[[M]] : tensor<?x8xf32>
// CHECK: %[[C:.*]] = shard.shard %[[B]] to %[[M]] annotate_for_users : tensor<?x8xf32>
// CHECK: %[[R:.*]] = shard.shard %[[C]] to %{{.*}} : tensor<?x8xf32>
// CHECK: return %[[R]]
// PART-LABEL: func.func @gather_two_axes
// PART: %[[G1:.*]] = shard.all_gather %{{.*}} on @tp grid_axes = [1] gather_axis = 1 : tensor<?x2xf32> -> tensor<?x4xf32>
// PART: shard.all_gather %[[G1]] on @tp grid_axes = [0] gather_axis = 1 : tensor<?x4xf32> -> tensor<?x8xf32>
func.func @gather_two_axes(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %cols = shard.sharding @tp split_axes = [[0, 1]] : !shard.sharding
  %w = mm.param "w" : tensor<8x8xf32>
  %ws = shard.shard %w to %cols annotate_for_users : tensor<8x8xf32>
  %y = mm.linear %x, %ws : (tensor<?x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %whole = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %yw = shard.shard %y to %whole : tensor<?x8xf32>
  return %yw : tensor<?x8xf32>
}

// -----

// A whole value read split over both axes: all_slice over axis 0, then
// axis 1 (no communication either way).
shard.grid @tp(shape = 2x2)
// PART-LABEL: func.func @slice_two_axes
// PART: %[[S1:.*]] = shard.all_slice %{{.*}} on @tp grid_axes = [0] slice_axis = 0 : tensor<8x4xf32> -> tensor<4x4xf32>
// PART: shard.all_slice %[[S1]] on @tp grid_axes = [1] slice_axis = 0 : tensor<4x4xf32> -> tensor<2x4xf32>
func.func @slice_two_axes(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %whole = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %xw = shard.shard %x to %whole : tensor<8x4xf32>
  %rows = shard.sharding @tp split_axes = [[0, 1]] : !shard.sharding
  %xs = shard.shard %xw to %rows annotate_for_users : tensor<8x4xf32>
  %y = mm.relu %xs : tensor<8x4xf32>
  %ys = shard.shard %y to %rows : tensor<8x4xf32>
  return %ys : tensor<8x4xf32>
}

// -----

// One axis at a time already: left alone.
shard.grid @tp(shape = 2x2)
// CHECK-LABEL: func.func @one_axis
// CHECK-COUNT-2: = shard.sharding
// CHECK-NOT: = shard.sharding
func.func @one_axis(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %whole = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %xw = shard.shard %x to %whole : tensor<8x4xf32>
  %rows = shard.sharding @tp split_axes = [[1]] : !shard.sharding
  %xs = shard.shard %xw to %rows annotate_for_users : tensor<8x4xf32>
  return %xs : tensor<8x4xf32>
}

// -----

// A grid axis moving between dims (upstream's all_to_all) is left alone:
// slicing it into its new dim first would name the axis twice.
shard.grid @tp(shape = 2)
// CHECK-LABEL: func.func @move
// CHECK-COUNT-2: = shard.sharding
// CHECK-NOT: = shard.sharding
// PART-LABEL: func.func @move
// PART: shard.all_to_all
func.func @move(%x: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %rows = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %xr = shard.shard %x to %rows : tensor<4x4xf32>
  %cols = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xc = shard.shard %xr to %cols annotate_for_users : tensor<4x4xf32>
  %y = mm.relu %xc : tensor<4x4xf32>
  %yc = shard.shard %y to %cols : tensor<4x4xf32>
  return %yc : tensor<4x4xf32>
}
