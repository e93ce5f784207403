// Vision (ir/ops/VisionOps.td, /work/shared/spec/minimax-vl-01.md) and
// recommender ops (ir/ops/RecsysOps.td, /work/shared/spec/amer.md).

// out h = (7 + 2*1 - 2*(3-1) - 1)/2 + 1 = 3, out w = (8 + 2*2 - 1*(2-1) - 1)/1 + 1 = 11.
func.func @conv2d(%x: tensor<2x3x7x8xf32>, %w: tensor<4x3x3x2xf32>, %b: tensor<4xf32>) -> tensor<2x4x3x11xf32> {
  %0 = mm.conv2d %x, %w, %b {strides = array<i64: 2, 1>, padding = array<i64: 1, 2>, dilation = array<i64: 2, 1>}
      : (tensor<2x3x7x8xf32>, tensor<4x3x3x2xf32>, tensor<4xf32>) -> tensor<2x4x3x11xf32>
  return %0 : tensor<2x4x3x11xf32>
}
// Patch embedding: kernel = stride, no bias, no padding.
func.func @conv2d_patch(%x: tensor<1x2x6x6xf32>, %w: tensor<3x2x2x2xf32>) -> tensor<1x3x3x3xf32> {
  %0 = mm.conv2d %x, %w {strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<3x2x2x2xf32>) -> tensor<1x3x3x3xf32>
  return %0 : tensor<1x3x3x3xf32>
}
func.func @merge_image_features(%e: tensor<2x5x4xf32>, %ids: tensor<2x5xi64>, %f: tensor<3x4xf32>) -> tensor<2x5x4xf32> {
  %0 = mm.merge_image_features %e, %ids, %f {image_token_id = 7 : i64}
      : (tensor<2x5x4xf32>, tensor<2x5xi64>, tensor<3x4xf32>) -> tensor<2x5x4xf32>
  return %0 : tensor<2x5x4xf32>
}
// Its features' gradient: the rows of g at the placeholders.
func.func @merge_image_features_grad(%g: tensor<2x5x4xf32>, %ids: tensor<2x5xi64>, %f: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = mm.merge_image_features_grad %g, %ids, %f {image_token_id = 7 : i64}
      : (tensor<2x5x4xf32>, tensor<2x5xi64>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
// out len = (9 + 2 + 1 - 2*(3-1) - 1)/2 + 1 = 4.
func.func @conv1d(%x: tensor<2x9x3xf32>, %w: tensor<4x3x3xf32>, %b: tensor<4xf32>) -> tensor<2x4x4xf32> {
  %0 = mm.conv1d %x, %w, %b {stride = 2 : i64, dilation = 2 : i64, padding = array<i64: 2, 1>}
      : (tensor<2x9x3xf32>, tensor<4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4xf32>
  return %0 : tensor<2x4x4xf32>
}
// Causal, length-preserving, dynamic batch.
func.func @conv1d_causal(%x: tensor<?x9x3xf32> {mm.dims = ["B", "", ""]}, %w: tensor<4x3x3xf32>) -> tensor<?x9x4xf32> {
  %0 = mm.conv1d %x, %w {padding = array<i64: 2, 0>} : (tensor<?x9x3xf32>, tensor<4x3x3xf32>) -> tensor<?x9x4xf32>
  return %0 : tensor<?x9x4xf32>
}
func.func @gru(%x: tensor<2x5x3xf32>, %wih: tensor<12x3xf32>, %whh: tensor<12x4xf32>, %bih: tensor<12xf32>, %bhh: tensor<12xf32>)
    -> (tensor<2x5x4xf32>, tensor<2x4xf32>) {
  %s, %h = mm.gru %x, %wih, %whh, %bih, %bhh
      : (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>) -> (tensor<2x5x4xf32>, tensor<2x4xf32>)
  return %s, %h : tensor<2x5x4xf32>, tensor<2x4xf32>
}
func.func @gru_init(%x: tensor<2x5x3xf32>, %wih: tensor<12x3xf32>, %whh: tensor<12x4xf32>, %bih: tensor<12xf32>, %bhh: tensor<12xf32>,
                    %h0: tensor<2x4xf32>) -> (tensor<2x5x4xf32>, tensor<2x4xf32>) {
  %s, %h = mm.gru %x, %wih, %whh, %bih, %bhh init(%h0)
      : (tensor<2x5x3xf32>, tensor<12x3xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>, tensor<2x4xf32>) -> (tensor<2x5x4xf32>, tensor<2x4xf32>)
  return %s, %h : tensor<2x5x4xf32>, tensor<2x4xf32>
}
func.func @pool_sum(%x: tensor<3x5x4xf32>, %m: tensor<3x5xf32>) -> tensor<3x4xf32> {
  %0 = mm.pool sum %x mask(%m) dim 1 : (tensor<3x5x4xf32>, tensor<3x5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func @pool_mean(%x: tensor<3x5x4xf32>, %m: tensor<3x5xf32>) -> tensor<3x4xf32> {
  %0 = mm.pool mean %x mask(%m) dim 1 : (tensor<3x5x4xf32>, tensor<3x5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func @pool_max(%x: tensor<3x5x4xf32>, %m: tensor<3x5xf32>) -> tensor<3x4xf32> {
  %0 = mm.pool max %x mask(%m) dim 1 : (tensor<3x5x4xf32>, tensor<3x5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func @pool_mean_nomask(%x: tensor<?x5x4xf32> {mm.dims = ["B", "", ""]}) -> tensor<?x4xf32> {
  %0 = mm.pool mean %x dim 1 : (tensor<?x5x4xf32>) -> tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}
func.func @pool_max_last(%x: tensor<3x5x4xf32>, %m: tensor<3x5x4xf32>) -> tensor<3x5xf32> {
  %0 = mm.pool max %x mask(%m) dim 2 : (tensor<3x5x4xf32>, tensor<3x5x4xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
func.func @target_attention(%s: tensor<3x5x4xf32>, %t: tensor<3x4xf32>, %m: tensor<3x5xf32>) -> tensor<3x4xf32> {
  %0 = mm.target_attention %s, %t mask(%m) : (tensor<3x5x4xf32>, tensor<3x4xf32>, tensor<3x5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func @target_attention_scale(%s: tensor<2x6x4xf32>, %t: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %0 = mm.target_attention %s, %t {scale = 0.7 : f64} : (tensor<2x6x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}
func.func @hadamard_interaction(%f: tensor<2x5x3xf32>) -> tensor<2x3x3xf32> {
  %0 = mm.hadamard_interaction %f [array<i64: 0, 1>, array<i64: 4, 1, 2>, array<i64: 0, 2, 3, 4>]
      : (tensor<2x5x3xf32>) -> tensor<2x3x3xf32>
  return %0 : tensor<2x3x3xf32>
}
