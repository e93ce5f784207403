// Splits a partition rule cannot honour fail with a located error naming the
// op, instead of a wrong program.
// RUN: mm-opt %s -split-input-file -verify-diagnostics -mm-partition-pipeline

shard.grid @grid(shape = 2x2)

// Lightning attention split over its sequence and its heads at once: LASP+
// exchanges whole-head states, so one of the two must stay whole.
func.func @lightning_sequence_and_heads(%q: tensor<1x?x4x2xf32> {mm.dims = ["", "T", "", ""]}) -> tensor<1x?x4x2xf32> {
  %both = shard.sharding @grid split_axes = [[], [0], [1]] : !shard.sharding
  %qs = shard.shard %q to %both annotate_for_users : tensor<1x?x4x2xf32>
  // expected-error @+1 {{'mm.lightning_attention' op splits both its sequence and its heads; split one of them}}
  %o, %s = mm.lightning_attention %qs, %qs, %qs {layer_index = 0 : i64, num_layers = 2 : i64} : (tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>, tensor<1x?x4x2xf32>) -> (tensor<1x?x4x2xf32>, tensor<1x4x2x2xf32>)
  %os = shard.shard %o to %both : tensor<1x?x4x2xf32>
  return %os : tensor<1x?x4x2xf32>
}
