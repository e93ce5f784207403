// Benchmark functions for the CPU kernel kinds that any mm module uses
// (bench/generic_cpu_bench.py): one op each, at sizes where the work, not
// the call, dominates.
func.func @matmul(%a: tensor<512x512xf32>, %b: tensor<512x512xf32>) -> tensor<512x512xf32> {
  %c = mm.matmul %a, %b : (tensor<512x512xf32>, tensor<512x512xf32>) -> tensor<512x512xf32>
  return %c : tensor<512x512xf32>
}
func.func @matmul_bt(%a: tensor<512x512xf32>, %b: tensor<512x512xf32>) -> tensor<512x512xf32> {
  %c = mm.matmul %a, %b {transpose_rhs} : (tensor<512x512xf32>, tensor<512x512xf32>) -> tensor<512x512xf32>
  return %c : tensor<512x512xf32>
}
func.func @softmax(%x: tensor<4096x1024xf32>) -> tensor<4096x1024xf32> {
  %y = mm.softmax %x {dim = -1 : i64} : tensor<4096x1024xf32>
  return %y : tensor<4096x1024xf32>
}
func.func @layer_norm(%x: tensor<4096x1024xf32>, %g: tensor<1024xf32>, %b: tensor<1024xf32>) -> tensor<4096x1024xf32> {
  %y = mm.layer_norm %x, %g, %b : (tensor<4096x1024xf32>, tensor<1024xf32>, tensor<1024xf32>) -> tensor<4096x1024xf32>
  return %y : tensor<4096x1024xf32>
}
func.func @reduce_sum(%x: tensor<4096x1024xf32>) -> tensor<4096xf32> {
  %y = mm.reduce sum %x dims [1] : (tensor<4096x1024xf32>) -> tensor<4096xf32>
  return %y : tensor<4096xf32>
}
func.func @transpose(%x: tensor<2048x2048xf32>) -> tensor<2048x2048xf32> {
  %y = mm.transpose %x [1, 0] : (tensor<2048x2048xf32>) -> tensor<2048x2048xf32>
  return %y : tensor<2048x2048xf32>
}
func.func @cross_entropy(%x: tensor<1024x8192xf32>, %l: tensor<1024xi64>) -> tensor<f32> {
  %y = mm.cross_entropy mean %x, %l : (tensor<1024x8192xf32>, tensor<1024xi64>) -> tensor<f32>
  return %y : tensor<f32>
}
func.func @conv2d_patches(%x: tensor<4x3x224x224xf32>, %w: tensor<768x3x16x16xf32>) -> tensor<4x768x14x14xf32> {
  %y = mm.conv2d %x, %w {strides = array<i64: 16, 16>} : (tensor<4x3x224x224xf32>, tensor<768x3x16x16xf32>) -> tensor<4x768x14x14xf32>
  return %y : tensor<4x768x14x14xf32>
}

// The patch embedding's backward (a ViT training step): the input and weight gradients.
func.func @conv2d_patches_grad(%x: tensor<4x3x224x224xf32>, %w: tensor<768x3x16x16xf32>, %dy: tensor<4x768x14x14xf32>) -> (tensor<4x3x224x224xf32>, tensor<768x3x16x16xf32>) {
  %dx, %dw = mm.conv2d_grad %x, %w, %dy {strides = array<i64: 16, 16>} : (tensor<4x3x224x224xf32>, tensor<768x3x16x16xf32>, tensor<4x768x14x14xf32>) -> (tensor<4x3x224x224xf32>, tensor<768x3x16x16xf32>)
  return %dx, %dw : tensor<4x3x224x224xf32>, tensor<768x3x16x16xf32>
}
