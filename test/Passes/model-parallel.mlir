// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-model-parallel="tp=2 ep=2" | FileCheck %s
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-model-parallel="tp=2 ep=2" -mm-partition-pipeline | FileCheck %s --check-prefix=PART
// RUN: mm-opt %s -split-input-file -mm-model-parallel=tp=1 2>&1 | FileCheck %s --check-prefix=ONE
// With nothing to split (tp=1) a grid @tp already there must still be the layout's.
// RUN: echo 'shard.grid @tp(shape = 3)' | not mm-opt -mm-model-parallel="tp=1 dp=2" 2>&1 | FileCheck %s --check-prefix=TPONE
// RUN: echo 'shard.grid @tp(shape = 2)' | mm-opt -mm-model-parallel="tp=1 dp=2" | FileCheck %s --check-prefix=TPONEOK
// TPONE: the module already has a symbol @tp that is not the grid of dp=2 tp=1 ep=1 etp=1 cp=1 (shape = 2)
// TPONEOK: shard.grid @tp(shape = 2)
// Context parallel: a training step's tokens (mm.cp_dim) are each rank's
// chunk of the sequence, over the cp axis: after dp, before the tp axes.
// RUN: echo 'func.func @f(%%ids: tensor<?x?xi64> {mm.cp_dim = 1 : i64, mm.dims = ["B", "T"]}) -> tensor<?x?xi64> { return %%ids : tensor<?x?xi64> }' | mm-opt -mm-model-parallel="tp=2 cp=2 dp=3" | FileCheck %s --check-prefix=CP
// CP: shard.grid @tp(shape = 3x2x2)
// CP: %[[S:.*]] = shard.sharding @tp split_axes = {{\[\[\], \[1\]\]}} : !shard.sharding
// CP: shard.shard %arg0 to %[[S]] : tensor<?x?xi64>
// A static token dim cp does not divide is refused, naming it.
// RUN: echo 'func.func @f(%%ids: tensor<2x5xi64> {mm.cp_dim = 1 : i64}) -> tensor<2x5xi64> { return %%ids : tensor<2x5xi64> }' | not mm-opt -mm-model-parallel="cp=2" 2>&1 | FileCheck %s --check-prefix=CPODD
// CPODD: dim 1 of 'tensor<2x5xi64>' does not split into 2 parts (mm.cp_dim)

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

// Constants without a tag (a scalar among them) are left as they are.
// CHECK-LABEL: func.func @untagged_constants
// CHECK: arith.constant 1.000000e+00 : f32
// CHECK-NOT: shard.shard
func.func @untagged_constants(%x: tensor<4xf32>) -> (f32, tensor<4xf32>) {
  %c = arith.constant 1.0 : f32
  %t = arith.constant dense<2.0> : tensor<4xf32>
  %y = mm.mul %x, %t : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %c, %y : f32, tensor<4xf32>
}

// -----

// A tagged dim that does not divide by tp is an error naming the param.
func.func @odd(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
  // expected-error-re @+1 {{'mm.param' op dim 0 of 'tensor<3x8xf32>' does not split into {{[24]}} parts (mm.tp_dim)}}
  %w = mm.param "w" {mm.tp_dim = 0 : i64} : tensor<3x8xf32>
  %y = mm.linear %x, %w : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Experts (mm.ep_dim) split over ep of the tp ranks: with ep = tp on the one
// axis; each rank computes its experts' rows from its block of the group
// offsets (starts and ends all_sliced, the last end appended), and one
// all_reduce completes every row.
// CHECK-LABEL: func.func @experts
// CHECK: %[[W:.*]] = mm.param "w" {mm.ep_dim = 0 : i64}
// CHECK: shard.sharding @tp split_axes = {{\[\[}}0]] : !shard.sharding
// PART-LABEL: func.func @experts
// PART: mm.param "w" {mm.ep_dim = 0 : i64, mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>, array<i16>]} : tensor<2x6x8xf32>
// PART: %[[S:.*]] = mm.slice %{{.*}} dim 0 [0 : 4]
// PART: %[[MS:.*]] = shard.all_slice %[[S]] on @tp grid_axes = [0] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
// PART: %[[E:.*]] = mm.slice %{{.*}} dim 0 [1 : 5]
// PART: %[[ME:.*]] = shard.all_slice %[[E]] on @tp grid_axes = [0] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
// PART: %[[LAST:.*]] = mm.slice %[[ME]] dim 0 [1 : 2]
// PART: %[[OFF:.*]] = mm.concat %[[MS]], %[[LAST]] dim 0
// PART: %[[Y:.*]] = mm.grouped_matmul %{{.*}}, %{{.*}}, %[[OFF]] : (tensor<?x8xf32>, tensor<2x6x8xf32>, tensor<3xi64>) -> tensor<?x6xf32>
// PART: shard.all_reduce %[[Y]] on @tp grid_axes = [0]
func.func @experts(%x: tensor<?x8xf32>, %offsets: tensor<5xi64>) -> tensor<?x6xf32> {
  %w = mm.param "w" {mm.ep_dim = 0 : i64} : tensor<4x6x8xf32>
  %y = mm.grouped_matmul %x, %w, %offsets : (tensor<?x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

// -----

// ep dividing tp: a [tp / ep, ep] grid, experts on its fastest axis, the
// dense splits over both axes.
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-model-parallel="tp=4 ep=2" | FileCheck %s --check-prefix=GRID
// GRID: shard.grid @tp(shape = 2x2)
// GRID-LABEL: func.func @both
// GRID: shard.sharding @tp split_axes = {{\[\[}}0, 1]] : !shard.sharding
// GRID: shard.sharding @tp split_axes = {{\[\[}}1]] : !shard.sharding
func.func @both(%x: tensor<4x8xf32>, %offsets: tensor<5xi64>) -> (tensor<4x8xf32>, tensor<4x6xf32>) {
  %wq = mm.param "wq" {mm.tp_dim = 0 : i64} : tensor<8x8xf32>
  %w = mm.param "w" {mm.ep_dim = 0 : i64} : tensor<4x6x8xf32>
  %q = mm.linear %x, %wq : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %y = mm.grouped_matmul %x, %w, %offsets : (tensor<4x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<4x6xf32>
  return %q, %y : tensor<4x8xf32>, tensor<4x6xf32>
}

// -----

// An LM head splits its vocabulary where it divides (Megatron's
// vocab-parallel output layer) and stays whole where it does not; a result
// marked mm.replicated is returned whole, so the split logits are gathered.
// CHECK-LABEL: func.func @lm_head
// PART-LABEL: func.func @lm_head
// PART-SAME: -> (tensor<4x8xf32> {mm.replicated}, tensor<4x7xf32>)
// PART: mm.param "head" {mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>], mm.vocab_dim = 0 : i64} : tensor<4x16xf32>
// PART: mm.param "odd" {mm.vocab_dim = 0 : i64} : tensor<7x16xf32>
// PART: %[[L:.*]] = mm.linear %{{.*}} : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<4x4xf32>
// PART: %[[G:.*]] = shard.all_gather %[[L]] on @tp grid_axes = [0] gather_axis = 1 : tensor<4x4xf32> -> tensor<4x8xf32>
// PART: return %[[G]]
func.func @lm_head(%h: tensor<4x16xf32>) -> (tensor<4x8xf32> {mm.replicated}, tensor<4x7xf32>) {
  %w = mm.param "head" {mm.vocab_dim = 0 : i64} : tensor<8x16xf32>
  %odd = mm.param "odd" {mm.vocab_dim = 0 : i64} : tensor<7x16xf32>
  %l = mm.linear %h, %w : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %m = mm.linear %h, %odd : (tensor<4x16xf32>, tensor<7x16xf32>) -> tensor<4x7xf32>
  return %l, %m : tensor<4x8xf32>, tensor<4x7xf32>
}

// -----

// Expert tensor parallelism (mm.etp_dim): each expert's FFN width split, as
// Megatron's column- / row-parallel expert linears, on the [ep, etp] grid of
// tp=4 ep=2 etp=2 (no replicas). Each rank holds 2 of the 4 experts and 3 of
// their 6 FFN columns: w1's rows of its experts' groups need the experts'
// all_reduce only; w2's partial sums, one all_reduce over both axes.
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-model-parallel="tp=4 ep=2 etp=2" | FileCheck %s --check-prefix=ETP
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-model-parallel="tp=4 ep=2 etp=2" -mm-partition-pipeline | FileCheck %s --check-prefix=ETPPART
// ETP: shard.grid @tp(shape = 2x2)
// ETP-LABEL: func.func @expert_width
// ETP: mm.param "w1" {mm.ep_dim = 0 : i64, mm.etp_dim = 1 : i64} : tensor<4x6x8xf32>
// ETP: shard.sharding @tp split_axes = {{\[\[}}0], [1]] : !shard.sharding
// ETP: mm.param "w2" {mm.ep_dim = 0 : i64, mm.etp_dim = 2 : i64} : tensor<4x8x6xf32>
// ETP: shard.sharding @tp split_axes = {{\[\[}}0], [], [1]] : !shard.sharding
// ETPPART-LABEL: func.func @expert_width
// ETPPART: %[[G1:.*]] = mm.grouped_matmul %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x8xf32>, tensor<2x3x8xf32>, tensor<3xi64>) -> tensor<?x3xf32>
// ETPPART: %[[R1:.*]] = shard.all_reduce %[[G1]] on @tp grid_axes = [0]
// ETPPART: %[[A:.*]] = mm.silu %[[R1]] : tensor<?x3xf32>
// ETPPART: %[[G2:.*]] = mm.grouped_matmul %[[A]], %{{.*}}, %{{.*}} : (tensor<?x3xf32>, tensor<2x8x3xf32>, tensor<3xi64>) -> tensor<?x8xf32>
// ETPPART: shard.all_reduce %[[G2]] on @tp grid_axes = [0, 1]
func.func @expert_width(%x: tensor<?x8xf32>, %offsets: tensor<5xi64>) -> tensor<?x8xf32> {
  %w1 = mm.param "w1" {mm.ep_dim = 0 : i64, mm.etp_dim = 1 : i64} : tensor<4x6x8xf32>
  %w2 = mm.param "w2" {mm.ep_dim = 0 : i64, mm.etp_dim = 2 : i64} : tensor<4x8x6xf32>
  %h = mm.grouped_matmul %x, %w1, %offsets : (tensor<?x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<?x6xf32>
  %a = mm.silu %h : tensor<?x6xf32>
  %y = mm.grouped_matmul %a, %w2, %offsets : (tensor<?x6xf32>, tensor<4x8x6xf32>, tensor<5xi64>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
