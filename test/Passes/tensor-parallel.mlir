// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-tensor-parallel=tp=2 | FileCheck %s
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-tensor-parallel=tp=2 -mm-partition-pipeline | FileCheck %s --check-prefix=PART
// RUN: mm-opt %s -split-input-file -mm-tensor-parallel=tp=1 2>&1 | FileCheck %s --check-prefix=ONE

// The model tags how tensor parallelism cuts each projection (mm.tp_dim:
// 0 column parallel, 1 row parallel); the pass annotates those params on a
// grid @tp and leaves the rest to sharding propagation, which splits the
// activation between the two projections and reduces once after them.
// CHECK: shard.grid @tp(shape = 2)
// CHECK-LABEL: func.func @mlp
// CHECK: %[[W1:.*]] = mm.param "w1" {mm.tp_dim = 0 : i64}
// CHECK: %[[S1:.*]] = shard.sharding @tp split_axes = {{\[\[}}0]] : !shard.sharding
// CHECK: %[[A1:.*]] = shard.shard %[[W1]] to %[[S1]] annotate_for_users
// CHECK: %[[W2:.*]] = mm.param "w2" {mm.tp_dim = 1 : i64}
// CHECK: %[[S2:.*]] = shard.sharding @tp split_axes = {{\[\[}}], [0]] : !shard.sharding
// CHECK: shard.shard %[[W2]] to %[[S2]] annotate_for_users
// CHECK: mm.param "g" : tensor<8xf32>
// CHECK-NOT: shard.shard
// CHECK: mm.linear %{{.*}}, %[[A1]]
// PART-LABEL: func.func @mlp
// PART: mm.param "w1" {mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>], mm.tp_dim = 0 : i64} : tensor<8x8xf32>
// PART: mm.param "w2" {mm.grid = @tp, mm.split_axes = [array<i16>, array<i16: 0>], mm.tp_dim = 1 : i64} : tensor<8x8xf32>
// PART: mm.silu
// PART: %[[P:.*]] = mm.linear %{{.*}} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// PART: shard.all_reduce %[[P]] on @tp grid_axes = [0]
// ONE-NOT: shard.
func.func @mlp(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w1 = mm.param "w1" {mm.tp_dim = 0 : i64} : tensor<16x8xf32>
  %w2 = mm.param "w2" {mm.tp_dim = 1 : i64} : tensor<8x16xf32>
  %g = mm.param "g" : tensor<8xf32>
  %h = mm.linear %x, %w1 : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = mm.silu %h : tensor<4x16xf32>
  %y = mm.linear %a, %w2 : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %o = mm.rms_norm %y, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// -----

// A tagged dim that does not divide by tp is an error naming the param.
func.func @odd(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
  // expected-error @+1 {{'mm.param' op dim 0 of 'tensor<3x8xf32>' does not split into 2 tensor-parallel parts}}
  %w = mm.param "w" {mm.tp_dim = 0 : i64} : tensor<3x8xf32>
  %y = mm.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}
