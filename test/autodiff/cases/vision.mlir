// The vision tower's convolution. loss = sum(conv(...) * c).

func.func @conv2d(%x: tensor<2x3x7x8xf32>, %w: tensor<4x3x3x2xf32>, %b: tensor<4xf32>, %c: tensor<2x4x3x11xf32>) -> tensor<f32> {
  %y = mm.conv2d %x, %w, %b {strides = array<i64: 2, 1>, padding = array<i64: 1, 2>, dilation = array<i64: 2, 1>} : (tensor<2x3x7x8xf32>, tensor<4x3x3x2xf32>, tensor<4xf32>) -> tensor<2x4x3x11xf32>
  %wc = mm.mul %y, %c : (tensor<2x4x3x11xf32>, tensor<2x4x3x11xf32>) -> tensor<2x4x3x11xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<2x4x3x11xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// VL-01's merge of image features into the text embeddings: the merged
// positions' gradient reaches the features, the others the embeddings.
func.func @merge_image_features(%e: tensor<2x4x3xf32>, %ids: tensor<2x4xi64>, %f: tensor<3x3xf32>, %c: tensor<2x4x3xf32>) -> tensor<f32> {
  %m = mm.merge_image_features %e, %ids, %f {image_token_id = 7 : i64} : (tensor<2x4x3xf32>, tensor<2x4xi64>, tensor<3x3xf32>) -> tensor<2x4x3xf32>
  %t = mm.tanh %m : tensor<2x4x3xf32>
  %wc = mm.mul %t, %c : (tensor<2x4x3xf32>, tensor<2x4x3xf32>) -> tensor<2x4x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x4x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// A patch embedding: kernel = stride, so the input gradient is a transposed
// convolution that touches each input once.
func.func @conv2d_patch(%x: tensor<1x2x6x6xf32>, %w: tensor<3x2x2x2xf32>, %c: tensor<1x3x3x3xf32>) -> tensor<f32> {
  %y = mm.conv2d %x, %w {strides = array<i64: 2, 2>} : (tensor<1x2x6x6xf32>, tensor<3x2x2x2xf32>) -> tensor<1x3x3x3xf32>
  %wc = mm.mul %y, %c : (tensor<1x3x3x3xf32>, tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<1x3x3x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
