// RUN: mm-opt %s -mm-partition-pipeline | FileCheck %s

// mm ops under the upstream sharding-propagation and shard-partition
// (ir/ShardingModels.cpp): the user places shard.shard annotations, the
// passes place the collectives.

shard.grid @tp(shape = 2)
shard.grid @grid(shape = 2x2)
shard.grid @cp(shape = 3)

// Megatron's MLP: w1 split on its output features (column parallel), w2 on
// its input features (row parallel). Each rank binds only its part of the
// weights (the param says how it is cut); the row-parallel product is a partial sum,
// reduced once; the scaling and the norm then run on the whole activation.
// CHECK-LABEL: func.func @megatron_mlp(
// CHECK-SAME: %[[X:.*]]: tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[W1:.*]] = mm.param "w1" {mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>]} : tensor<8x8xf32>
// CHECK: %[[W2:.*]] = mm.param "w2" {mm.grid = @tp, mm.split_axes = [array<i16>, array<i16: 0>]} : tensor<8x8xf32>
// CHECK: %[[H:.*]] = mm.linear %[[X]], %[[W1]] : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[A:.*]] = mm.silu %[[H]] : tensor<4x8xf32>
// CHECK: %[[P:.*]] = mm.linear %[[A]], %[[W2]]
// CHECK: %[[Y:.*]] = shard.all_reduce %[[P]] on @tp grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
// CHECK: %[[Z:.*]] = mm.mul %[[Y]], %{{.*}} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
// CHECK: mm.rms_norm %[[Z]]
func.func @megatron_mlp(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %w1 = mm.param "w1" : tensor<16x8xf32>
  %s1 = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %w1s = shard.shard %w1 to %s1 annotate_for_users : tensor<16x8xf32>
  %w2 = mm.param "w2" : tensor<8x16xf32>
  %s2 = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %w2s = shard.shard %w2 to %s2 annotate_for_users : tensor<8x16xf32>
  %h = mm.linear %x, %w1s : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = mm.silu %h : tensor<4x16xf32>
  %y = mm.linear %a, %w2s : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %c = arith.constant dense<0.5> : tensor<f32>
  %z = mm.mul %y, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %g = mm.param "g" : tensor<8xf32>
  %o = mm.rms_norm %z, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %o : tensor<4x8xf32>
}

// Data x tensor parallel on a 2x2 grid: the batch split over axis 0 makes the
// argument each rank's half; the MLP is split over axis 1; the replicated
// result needs the batch gathered (forward propagation first carries the
// split batch through the first linear and the activation).
// CHECK-LABEL: func.func @dp_tp(
// CHECK-SAME: %[[X:.*]]: tensor<2x8xf32>) -> tensor<4x8xf32>
// CHECK: mm.param "w1" {mm.grid = @grid, mm.split_axes = [array<i16: 1>, array<i16>]} : tensor<8x8xf32>
// CHECK: mm.param "w2" {mm.grid = @grid, mm.split_axes = [array<i16>, array<i16: 1>]} : tensor<8x8xf32>
// CHECK: %[[H:.*]] = mm.linear %[[X]], %{{.*}} : (tensor<2x8xf32>, tensor<8x8xf32>) -> tensor<2x8xf32>
// CHECK: %[[A:.*]] = mm.gelu %[[H]] : tensor<2x8xf32>
// CHECK: shard.all_gather %[[A]] on @grid grid_axes = [0] gather_axis = 0 : tensor<2x8xf32> -> tensor<4x8xf32>
// CHECK: %[[P:.*]] = mm.linear
// CHECK: %[[Y:.*]] = shard.all_reduce %[[P]] on @grid grid_axes = [1]
// CHECK: return %[[Y]]
func.func @dp_tp(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %sx = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %xs = shard.shard %x to %sx annotate_for_users : tensor<4x8xf32>
  %w1 = mm.param "w1" : tensor<16x8xf32>
  %s1 = shard.sharding @grid split_axes = [[1]] : !shard.sharding
  %w1s = shard.shard %w1 to %s1 annotate_for_users : tensor<16x8xf32>
  %w2 = mm.param "w2" : tensor<8x16xf32>
  %s2 = shard.sharding @grid split_axes = [[], [1]] : !shard.sharding
  %w2s = shard.shard %w2 to %s2 annotate_for_users : tensor<8x16xf32>
  %h = mm.linear %xs, %w1s : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %a = mm.gelu %h : tensor<4x16xf32>
  %y = mm.linear %a, %w2s : (tensor<4x16xf32>, tensor<8x16xf32>) -> tensor<4x8xf32>
  %sr = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %ys = shard.shard %y to %sr : tensor<4x8xf32>
  return %ys : tensor<4x8xf32>
}

// RMSNorm over a split last dim (the lightning output's norm over every
// head under tensor parallelism): each rank sums its squares, one
// all_reduce of [4, 1] completes the mean, each rank scales its columns;
// only the replicated result is gathered.
// CHECK-LABEL: func.func @norm_of_split(
// CHECK-SAME: %{{.*}}: tensor<4x4xf32>) -> tensor<4x8xf32>
// CHECK: %[[E:.*]] = mm.exp
// CHECK-NOT: shard.all_gather
// CHECK: %[[SQ:.*]] = mm.reduce sum %{{.*}} dims [1] keep_dims : (tensor<4x4xf32>) -> tensor<4x1xf32>
// CHECK: %[[T:.*]] = shard.all_reduce %[[SQ]] on @grid grid_axes = [1] : tensor<4x1xf32> -> tensor<4x1xf32>
// CHECK: mm.div %[[E]],
// CHECK: %[[Y:.*]] = mm.mul %{{.*}}, %{{.*}} : (tensor<4x4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
// CHECK: shard.all_gather %[[Y]] on @grid grid_axes = [1] gather_axis = 1 : tensor<4x4xf32> -> tensor<4x8xf32>
func.func @norm_of_split(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %s = shard.sharding @grid split_axes = [[], [1]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<4x8xf32>
  %e = mm.exp %xs : tensor<4x8xf32>
  %g = mm.param "g" : tensor<8xf32>
  %n = mm.rms_norm %e, %g : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %r = shard.sharding @grid split_axes = [[]] : !shard.sharding
  %ns = shard.shard %n to %r annotate_for_users : tensor<4x8xf32>
  return %ns : tensor<4x8xf32>
}

// A bias would be added once per rank of a split contraction: with one, the
// contraction stays whole and the split weight is gathered back.
// CHECK-LABEL: func.func @biased_row_parallel(
// CHECK: %[[S:.*]] = mm.param "w" {mm.grid = @grid, mm.split_axes = [array<i16>, array<i16: 1>]} : tensor<6x4xf32>
// CHECK: %[[W:.*]] = shard.all_gather %[[S]] on @grid grid_axes = [1] gather_axis = 1 : tensor<6x4xf32> -> tensor<6x8xf32>
// CHECK: mm.linear %{{.*}}, %[[W]], %{{.*}} : (tensor<4x8xf32>, tensor<6x8xf32>, tensor<6xf32>) -> tensor<4x6xf32>
// CHECK-NOT: shard.all_reduce
func.func @biased_row_parallel(%x: tensor<4x8xf32>) -> tensor<4x6xf32> {
  %w = mm.param "w" : tensor<6x8xf32>
  %s = shard.sharding @grid split_axes = [[], [1]] : !shard.sharding
  %ws = shard.shard %w to %s annotate_for_users : tensor<6x8xf32>
  %b = mm.param "b" : tensor<6xf32>
  %y = mm.linear %x, %ws, %b : (tensor<4x8xf32>, tensor<6x8xf32>, tensor<6xf32>) -> tensor<4x6xf32>
  return %y : tensor<4x6xf32>
}

// Heads under tensor parallelism: a per-head packed q/k/v projection split
// on its output features, reshaped to [tokens, heads, 6], sliced within each
// head, merged back and projected row-parallel. The reshapes and slices run
// on each rank's heads (their static sizes halved); one all_reduce at the end.
// CHECK-LABEL: func.func @heads(
// CHECK: %[[W:.*]] = mm.param "wqkv" {mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>]} : tensor<12x8xf32>
// CHECK: %[[QKV:.*]] = mm.linear %{{.*}}, %[[W]] : (tensor<3x8xf32>, tensor<12x8xf32>) -> tensor<3x12xf32>
// CHECK: %[[H:.*]] = mm.reshape %[[QKV]] [0, 2, 6] : (tensor<3x12xf32>) -> tensor<3x2x6xf32>
// CHECK: mm.slice %[[H]] dim 2 [0 : 2] : (tensor<3x2x6xf32>) -> tensor<3x2x2xf32>
// CHECK: mm.slice %[[H]] dim 2 [2 : 4] : (tensor<3x2x6xf32>) -> tensor<3x2x2xf32>
// CHECK: %[[M:.*]] = mm.reshape %{{.*}} [0, 4] : (tensor<3x2x2xf32>) -> tensor<3x4xf32>
// CHECK: %[[P:.*]] = mm.linear %[[M]], %{{.*}} : (tensor<3x4xf32>, tensor<8x4xf32>) -> tensor<3x8xf32>
// CHECK: shard.all_reduce %[[P]] on @tp grid_axes = [0]
// CHECK-NOT: shard.all_gather
func.func @heads(%x: tensor<3x8xf32>) -> tensor<3x8xf32> {
  %w = mm.param "wqkv" : tensor<24x8xf32>
  %s = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %ws = shard.shard %w to %s annotate_for_users : tensor<24x8xf32>
  %qkv = mm.linear %x, %ws : (tensor<3x8xf32>, tensor<24x8xf32>) -> tensor<3x24xf32>
  %h = mm.reshape %qkv [0, 4, 6] : (tensor<3x24xf32>) -> tensor<3x4x6xf32>
  %q = mm.slice %h dim 2 [0 : 2] : (tensor<3x4x6xf32>) -> tensor<3x4x2xf32>
  %k = mm.slice %h dim 2 [2 : 4] : (tensor<3x4x6xf32>) -> tensor<3x4x2xf32>
  %p = mm.mul %q, %k : (tensor<3x4x2xf32>, tensor<3x4x2xf32>) -> tensor<3x4x2xf32>
  %m = mm.reshape %p [0, 8] : (tensor<3x4x2xf32>) -> tensor<3x8xf32>
  %wo = mm.param "wo" : tensor<8x8xf32>
  %so = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %wos = shard.shard %wo to %so annotate_for_users : tensor<8x8xf32>
  %y = mm.linear %m, %wos : (tensor<3x8xf32>, tensor<8x8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// A reshape that is not a last-dim split or merge keeps its dims whole: the
// split input is gathered first.
// CHECK-LABEL: func.func @other_reshape(
// CHECK: %[[G:.*]] = shard.all_gather %{{.*}} on @tp grid_axes = [0] gather_axis = 1 : tensor<4x3xf32> -> tensor<4x6xf32>
// CHECK: mm.reshape %[[G]] [2, 12] : (tensor<4x6xf32>) -> tensor<2x12xf32>
func.func @other_reshape(%x: tensor<4x6xf32>) -> tensor<2x12xf32> {
  %s = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %xs = shard.shard %x to %s annotate_for_users : tensor<4x6xf32>
  %e = mm.exp %xs : tensor<4x6xf32>
  %r = mm.reshape %e [2, 12] : (tensor<4x6xf32>) -> tensor<2x12xf32>
  return %r : tensor<2x12xf32>
}

// Grouped-query attention under tensor parallelism: 4 query heads and 2 KV
// heads of 2 dims; q, k and v projections split by heads, so each rank runs
// attention on 2 query heads and their 1 KV head, with no gather; the
// row-parallel output projection reduces once.
// CHECK-LABEL: func.func @gqa_attention(
// CHECK: %[[Q:.*]] = mm.reshape %{{.*}} [0, 0, 2, 2] : (tensor<1x4x4xf32>) -> tensor<1x4x2x2xf32>
// CHECK: %[[K:.*]] = mm.reshape %{{.*}} [0, 0, 1, 2] : (tensor<1x4x2xf32>) -> tensor<1x4x1x2xf32>
// CHECK: %[[V:.*]] = mm.reshape %{{.*}} [0, 0, 1, 2] : (tensor<1x4x2xf32>) -> tensor<1x4x1x2xf32>
// CHECK: %[[R:.*]] = mm.rope %[[Q]], %{{.*}} {rotary_dim = 2 : i64, theta = 1.000000e+04 : f64} : (tensor<1x4x2x2xf32>, tensor<1x4xi64>) -> tensor<1x4x2x2xf32>
// CHECK: %[[KR:.*]] = mm.rope %[[K]], %{{.*}} : (tensor<1x4x1x2xf32>, tensor<1x4xi64>) -> tensor<1x4x1x2xf32>
// CHECK-NOT: shard.all_gather
// CHECK: mm.attention %[[R]], %[[KR]], %[[V]] {causal} : (tensor<1x4x2x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>) -> tensor<1x4x2x2xf32>
// CHECK: %[[P:.*]] = mm.linear %{{.*}} : (tensor<1x4x4xf32>, tensor<8x4xf32>) -> tensor<1x4x8xf32>
// CHECK: shard.all_reduce %[[P]] on @tp grid_axes = [0]
func.func @gqa_attention(%x: tensor<1x4x8xf32>, %pos: tensor<1x4xi64>) -> tensor<1x4x8xf32> {
  %cols = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %rows = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %wq = mm.param "wq" : tensor<8x8xf32>
  %wqs = shard.shard %wq to %cols annotate_for_users : tensor<8x8xf32>
  %wk = mm.param "wk" : tensor<4x8xf32>
  %wks = shard.shard %wk to %cols annotate_for_users : tensor<4x8xf32>
  %wv = mm.param "wv" : tensor<4x8xf32>
  %wvs = shard.shard %wv to %cols annotate_for_users : tensor<4x8xf32>
  %q0 = mm.linear %x, %wqs : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %k0 = mm.linear %x, %wks : (tensor<1x4x8xf32>, tensor<4x8xf32>) -> tensor<1x4x4xf32>
  %v0 = mm.linear %x, %wvs : (tensor<1x4x8xf32>, tensor<4x8xf32>) -> tensor<1x4x4xf32>
  %q = mm.reshape %q0 [0, 0, 4, 2] : (tensor<1x4x8xf32>) -> tensor<1x4x4x2xf32>
  %k = mm.reshape %k0 [0, 0, 2, 2] : (tensor<1x4x4xf32>) -> tensor<1x4x2x2xf32>
  %v = mm.reshape %v0 [0, 0, 2, 2] : (tensor<1x4x4xf32>) -> tensor<1x4x2x2xf32>
  %qr = mm.rope %q, %pos {rotary_dim = 2 : i64, theta = 1.0e4 : f64} : (tensor<1x4x4x2xf32>, tensor<1x4xi64>) -> tensor<1x4x4x2xf32>
  %kr = mm.rope %k, %pos {rotary_dim = 2 : i64, theta = 1.0e4 : f64} : (tensor<1x4x2x2xf32>, tensor<1x4xi64>) -> tensor<1x4x2x2xf32>
  %o = mm.attention %qr, %kr, %v {causal} : (tensor<1x4x4x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> tensor<1x4x4x2xf32>
  %om = mm.reshape %o [0, 0, 8] : (tensor<1x4x4x2xf32>) -> tensor<1x4x8xf32>
  %wo = mm.param "wo" : tensor<8x8xf32>
  %wos = shard.shard %wo to %rows annotate_for_users : tensor<8x8xf32>
  %y = mm.linear %om, %wos : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// The embedding split by its vocabulary (Megatron's VocabParallelEmbedding):
// each rank holds 3 of the 6 rows and looks its ids up in them (rows_from,
// its block's first row: an all_slice of every block's; other ids give zero
// rows), and one all_reduce completes every row.
// CHECK-LABEL: func.func @vocab_parallel_embedding(
// CHECK: %[[FIRSTS:.*]] = arith.constant dense<[0, 3]> : tensor<2xi64>
// CHECK: %[[T:.*]] = mm.param "emb" {mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>]} : tensor<3x4xf32>
// CHECK: %[[MINE:.*]] = shard.all_slice %[[FIRSTS]] on @tp grid_axes = [0] slice_axis = 0 : tensor<2xi64> -> tensor<1xi64>
// CHECK: %[[E:.*]] = mm.embedding %[[T]], %{{.*}} rows_from(%[[MINE]]) {vocab_size = 6 : i64} : (tensor<3x4xf32>, tensor<1x5xi64>, tensor<1xi64>) -> tensor<1x5x4xf32>
// CHECK: shard.all_reduce %[[E]] on @tp grid_axes = [0] : tensor<1x5x4xf32> -> tensor<1x5x4xf32>
func.func @vocab_parallel_embedding(%ids: tensor<1x5xi64>) -> tensor<1x5x4xf32> {
  %rows = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %t = mm.param "emb" : tensor<6x4xf32>
  %ts = shard.shard %t to %rows annotate_for_users : tensor<6x4xf32>
  %h = mm.embedding %ts, %ids : (tensor<6x4xf32>, tensor<1x5xi64>) -> tensor<1x5x4xf32>
  return %h : tensor<1x5x4xf32>
}

// More ranks than KV heads (vLLM's replication): 4 query heads and 2 KV
// heads over the 4 ranks of @grid. Every rank projects both KV heads, and
// the take-form gather that repeats each twice splits by its indices: each
// rank slices its entry of the constant head map (no communication) and
// attends its query head to its copy, keeping that copy's cache.
// CHECK-LABEL: func.func @replicated_kv_heads(
// CHECK-SAME: %{{.*}}: tensor<1x4x8xf32>, %[[C:.*]]: tensor<1x6x1x2xf32>, %{{.*}}: tensor<1xi64>) -> (tensor<1x4x8xf32>, tensor<1x6x1x2xf32>)
// CHECK: %[[MAP:.*]] = arith.constant dense<[0, 0, 1, 1]> : tensor<4xi64>
// CHECK: %[[K:.*]] = mm.linear %{{.*}} : (tensor<1x4x8xf32>, tensor<4x8xf32>) -> tensor<1x4x4xf32>
// CHECK: %[[KH:.*]] = mm.reshape %[[K]] [0, 0, 2, 2] : (tensor<1x4x4xf32>) -> tensor<1x4x2x2xf32>
// CHECK: %[[MINE:.*]] = shard.all_slice %[[MAP]] on @grid grid_axes = [0, 1] slice_axis = 0 : tensor<4xi64> -> tensor<1xi64>
// CHECK: %[[KR:.*]] = mm.gather %[[KH]], %[[MINE]] {dim = 2 : i64} : (tensor<1x4x2x2xf32>, tensor<1xi64>) -> tensor<1x4x1x2xf32>
// CHECK-NOT: shard.all_gather
// CHECK: mm.attention %{{.*}}, %[[KR]], %[[KR]] cache(%[[C]], %[[C]]) at %{{.*}} {causal} : (tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x4x1x2xf32>, tensor<1x6x1x2xf32>, tensor<1x6x1x2xf32>, tensor<1xi64>) -> (tensor<1x4x1x2xf32>, tensor<1x6x1x2xf32>, tensor<1x6x1x2xf32>)
// CHECK: shard.all_reduce %{{.*}} on @grid grid_axes = [0, 1]
func.func @replicated_kv_heads(%x: tensor<1x4x8xf32>, %kc: tensor<1x6x4x2xf32>, %cp: tensor<1xi64>) -> (tensor<1x4x8xf32>, tensor<1x6x4x2xf32>) {
  %cols = shard.sharding @grid split_axes = [[0, 1]] : !shard.sharding
  %rows = shard.sharding @grid split_axes = [[], [0, 1]] : !shard.sharding
  %wq = mm.param "wq" : tensor<8x8xf32>
  %wqs = shard.shard %wq to %cols annotate_for_users : tensor<8x8xf32>
  %wk = mm.param "wk" : tensor<4x8xf32>
  %q0 = mm.linear %x, %wqs : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %k0 = mm.linear %x, %wk : (tensor<1x4x8xf32>, tensor<4x8xf32>) -> tensor<1x4x4xf32>
  %q = mm.reshape %q0 [0, 0, 4, 2] : (tensor<1x4x8xf32>) -> tensor<1x4x4x2xf32>
  %k = mm.reshape %k0 [0, 0, 2, 2] : (tensor<1x4x4xf32>) -> tensor<1x4x2x2xf32>
  %map = arith.constant dense<[0, 0, 1, 1]> : tensor<4xi64>
  %kr = mm.gather %k, %map {dim = 2 : i64} : (tensor<1x4x2x2xf32>, tensor<4xi64>) -> tensor<1x4x4x2xf32>
  %o, %kn, %vn = mm.attention %q, %kr, %kr cache(%kc, %kc) at %cp {causal} : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x6x4x2xf32>, tensor<1x6x4x2xf32>, tensor<1xi64>) -> (tensor<1x4x4x2xf32>, tensor<1x6x4x2xf32>, tensor<1x6x4x2xf32>)
  %om = mm.reshape %o [0, 0, 8] : (tensor<1x4x4x2xf32>) -> tensor<1x4x8xf32>
  %wo = mm.param "wo" : tensor<8x8xf32>
  %wos = shard.shard %wo to %rows annotate_for_users : tensor<8x8xf32>
  %y = mm.linear %om, %wos : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return %y, %kn : tensor<1x4x8xf32>, tensor<1x6x4x2xf32>
}

// A take-form gather whose indices are this rank's already (a split
// argument, dynamic in length) gathers them as they are, no all_slice; a
// negative dim counts from the back.
// CHECK-LABEL: func.func @gather_rank_indices(
// CHECK-SAME: %[[X:.*]]: tensor<3x8xf32>, %[[I:.*]]: tensor<?xi64>) -> tensor<?x8xf32>
// CHECK-NOT: shard.all_slice
// CHECK: mm.gather %[[X]], %[[I]] {dim = -2 : i64} : (tensor<3x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
func.func @gather_rank_indices(%x: tensor<3x8xf32>, %idx: tensor<?xi64>) -> tensor<?x8xf32> {
  %split = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %is = shard.shard %idx to %split annotate_for_users : tensor<?xi64>
  %g = mm.gather %x, %is {dim = -2 : i64} : (tensor<3x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
  %gs = shard.shard %g to %split : tensor<?x8xf32>
  return %gs : tensor<?x8xf32>
}

// Lightning attention split by heads under tensor parallelism: each rank
// runs 2 of the 4 heads, with the decay slopes of their places among all 4
// (head_index, its all_slice of the iota of every head), from its heads'
// part of the carried state; the row-parallel output projection reduces once.
// CHECK-LABEL: func.func @lightning_heads_split(
// CHECK-SAME: %{{.*}}: tensor<1x4x8xf32>, %[[S:.*]]: tensor<1x2x2x2xf32>) -> tensor<1x4x8xf32>
// CHECK: %[[IOTA:.*]] = arith.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK-NOT: shard.all_gather
// CHECK: %[[IDS:.*]] = shard.all_slice %[[IOTA]] on @tp grid_axes = [0] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
// CHECK: mm.lightning_attention %{{.*}}, %{{.*}}, %{{.*}} state(%[[S]]) head_index(%[[IDS]]) {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64, total_heads = 4 : i64} : (tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>, tensor<1x2x2x2xf32>, tensor<2xi64>) -> (tensor<1x4x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK: %[[P:.*]] = mm.linear %{{.*}} : (tensor<1x4x4xf32>, tensor<8x4xf32>) -> tensor<1x4x8xf32>
// CHECK: shard.all_reduce %[[P]] on @tp grid_axes = [0]
func.func @lightning_heads_split(%x: tensor<1x4x8xf32>, %s0: tensor<1x4x2x2xf32>) -> tensor<1x4x8xf32> {
  %cols = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %rows = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %wq = mm.param "wq" : tensor<8x8xf32>
  %wqs = shard.shard %wq to %cols annotate_for_users : tensor<8x8xf32>
  %wk = mm.param "wlk" : tensor<8x8xf32>
  %wks = shard.shard %wk to %cols annotate_for_users : tensor<8x8xf32>
  %wv = mm.param "wlv" : tensor<8x8xf32>
  %wvs = shard.shard %wv to %cols annotate_for_users : tensor<8x8xf32>
  %q0 = mm.linear %x, %wqs : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %k0 = mm.linear %x, %wks : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %v0 = mm.linear %x, %wvs : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  %q = mm.reshape %q0 [0, 0, 4, 2] : (tensor<1x4x8xf32>) -> tensor<1x4x4x2xf32>
  %k = mm.reshape %k0 [0, 0, 4, 2] : (tensor<1x4x8xf32>) -> tensor<1x4x4x2xf32>
  %v = mm.reshape %v0 [0, 0, 4, 2] : (tensor<1x4x8xf32>) -> tensor<1x4x4x2xf32>
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64} : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x2x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x2x2xf32>)
  %om = mm.reshape %o [0, 0, 8] : (tensor<1x4x4x2xf32>) -> tensor<1x4x8xf32>
  %wo = mm.param "wo" : tensor<8x8xf32>
  %wos = shard.shard %wo to %rows annotate_for_users : tensor<8x8xf32>
  %y = mm.linear %om, %wos : (tensor<1x4x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// Its gradient (a partitioned training step's backward) splits the same
// way: each rank's 2 heads, with their slopes among all 4; the query's
// gradient is gathered to be returned whole.
// CHECK-LABEL: func.func @lightning_grad_heads_split(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x2x2xf32>, %{{.*}}: tensor<1x4x2x2xf32>, %{{.*}}: tensor<1x4x2x2xf32>, %{{.*}}: tensor<1x4x2x2xf32>, %{{.*}}: tensor<1x2x2x2xf32>) -> tensor<1x4x4x2xf32>
// CHECK: %[[IDS:.*]] = shard.all_slice %{{.*}} on @tp grid_axes = [0] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
// CHECK: %[[DQ:.*]], %{{.*}}, %{{.*}}, %{{.*}} = mm.lightning_attention_grad %[[Q]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} head_index(%[[IDS]]) {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64, total_heads = 4 : i64}
// CHECK: shard.all_gather %[[DQ]] on @tp grid_axes = [0] gather_axis = 2
func.func @lightning_grad_heads_split(%q: tensor<1x4x4x2xf32>, %k: tensor<1x4x4x2xf32>, %v: tensor<1x4x4x2xf32>, %do: tensor<1x4x4x2xf32>, %ds: tensor<1x4x2x2xf32>) -> tensor<1x4x4x2xf32> {
  %heads = shard.sharding @tp split_axes = [[], [], [0]] : !shard.sharding
  %stateHeads = shard.sharding @tp split_axes = [[], [0]] : !shard.sharding
  %whole = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %qs = shard.shard %q to %heads : tensor<1x4x4x2xf32>
  %ks = shard.shard %k to %heads : tensor<1x4x4x2xf32>
  %vs = shard.shard %v to %heads : tensor<1x4x4x2xf32>
  %dos = shard.shard %do to %heads : tensor<1x4x4x2xf32>
  %dss = shard.shard %ds to %stateHeads : tensor<1x4x2x2xf32>
  %dq, %dk, %dv, %ds0 = mm.lightning_attention_grad %qs, %ks, %vs, %dos, %dss {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64} : (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x2x2xf32>) -> (tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x4x2xf32>, tensor<1x4x2x2xf32>)
  %dqs = shard.shard %dq to %heads : tensor<1x4x4x2xf32>
  %dqw = shard.shard %dqs to %whole annotate_for_users : tensor<1x4x4x2xf32>
  %r = mm.neg %dqw : tensor<1x4x4x2xf32>
  return %r : tensor<1x4x4x2xf32>
}

// The experts' backward under expert parallelism. The weight gradient:
// each rank computes its 2 experts' gradients from its block of the group
// offsets (rows of the others' groups are not read); gathered here only to
// be returned whole.
// CHECK-LABEL: func.func @experts_weight_grad_split(
// CHECK: shard.all_slice %{{.*}} on @tp grid_axes = [0] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
// CHECK: %[[DW:.*]] = mm.grouped_matmul_weight_grad %{{.*}} : (tensor<6x6xf32>, tensor<6x8xf32>, tensor<3xi64>) -> tensor<2x6x8xf32>
// CHECK: shard.all_gather %[[DW]] on @tp grid_axes = [0] gather_axis = 0
func.func @experts_weight_grad_split(%g: tensor<6x6xf32>, %x: tensor<6x8xf32>, %offsets: tensor<5xi64>) -> tensor<4x6x8xf32> {
  %experts = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %whole = shard.sharding @tp split_axes = [[]] : !shard.sharding
  %dw = mm.grouped_matmul_weight_grad %g, %x, %offsets : (tensor<6x6xf32>, tensor<6x8xf32>, tensor<5xi64>) -> tensor<4x6x8xf32>
  %dws = shard.shard %dw to %experts : tensor<4x6x8xf32>
  %dww = shard.shard %dws to %whole annotate_for_users : tensor<4x6x8xf32>
  %r = mm.neg %dww : tensor<4x6x8xf32>
  return %r : tensor<4x6x8xf32>
}

// The input gradient: the rank's experts transposed (the split moves with
// its dim; no weight is gathered), their groups' rows, one all_reduce.
// CHECK-LABEL: func.func @experts_input_grad_split(
// CHECK: %[[W:.*]] = mm.param "wexp" {{.*}} : tensor<2x6x8xf32>
// CHECK-NOT: shard.all_gather
// CHECK: %[[WT:.*]] = mm.transpose %[[W]] [0, 2, 1] : (tensor<2x6x8xf32>) -> tensor<2x8x6xf32>
// CHECK: %[[DX:.*]] = mm.grouped_matmul %{{.*}}, %[[WT]], %{{.*}} : (tensor<6x6xf32>, tensor<2x8x6xf32>, tensor<3xi64>) -> tensor<6x8xf32>
// CHECK: shard.all_reduce %[[DX]] on @tp grid_axes = [0]
func.func @experts_input_grad_split(%g: tensor<6x6xf32>, %offsets: tensor<5xi64>) -> tensor<6x8xf32> {
  %split = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %w = mm.param "wexp" : tensor<4x6x8xf32>
  %ws = shard.shard %w to %split annotate_for_users : tensor<4x6x8xf32>
  %wt = mm.transpose %ws [0, 2, 1] : (tensor<4x6x8xf32>) -> tensor<4x8x6xf32>
  %dx = mm.grouped_matmul %g, %wt, %offsets : (tensor<6x6xf32>, tensor<4x8x6xf32>, tensor<5xi64>) -> tensor<6x8xf32>
  return %dx : tensor<6x8xf32>
}

// Expert parallelism on a 2x2 grid: the experts split over axis 1, so each
// rank computes the rows of its 2 experts from its block of the group
// offsets (rows of the others are zero) and one all_reduce over axis 1
// completes every row; axis 0 holds replicas.
// CHECK-LABEL: func.func @experts_on_grid(
// CHECK: mm.param "wexp" {mm.grid = @grid, mm.split_axes = [array<i16: 1>, array<i16>, array<i16>]} : tensor<2x6x8xf32>
// CHECK: shard.all_slice %{{.*}} on @grid grid_axes = [1] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
// CHECK: %[[Y:.*]] = mm.grouped_matmul %{{.*}} : (tensor<6x8xf32>, tensor<2x6x8xf32>, tensor<3xi64>) -> tensor<6x6xf32>
// CHECK: shard.all_reduce %[[Y]] on @grid grid_axes = [1]
func.func @experts_on_grid(%x: tensor<6x8xf32>, %offsets: tensor<5xi64>) -> tensor<6x6xf32> {
  %split = shard.sharding @grid split_axes = [[1]] : !shard.sharding
  %w = mm.param "wexp" : tensor<4x6x8xf32>
  %ws = shard.shard %w to %split annotate_for_users : tensor<4x6x8xf32>
  %y = mm.grouped_matmul %x, %ws, %offsets : (tensor<6x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<6x6xf32>
  return %y : tensor<6x6xf32>
}

// The cross-entropy of a vocab-parallel LM head (Megatron's
// vocab_parallel_cross_entropy, ir/LossShardingModels.cpp): the logits stay
// split by class, 3 of the 6 on each rank, and are never gathered. Each rank
// reduces its own classes: an all_reduce max of the row maxima, then
// all_reduce sums of the exponentials and of the logit at the label, which
// only the rank holding the label's class contributes (its global class ids
// start at its block's first, an all_slice; an embedding of the labels into
// a ones column of its block refuses a label outside [0, 6) as the whole op
// does). The loss is whole on every rank.
// CHECK-LABEL: func.func @vocab_parallel_cross_entropy(
// CHECK-DAG: %[[FIRSTS:.*]] = arith.constant dense<[0, 3]> : tensor<2xi64>
// CHECK-DAG: %[[IDS:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: %[[W:.*]] = mm.param "w" {mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>]} : tensor<3x8xf32>
// CHECK: %[[L:.*]] = mm.linear %{{.*}}, %[[W]] : (tensor<4x8xf32>, tensor<3x8xf32>) -> tensor<4x3xf32>
// CHECK-NOT: shard.all_gather
// CHECK: %[[LM:.*]] = mm.reduce max %[[L]] dims [1] keep_dims : (tensor<4x3xf32>) -> tensor<4x1xf32>
// CHECK: %[[M:.*]] = shard.all_reduce %[[LM]] on @tp grid_axes = [0] reduction = max : tensor<4x1xf32> -> tensor<4x1xf32>
// CHECK: %[[E:.*]] = mm.exp
// CHECK: %[[LS:.*]] = mm.reduce sum %[[E]] dims [1] keep_dims
// CHECK: %[[S:.*]] = shard.all_reduce %[[LS]] on @tp grid_axes = [0] : tensor<4x1xf32> -> tensor<4x1xf32>
// CHECK: %[[FIRST:.*]] = shard.all_slice %[[FIRSTS]] on @tp grid_axes = [0] slice_axis = 0 : tensor<2xi64> -> tensor<1xi64>
// CHECK: mm.add %{{.*}}, %[[IDS]] : (tensor<1xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: %[[HELD:.*]] = mm.embedding %{{.*}}, %{{.*}} rows_from(%[[FIRST]]) {vocab_size = 6 : i64} : (tensor<3x1xf32>, tensor<4xi64>, tensor<1xi64>) -> tensor<4x1xf32>
// CHECK: mm.sub %[[HELD]], %{{.*}} : (tensor<4x1xf32>, tensor<3xf32>) -> tensor<4x3xf32>
// CHECK: %[[PICKED:.*]] = mm.reduce sum %{{.*}} dims [1] keep_dims : (tensor<4x3xf32>) -> tensor<4x1xf32>
// CHECK: %[[P:.*]] = shard.all_reduce %[[PICKED]] on @tp grid_axes = [0] : tensor<4x1xf32> -> tensor<4x1xf32>
// CHECK: %[[LOG:.*]] = mm.log %[[S]]
// CHECK: %[[LSE:.*]] = mm.add %[[M]], %[[LOG]]
// CHECK: mm.sub %[[LSE]], %[[P]]
// CHECK-NOT: shard.
// CHECK: return %{{.*}} : tensor<f32>
func.func @vocab_parallel_cross_entropy(%x: tensor<4x8xf32>, %labels: tensor<4xi64>) -> tensor<f32> {
  %rows = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %w = mm.param "w" : tensor<6x8xf32>
  %ws = shard.shard %w to %rows annotate_for_users : tensor<6x8xf32>
  %logits = mm.linear %x, %ws : (tensor<4x8xf32>, tensor<6x8xf32>) -> tensor<4x6xf32>
  %l = mm.cross_entropy mean %logits, %labels : (tensor<4x6xf32>, tensor<4xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// The per-position losses, on the 2x2 grid with the classes split over
// axis 1 (axis 0 holds replicas).
// CHECK-LABEL: func.func @vocab_parallel_cross_entropy_none(
// CHECK: mm.param "w" {mm.grid = @grid, mm.split_axes = [array<i16: 1>, array<i16>]} : tensor<3x8xf32>
// CHECK-NOT: shard.all_gather
// CHECK: shard.all_reduce %{{.*}} on @grid grid_axes = [1] reduction = max : tensor<4x1xf32>
// CHECK: shard.all_reduce %{{.*}} on @grid grid_axes = [1] : tensor<4x1xf32>
// CHECK: shard.all_reduce %{{.*}} on @grid grid_axes = [1] : tensor<4x1xf32>
// CHECK: %[[L:.*]] = mm.reshape %{{.*}} [0] : (tensor<4x1xf32>) -> tensor<4xf32>
// CHECK-NEXT: return %[[L]] : tensor<4xf32>
func.func @vocab_parallel_cross_entropy_none(%x: tensor<4x8xf32>, %labels: tensor<4xi64>) -> tensor<4xf32> {
  %rows = shard.sharding @grid split_axes = [[1]] : !shard.sharding
  %w = mm.param "w" : tensor<6x8xf32>
  %ws = shard.shard %w to %rows annotate_for_users : tensor<6x8xf32>
  %logits = mm.linear %x, %ws : (tensor<4x8xf32>, tensor<6x8xf32>) -> tensor<4x6xf32>
  %l = mm.cross_entropy none %logits, %labels : (tensor<4x6xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %l : tensor<4xf32>
}

// The gradient keeps the class split: each rank's softmax - onehot on its
// own classes (the same three all_reduces), and the LM head's input
// gradient is a partial sum over the classes, reduced once. Nothing of
// [4, 6] is gathered.
// CHECK-LABEL: func.func @vocab_parallel_cross_entropy_grad(
// CHECK: %[[W:.*]] = mm.param "w" {mm.grid = @tp, mm.split_axes = [array<i16: 0>, array<i16>]} : tensor<3x8xf32>
// CHECK-NOT: shard.all_gather
// CHECK: shard.all_reduce %{{.*}} on @tp grid_axes = [0] reduction = max : tensor<4x1xf32>
// CHECK: %[[S:.*]] = shard.all_reduce %{{.*}} on @tp grid_axes = [0] : tensor<4x1xf32>
// CHECK: mm.embedding %{{.*}} rows_from
// CHECK: %[[SOFTMAX:.*]] = mm.div %{{.*}}, %[[S]] : (tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
// CHECK: %[[D:.*]] = mm.sub %[[SOFTMAX]], %{{.*}} : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
// CHECK: %[[DL:.*]] = mm.mul %[[D]], %{{.*}} : (tensor<4x3xf32>, tensor<4x1xf32>) -> tensor<4x3xf32>
// CHECK: %[[DX:.*]] = mm.matmul %[[DL]], %[[W]] : (tensor<4x3xf32>, tensor<3x8xf32>) -> tensor<4x8xf32>
// CHECK: shard.all_reduce %[[DX]] on @tp grid_axes = [0] : tensor<4x8xf32> -> tensor<4x8xf32>
func.func @vocab_parallel_cross_entropy_grad(%x: tensor<4x8xf32>, %labels: tensor<4xi64>, %g: tensor<f32>) -> tensor<4x8xf32> {
  %rows = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %w = mm.param "w" : tensor<6x8xf32>
  %ws = shard.shard %w to %rows annotate_for_users : tensor<6x8xf32>
  %logits = mm.linear %x, %ws : (tensor<4x8xf32>, tensor<6x8xf32>) -> tensor<4x6xf32>
  %dl = mm.cross_entropy_grad mean %logits, %labels, %g : (tensor<4x6xf32>, tensor<4xi64>, tensor<f32>) -> tensor<4x6xf32>
  %dx = mm.matmul %dl, %ws : (tensor<4x6xf32>, tensor<6x8xf32>) -> tensor<4x8xf32>
  return %dx : tensor<4x8xf32>
}

// Per-position loss gradients, through the LM head to its input.
func.func @vocab_parallel_cross_entropy_grad_none(%x: tensor<4x8xf32>, %labels: tensor<4xi64>, %g: tensor<4xf32>) -> tensor<4x8xf32> {
  %rows = shard.sharding @tp split_axes = [[0]] : !shard.sharding
  %w = mm.param "w" : tensor<6x8xf32>
  %ws = shard.shard %w to %rows annotate_for_users : tensor<6x8xf32>
  %logits = mm.linear %x, %ws : (tensor<4x8xf32>, tensor<6x8xf32>) -> tensor<4x6xf32>
  %dl = mm.cross_entropy_grad none %logits, %labels, %g : (tensor<4x6xf32>, tensor<4xi64>, tensor<4xf32>) -> tensor<4x6xf32>
  %dx = mm.matmul %dl, %ws : (tensor<4x6xf32>, tensor<6x8xf32>) -> tensor<4x8xf32>
  return %dx : tensor<4x8xf32>
}

// Lightning attention with its sequence split over 3 context-parallel ranks
// (LASP+): each rank runs its chunk from a zero state for the chunk's own
// state and counts its tokens; one all_gather of each brings every chunk's
// to every rank, which folds the prefix P_{c+1} = exp(-s_h N_c) P_c + S_c
// from the carried state; its slice of the chunks' starts starts its chunk,
// and the final state is the last prefix, whole on every rank. The output
// stays split (each rank returns its chunk).
// CHECK-LABEL: func.func @lightning_sequence_split(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %[[K:[a-z0-9]+]]: tensor<1x?x4x2xf32> {{.*}}, %[[V:[a-z0-9]+]]: tensor<1x?x4x2xf32> {{.*}}, %[[S0:[a-z0-9]+]]: tensor<1x4x2x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>)
// CHECK: %{{.*}}, %[[OWN:.*]] = mm.lightning_attention %[[Q]], %[[K]], %[[V]] {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64}
// CHECK: %[[STATES:.*]] = shard.all_gather %{{.*}} on @cp grid_axes = [0] gather_axis = 0 : tensor<1x1x4x2x2xf32> -> tensor<3x1x4x2x2xf32>
// CHECK: %[[COUNTS:.*]] = shard.all_gather %{{.*}} on @cp grid_axes = [0] gather_axis = 0 : tensor<1xf32> -> tensor<3xf32>
// CHECK: %[[STARTS:.*]] = mm.concat %{{.*}}, %{{.*}}, %{{.*}} dim 0 : (tensor<1x1x4x2x2xf32>, tensor<1x1x4x2x2xf32>, tensor<1x1x4x2x2xf32>) -> tensor<3x1x4x2x2xf32>
// CHECK: %[[MINE:.*]] = shard.all_slice %[[STARTS]] on @cp grid_axes = [0] slice_axis = 0 : tensor<3x1x4x2x2xf32> -> tensor<1x1x4x2x2xf32>
// CHECK: %[[START:.*]] = mm.reduce sum %[[MINE]]
// CHECK: %[[O:.*]], %{{.*}} = mm.lightning_attention %[[Q]], %[[K]], %[[V]] state(%[[START]])
// CHECK: return %[[O]], %{{.*}} : tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>
func.func @lightning_sequence_split(%q: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %k: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %v: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %s0: tensor<1x4x2x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>) {
  %seq = shard.sharding @cp split_axes = [[], [0]] : !shard.sharding
  %qs = shard.shard %q to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %ks = shard.shard %k to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %vs = shard.shard %v to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %o, %s = mm.lightning_attention %qs, %ks, %vs state(%s0) {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64} : (tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>)
  %os = shard.shard %o to %seq : tensor<1x?x4x2xf32>
  return %os, %s : tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>
}

// The same on a 2x2 grid: the batch split over axis 0 (data parallel), the
// sequence over axis 1, from a zero state. The gathers and the slice run
// over axis 1 only.
// CHECK-LABEL: func.func @lightning_sequence_split_on_grid(
// CHECK-SAME: -> (tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>)
// CHECK: shard.all_gather %{{.*}} on @grid grid_axes = [1] gather_axis = 0 : tensor<1x1x4x2x2xf32> -> tensor<2x1x4x2x2xf32>
// CHECK: shard.all_gather %{{.*}} on @grid grid_axes = [1] gather_axis = 0 : tensor<1xf32> -> tensor<2xf32>
// CHECK: shard.all_slice %{{.*}} on @grid grid_axes = [1] slice_axis = 0 : tensor<2x1x4x2x2xf32> -> tensor<1x1x4x2x2xf32>
func.func @lightning_sequence_split_on_grid(%q: tensor<2x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %k: tensor<2x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %v: tensor<2x?x4x2xf32> {mm.dims = ["", "T", "", ""]}) -> (tensor<2x?x4x2xf32>, tensor<2x4x2x2xf32>) {
  %seq = shard.sharding @grid split_axes = [[0], [1]] : !shard.sharding
  %state = shard.sharding @grid split_axes = [[0]] : !shard.sharding
  %qs = shard.shard %q to %seq annotate_for_users : tensor<2x?x4x2xf32>
  %ks = shard.shard %k to %seq annotate_for_users : tensor<2x?x4x2xf32>
  %vs = shard.shard %v to %seq annotate_for_users : tensor<2x?x4x2xf32>
  %o, %s = mm.lightning_attention %qs, %ks, %vs {block_size = 2 : i64, layer_index = 0 : i64, num_layers = 3 : i64} : (tensor<2x?x4x2xf32>, tensor<2x?x4x2xf32>, tensor<2x?x4x2xf32>) -> (tensor<2x?x4x2xf32>, tensor<2x4x2x2xf32>)
  %os = shard.shard %o to %seq : tensor<2x?x4x2xf32>
  %ss = shard.shard %s to %state : tensor<2x4x2x2xf32>
  return %os, %ss : tensor<2x?x4x2xf32>, tensor<2x4x2x2xf32>
}

// Its gradient under the same split (a context-parallel training step's
// backward): the forward's prefix again (each chunk's own state from a zero
// state), and the backward's run the other way from the final-state
// gradient (each chunk's own gradient at its start, from a zero final-state
// gradient). Each rank's backward starts from its chunk's state and takes
// the gradient the later chunks send back; the initial state's gradient is
// the last of the backward fold, whole on every rank.
// CHECK-LABEL: func.func @lightning_grad_sequence_split(
// CHECK-SAME: -> (tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>)
// CHECK: %{{.*}}, %[[OWN:.*]] = mm.lightning_attention %arg0, %arg1, %arg2 {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64}
// CHECK: shard.all_gather %{{.*}} on @cp grid_axes = [0] gather_axis = 0 : tensor<1x1x4x2x2xf32> -> tensor<3x1x4x2x2xf32>
// CHECK: %{{.*}}, %{{.*}}, %{{.*}}, %[[D:.*]] = mm.lightning_attention_grad %arg0, %arg1, %arg2, %arg3, %{{.*}} {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64}
// CHECK: shard.all_gather %{{.*}} on @cp grid_axes = [0] gather_axis = 0 : tensor<1x1x4x2x2xf32> -> tensor<3x1x4x2x2xf32>
// CHECK: %[[STARTS:.*]] = shard.all_slice %{{.*}} on @cp grid_axes = [0] slice_axis = 0 : tensor<3x1x4x2x2xf32> -> tensor<1x1x4x2x2xf32>
// CHECK: %[[GRADS:.*]] = shard.all_slice %{{.*}} on @cp grid_axes = [0] slice_axis = 0 : tensor<3x1x4x2x2xf32> -> tensor<1x1x4x2x2xf32>
// CHECK: %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]], %{{.*}} = mm.lightning_attention_grad %arg0, %arg1, %arg2, %arg3, %{{.*}} state(%{{.*}})
// CHECK: return %[[DQ]], %[[DK]], %[[DV]], %{{.*}} : tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>
func.func @lightning_grad_sequence_split(%q: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %k: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %v: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %do: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %dsT: tensor<1x4x2x2xf32>, %s0: tensor<1x4x2x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>) {
  %seq = shard.sharding @cp split_axes = [[], [0]] : !shard.sharding
  %qs = shard.shard %q to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %ks = shard.shard %k to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %vs = shard.shard %v to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %dos = shard.shard %do to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %dq, %dk, %dv, %ds0 = mm.lightning_attention_grad %qs, %ks, %vs, %dos, %dsT state(%s0) {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64} : (tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>, tensor<1x4x2x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>)
  %dqs = shard.shard %dq to %seq : tensor<1x?x4x2xf32>
  %dks = shard.shard %dk to %seq : tensor<1x?x4x2xf32>
  %dvs = shard.shard %dv to %seq : tensor<1x?x4x2xf32>
  return %dqs, %dks, %dvs, %ds0 : tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>
}

// Causal softmax attention with the sequence split over context-parallel
// ranks (grouped-query: 4 query heads, 2 KV heads). The keys' loop stays
// whole, so the passes all-gather every chunk's keys and values; each rank
// attends its chunk of the queries to all of them from where its chunk
// starts: the exclusive prefix of the chunks' token counts (all-gathered,
// so the chunks may be uneven), this rank's entry by an all_slice.
// CHECK-LABEL: func.func @attention_sequence_split(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x?x4x2xf32> {{.*}}, %[[K:[a-z0-9]+]]: tensor<1x?x2x2xf32> {{.*}}, %[[V:[a-z0-9]+]]: tensor<1x?x2x2xf32> {{.*}}) -> tensor<1x?x4x2xf32>
// CHECK-DAG: %[[KALL:.*]] = shard.all_gather %[[K]] on @cp grid_axes = [0] gather_axis = 1 : tensor<1x?x2x2xf32> -> tensor<1x?x2x2xf32>
// CHECK-DAG: %[[VALL:.*]] = shard.all_gather %[[V]] on @cp grid_axes = [0] gather_axis = 1 : tensor<1x?x2x2xf32> -> tensor<1x?x2x2xf32>
// CHECK: %[[COUNTS:.*]] = shard.all_gather %{{.*}} on @cp grid_axes = [0] gather_axis = 0 : tensor<1xf32> -> tensor<3xf32>
// CHECK: %[[STARTS:.*]] = mm.concat %{{.*}}, %{{.*}}, %{{.*}} dim 0 : (tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<3xf32>
// CHECK: %[[MINE:.*]] = shard.all_slice %[[STARTS]] on @cp grid_axes = [0] slice_axis = 0 : tensor<3xf32> -> tensor<1xf32>
// CHECK: %[[START:.*]] = mm.cast %[[MINE]] : tensor<1xf32> to tensor<1xi64>
// CHECK: %[[O:.*]] = mm.attention %[[Q]], %[[KALL]], %[[VALL]] query_start(%[[START]]) {causal}
// CHECK: return %[[O]] : tensor<1x?x4x2xf32>
func.func @attention_sequence_split(%q: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %k: tensor<1x?x2x2xf32> {mm.dims = ["", "T", "", ""]}, %v: tensor<1x?x2x2xf32> {mm.dims = ["", "T", "", ""]}) -> tensor<1x?x4x2xf32> {
  %seq = shard.sharding @cp split_axes = [[], [0]] : !shard.sharding
  %qs = shard.shard %q to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %ks = shard.shard %k to %seq annotate_for_users : tensor<1x?x2x2xf32>
  %vs = shard.shard %v to %seq annotate_for_users : tensor<1x?x2x2xf32>
  %o = mm.attention %qs, %ks, %vs {causal} : (tensor<1x?x4x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>) -> tensor<1x?x4x2xf32>
  %os = shard.shard %o to %seq : tensor<1x?x4x2xf32>
  return %os : tensor<1x?x4x2xf32>
}

// Its gradient under the same split: each rank's dq from its queries
// against every key; its dk and dv are its queries' share of sums over all
// of them, all-reduced over the sequence axis, then sliced to its chunk.
// CHECK-LABEL: func.func @attention_grad_sequence_split(
// CHECK: shard.all_gather %{{.*}} on @cp grid_axes = [0] gather_axis = 1 : tensor<1x?x2x2xf32> -> tensor<1x?x2x2xf32>
// CHECK: %[[START:.*]] = mm.cast %{{.*}} : tensor<1xf32> to tensor<1xi64>
// CHECK: %[[DQ:.*]], %[[DK:.*]], %[[DV:.*]] = mm.attention_grad %arg0, %{{.*}}, %{{.*}}, %arg3, %arg4 query_start(%[[START]]) {causal}
// CHECK-DAG: %[[DKALL:.*]] = shard.all_reduce %[[DK]] on @cp grid_axes = [0] : tensor<1x?x2x2xf32> -> tensor<1x?x2x2xf32>
// CHECK-DAG: %[[DVALL:.*]] = shard.all_reduce %[[DV]] on @cp grid_axes = [0] : tensor<1x?x2x2xf32> -> tensor<1x?x2x2xf32>
// CHECK-DAG: %[[DKS:.*]] = shard.all_slice %[[DKALL]] on @cp grid_axes = [0] slice_axis = 1
// CHECK-DAG: %[[DVS:.*]] = shard.all_slice %[[DVALL]] on @cp grid_axes = [0] slice_axis = 1
// CHECK: return %[[DQ]], %[[DKS]], %[[DVS]]
func.func @attention_grad_sequence_split(%q: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %k: tensor<1x?x2x2xf32> {mm.dims = ["", "T", "", ""]}, %v: tensor<1x?x2x2xf32> {mm.dims = ["", "T", "", ""]}, %o: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %do: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}) -> (tensor<1x?x4x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>) {
  %seq = shard.sharding @cp split_axes = [[], [0]] : !shard.sharding
  %qs = shard.shard %q to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %ks = shard.shard %k to %seq annotate_for_users : tensor<1x?x2x2xf32>
  %vs = shard.shard %v to %seq annotate_for_users : tensor<1x?x2x2xf32>
  %os = shard.shard %o to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %dos = shard.shard %do to %seq annotate_for_users : tensor<1x?x4x2xf32>
  %dq, %dk, %dv = mm.attention_grad %qs, %ks, %vs, %os, %dos {causal} : (tensor<1x?x4x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>)
  %dqs = shard.shard %dq to %seq : tensor<1x?x4x2xf32>
  %dks = shard.shard %dk to %seq : tensor<1x?x2x2xf32>
  %dvs = shard.shard %dv to %seq : tensor<1x?x2x2xf32>
  return %dqs, %dks, %dvs : tensor<1x?x4x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>
}

// Lightning attention split over its sequence (grid axis 0) and its heads
// (axis 1) at once, tp x cp: each rank runs its heads (head_index, their
// slopes among all four) on its chunk, and LASP+ exchanges the chunk states
// among the ranks holding the same heads (the all_gathers over axis 0 only).
// CHECK-LABEL: func.func @lightning_sequence_and_heads(
// CHECK: %[[IDS:.*]] = shard.all_slice %{{.*}} on @grid grid_axes = [1] slice_axis = 0 : tensor<4xi64> -> tensor<2xi64>
// CHECK: mm.lightning_attention %{{.*}}, %{{.*}}, %{{.*}} head_index(%[[IDS]]) {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64, total_heads = 4 : i64} : (tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>, tensor<1x?x2x2xf32>, tensor<2xi64>)
// CHECK: shard.all_gather %{{.*}} on @grid grid_axes = [0] gather_axis = 0 : tensor<1x1x2x2x2xf32> -> tensor<2x1x2x2x2xf32>
// CHECK: shard.all_gather %{{.*}} on @grid grid_axes = [0] gather_axis = 0 : tensor<1xf32> -> tensor<2xf32>
// CHECK: mm.lightning_attention %{{.*}}, %{{.*}}, %{{.*}} state(%{{.*}}) head_index(%[[IDS]])
func.func @lightning_sequence_and_heads(%q: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %k: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}, %v: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}) -> (tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>) {
  %both = shard.sharding @grid split_axes = [[], [0], [1]] : !shard.sharding
  %heads = shard.sharding @grid split_axes = [[], [1]] : !shard.sharding
  %qs = shard.shard %q to %both annotate_for_users : tensor<1x?x4x2xf32>
  %ks = shard.shard %k to %both annotate_for_users : tensor<1x?x4x2xf32>
  %vs = shard.shard %v to %both annotate_for_users : tensor<1x?x4x2xf32>
  %o, %s = mm.lightning_attention %qs, %ks, %vs {block_size = 2 : i64, layer_index = 1 : i64, num_layers = 3 : i64} : (tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>)
  %os = shard.shard %o to %both : tensor<1x?x4x2xf32>
  %ss = shard.shard %s to %heads : tensor<1x4x2x2xf32>
  return %os, %ss : tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>
}
