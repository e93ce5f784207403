// The partitioned training step: -mm-autodiff and -mm-training-step, then
// -mm-model-parallel (its handling of a training step's arguments and
// updates; the pass's own cases are in model-parallel.mlir) and the
// partition pipeline.
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss' -mm-training-step='function=loss' -mm-model-parallel="tp=2" | FileCheck %s
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss' -mm-training-step='function=loss' -mm-model-parallel="tp=2" -mm-partition-pipeline | FileCheck %s --check-prefix=PART
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-autodiff='function=loss' -mm-training-step='function=loss' -mm-model-parallel="tp=2 ep=2" -mm-partition-pipeline | FileCheck %s --check-prefix=EP

// A training step (Megatron's MLP, column then row parallel): the tagged
// weights and their moments enter split, every other argument whole, and each
// update leaves split as its weight came in, so a rank keeps its parts.
// CHECK-LABEL: func.func @loss_train_step(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x8xf32>, %{{.*}}: tensor<4xi64>, %[[W1:[a-z0-9]+]]: tensor<16x8xf32> {mm.name = "w1", mm.tp_dim = 0 : i64}
// CHECK: shard.shard %[[X]] to %{{.*}} : tensor<4x8xf32>
// CHECK: %[[S1:.*]] = shard.sharding @tp split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK-NEXT: shard.shard %[[W1]] to %[[S1]] : tensor<16x8xf32>
// CHECK: return
// Each rank's program: its rows of w1 and columns of w2 (and of their
// moments) in and out. The forward's partial sum is reduced once, after the
// row-parallel projection (Megatron's g); the weights' gradients are local
// products of local parts; the clipping norm adds each rank's sums of squares
// with one scalar all_reduce per weight. Nothing is gathered.
// PART-LABEL: func.func @loss_train_step(
// PART-SAME: %[[X:[a-z0-9]+]]: tensor<4x8xf32>, %{{.*}}: tensor<4xi64>, %[[W1:[a-z0-9]+]]: tensor<8x8xf32> {mm.name = "w1", mm.tp_dim = 0 : i64}, %[[W2:[a-z0-9]+]]: tensor<8x8xf32> {mm.name = "w2", mm.tp_dim = 1 : i64}
// PART-SAME: -> (tensor<f32>, tensor<f32>, tensor<8x8xf32> {mm.update_of = "w1"}, tensor<8x8xf32> {mm.update_of = "w2"},
// PART-NOT: shard.all_gather
// PART: %[[H:.*]] = mm.linear %[[X]], %[[W1]] : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// PART: %[[A:.*]] = mm.silu %[[H]]
// PART: %[[P:.*]] = mm.linear %[[A]], %[[W2]] : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// PART: %[[O:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
// PART: %[[DO:.*]] = mm.cross_entropy_grad mean %[[O]]
// PART: mm.matmul %[[DO]], %[[A]] {transpose_lhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
// PART: mm.matmul %{{.*}}, %[[X]] {transpose_lhs} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
// PART: %[[SQ:.*]] = mm.reduce sum %{{.*}} dims [0, 1] : (tensor<8x8xf32>) -> tensor<f32>
// PART: shard.all_reduce %[[SQ]] on @tp grid_axes = [0] : tensor<f32> -> tensor<f32>
// PART-NOT: shard.all_gather
// PART: return
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

// The experts under expert parallelism (tp=2 ep=2), after a whole
// projection: a rank's 2 of the 4 experts and their moments in and out. The
// backward splits as the forward: the weight gradient is computed for the
// rank's experts only and the input gradient multiplies by the rank's
// experts transposed (one all_reduce completes its rows), both from the
// rank's block of the group offsets. The clipping norm sums the squares of
// the rank's experts' gradients, then one scalar all_reduce. No expert
// weight or gradient is gathered.
// EP-LABEL: func.func @loss_train_step(%arg0: tensor<6x8xf32>
// EP-SAME: %{{.*}}: tensor<5xi64>, %{{.*}}: tensor<6xi64>, %{{.*}}: tensor<8x8xf32> {mm.name = "wp"}, %[[W:[a-z0-9]+]]: tensor<2x6x8xf32> {mm.ep_dim = 0 : i64, mm.name = "wexp"}
// EP-NOT: shard.all_gather
// EP: mm.grouped_matmul %{{.*}}, %[[W]], %{{.*}} : (tensor<6x8xf32>, tensor<2x6x8xf32>, tensor<3xi64>) -> tensor<6x6xf32>
// EP: %[[WT:.*]] = mm.transpose %[[W]] [0, 2, 1] : (tensor<2x6x8xf32>) -> tensor<2x8x6xf32>
// EP: %[[DX:.*]] = mm.grouped_matmul %{{.*}}, %[[WT]], %{{.*}} : (tensor<6x6xf32>, tensor<2x8x6xf32>, tensor<3xi64>) -> tensor<6x8xf32>
// EP: shard.all_reduce %[[DX]] on @tp grid_axes = [0]
// EP: %[[DW:.*]] = mm.grouped_matmul_weight_grad %{{.*}} : (tensor<6x6xf32>, tensor<6x8xf32>, tensor<3xi64>) -> tensor<2x6x8xf32>
// EP: %[[SQ:.*]] = mm.mul %[[DW]], %[[DW]] : (tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32>
// EP: %[[S:.*]] = mm.reduce sum %[[SQ]] dims [0, 1, 2]
// EP: shard.all_reduce %[[S]] on @tp grid_axes = [0] : tensor<f32> -> tensor<f32>
// EP-NOT: shard.all_gather
// EP: return
func.func @loss(%x: tensor<6x8xf32>, %offsets: tensor<5xi64>, %y: tensor<6xi64>) -> tensor<f32> {
  %wp = mm.param "wp" : tensor<8x8xf32>
  %w = mm.param "wexp" {mm.ep_dim = 0 : i64} : tensor<4x6x8xf32>
  %p = mm.linear %x, %wp : (tensor<6x8xf32>, tensor<8x8xf32>) -> tensor<6x8xf32>
  %h = mm.grouped_matmul %p, %w, %offsets : (tensor<6x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<6x6xf32>
  %c = mm.cross_entropy mean %h, %y : (tensor<6x6xf32>, tensor<6xi64>) -> tensor<f32>
  return %c : tensor<f32>
}
