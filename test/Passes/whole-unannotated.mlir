// RUN: mm-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(sharding-propagation{traversal=forward-backward},mm-whole-returns,sharding-propagation{traversal=forward-backward},mm-whole-unannotated))' | FileCheck %s
// RUN: mm-opt %s -split-input-file -mm-partition-pipeline | FileCheck %s --check-prefix=PART

// An experts' weight gradient whose only use is a norm: the gradient waits
// for its users' sharding, the reduction to a scalar for its input's, so the
// propagation annotates neither. They run whole (shard-partition crashed on
// them before this pass).
// CHECK-LABEL: func.func @gradient_norm_only(
// CHECK: %[[DW:.*]] = mm.grouped_matmul_weight_grad
// CHECK-NEXT: %[[S:.*]] = shard.sharding @tp split_axes = {{\[\[}}], [], []] : !shard.sharding
// CHECK-NEXT: %[[OWN:.*]] = shard.shard %[[DW]] to %[[S]] : tensor<4x6x8xf32>
// CHECK: shard.shard %[[OWN]] to %{{.*}} annotate_for_users : tensor<4x6x8xf32>
// CHECK: mm.mul
// CHECK: mm.reduce sum
// PART-LABEL: func.func @gradient_norm_only(
// PART: mm.grouped_matmul_weight_grad %{{.*}} : (tensor<6x6xf32>, tensor<6x8xf32>, tensor<5xi64>) -> tensor<4x6x8xf32>
// PART: mm.reduce sum
shard.grid @tp(shape = 2)
func.func @gradient_norm_only(%g: tensor<6x6xf32>, %x: tensor<6x8xf32>, %offsets: tensor<5xi64>) -> tensor<f32> {
  %whole = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %gs = shard.shard %g to %whole : tensor<6x6xf32>
  %dw = mm.grouped_matmul_weight_grad %gs, %x, %offsets : (tensor<6x6xf32>, tensor<6x8xf32>, tensor<5xi64>) -> tensor<4x6x8xf32>
  %sq = mm.mul %dw, %dw : (tensor<4x6x8xf32>, tensor<4x6x8xf32>) -> tensor<4x6x8xf32>
  %n = mm.reduce sum %sq dims [0, 1, 2] : (tensor<4x6x8xf32>) -> tensor<f32>
  return %n : tensor<f32>
}

// -----

// An argument read with no annotation, by a reduction to a scalar: whole.
// The split neighbour keeps its split.
// CHECK-LABEL: func.func @unannotated_argument(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<6x8xf32>
// CHECK: %[[S:.*]] = shard.sharding @tp split_axes = {{\[\[}}], []] : !shard.sharding
// CHECK-NEXT: shard.shard %[[X]] to %[[S]] : tensor<6x8xf32>
// CHECK: mm.reduce sum
// CHECK: shard.sharding @tp split_axes = {{\[\[}}0]]
// PART-LABEL: func.func @unannotated_argument(
// PART-SAME: %{{.*}}: tensor<6x8xf32>, %{{.*}}: tensor<3x8xf32>) -> (tensor<f32>, tensor<3x8xf32>)
shard.grid @tp(shape = 2)
func.func @unannotated_argument(%x: tensor<6x8xf32>, %y: tensor<6x8xf32>) -> (tensor<f32>, tensor<6x8xf32>) {
  %split = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ys = shard.shard %y to %split : tensor<6x8xf32>
  %n = mm.reduce sum %x dims [0, 1] : (tensor<6x8xf32>) -> tensor<f32>
  %z = mm.neg %ys : tensor<6x8xf32>
  return %n, %z : tensor<f32>, tensor<6x8xf32>
}
