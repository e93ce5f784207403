// RUN: mm-opt %s -split-input-file -mm-whole-returns | FileCheck %s
// RUN: mm-opt %s -split-input-file -mm-partition-pipeline | FileCheck %s --check-prefix=PART

// A returned value nothing connects to a split is returned whole on the
// grid of the others (shard-partition needs a sharding for each).
shard.grid @tp(shape = 2)
// CHECK-LABEL: func.func @mixed
// CHECK: %[[W:.*]] = shard.sharding @tp split_axes = {{\[\[}}], []] : !shard.sharding
// CHECK: %[[M:.*]] = shard.shard %{{.*}} to %[[W]] : tensor<4x7xf32>
// CHECK: return %{{.*}}, %[[M]]
// PART-LABEL: func.func @mixed
// PART: shard.all_gather
// PART: return
func.func @mixed(%h: tensor<4x16xf32>, %g: tensor<4x16xf32>) -> (tensor<4x8xf32>, tensor<4x7xf32>) {
  %w = mm.param "head" : tensor<8x16xf32>
  %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ws = shard.shard %w to %s annotate_for_users : tensor<8x16xf32>
  %odd = mm.param "odd" : tensor<7x16xf32>
  %l = mm.linear %h, %ws : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %m = mm.linear %g, %odd : (tensor<4x16xf32>, tensor<7x16xf32>) -> tensor<4x7xf32>
  %r = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %lr = shard.shard %l to %r : tensor<4x8xf32>
  return %lr, %m : tensor<4x8xf32>, tensor<4x7xf32>
}

// -----

// An argument nothing reads is whole too (shard-partition crashes on an
// argument with no sharding once others have one).
shard.grid @tp(shape = 2)
// CHECK-LABEL: func.func @unread_argument
// CHECK: %[[W:.*]] = shard.sharding @tp split_axes = {{\[\[}}]] : !shard.sharding
// CHECK: shard.shard %arg1 to %[[W]] annotate_for_users : tensor<3xi64>
// PART-LABEL: func.func @unread_argument
// PART-SAME: %{{.*}}: tensor<4x16xf32>, %{{.*}}: tensor<3xi64>) -> tensor<4x4xf32>
func.func @unread_argument(%h: tensor<4x16xf32>, %unread: tensor<3xi64>) -> tensor<4x8xf32> {
  %w = mm.param "head" : tensor<8x16xf32>
  %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ws = shard.shard %w to %s annotate_for_users : tensor<8x16xf32>
  %l = mm.linear %h, %ws : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %r = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %lr = shard.shard %l to %r : tensor<4x8xf32>
  return %lr : tensor<4x8xf32>
}

// -----

// No returned value carries a sharding: nothing to do.
// CHECK-LABEL: func.func @none
// CHECK-NOT: shard.
func.func @none(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = mm.silu %x : tensor<4xf32>
  return %y : tensor<4xf32>
}
