// Splits a partition rule cannot honour fail with a located error naming the
// op, instead of a wrong program.
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-partition-pipeline

shard.grid @grid(shape = 2x2)

// Lightning attention split by a dynamic head count: each head's decay
// slope depends on its place among all the heads, which is unknown.
func.func @lightning_dynamic_heads(%q: tensor<1x4x?x2xf32> {mm.dims = ["", "", "H", ""]}) -> tensor<1x4x?x2xf32> {
  %heads = shard.sharding @grid split_axes = [[], [], [1]] : !shard.sharding
  %qs = shard.shard %q to %heads annotate_for_users : tensor<1x4x?x2xf32>
  // expected-error @+1 {{'mm.lightning_attention' op splits a dynamic head count: its heads' slopes are unknown}}
  %o, %s = mm.lightning_attention %qs, %qs, %qs {layer_index = 0 : i64, num_layers = 2 : i64} : (tensor<1x4x?x2xf32>, tensor<1x4x?x2xf32>, tensor<1x4x?x2xf32>) -> (tensor<1x4x?x2xf32>, tensor<1x?x2x2xf32>)
  %os = shard.shard %o to %heads : tensor<1x4x?x2xf32>
  return %os : tensor<1x4x?x2xf32>
}
