// Linear layers, matmul, embedding (ir/ops/LinearOps.td) and the norms
// (ir/ops/NormOps.td).

func.func @linear(%x: tensor<?x3x16xf32> {mm.dims = ["B", "", ""]}, %w: tensor<5x16xf32>) -> tensor<?x3x5xf32> {
  %0 = mm.linear %x, %w : (tensor<?x3x16xf32>, tensor<5x16xf32>) -> tensor<?x3x5xf32>
  return %0 : tensor<?x3x5xf32>
}
func.func @linear_bias(%x: tensor<4x16xf32>, %w: tensor<5x16xf32>, %b: tensor<5xf32>) -> tensor<4x5xf32> {
  %0 = mm.linear %x, %w, %b : (tensor<4x16xf32>, tensor<5x16xf32>, tensor<5xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}
func.func @matmul_bcast(%a: tensor<2x1x3x6xf32>, %b: tensor<4x6x5xf32>) -> tensor<2x4x3x5xf32> {
  %0 = mm.matmul %a, %b : (tensor<2x1x3x6xf32>, tensor<4x6x5xf32>) -> tensor<2x4x3x5xf32>
  return %0 : tensor<2x4x3x5xf32>
}
func.func @matmul_tl(%a: tensor<2x6x3xf32>, %b: tensor<2x6x5xf32>) -> tensor<2x3x5xf32> {
  %0 = mm.matmul %a, %b {transpose_lhs} : (tensor<2x6x3xf32>, tensor<2x6x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}
func.func @matmul_tr(%a: tensor<2x3x6xf32>, %b: tensor<2x5x6xf32>) -> tensor<2x3x5xf32> {
  %0 = mm.matmul %a, %b {transpose_rhs} : (tensor<2x3x6xf32>, tensor<2x5x6xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}
func.func @matmul_tt(%a: tensor<6x3xf32>, %b: tensor<2x5x6xf32>) -> tensor<2x3x5xf32> {
  %0 = mm.matmul %a, %b {transpose_lhs, transpose_rhs} : (tensor<6x3xf32>, tensor<2x5x6xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}
func.func @embedding(%t: tensor<10x4xf32>, %ids: tensor<2x3xi64>) -> tensor<2x3x4xf32> {
  %0 = mm.embedding %t, %ids : (tensor<10x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}
func.func @rms_norm(%x: tensor<?x16xf32> {mm.dims = ["N", ""]}, %g: tensor<16xf32>) -> tensor<?x16xf32> {
  %0 = mm.rms_norm %x, %g {epsilon = 1.0e-06 : f64} : (tensor<?x16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  return %0 : tensor<?x16xf32>
}
// Default epsilon (1e-5) on inputs small enough for it to matter.
func.func @rms_norm_default_eps(%x: tensor<3x16xf32>, %g: tensor<16xf32>) -> tensor<3x16xf32> {
  %0 = mm.rms_norm %x, %g : (tensor<3x16xf32>, tensor<16xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}
func.func @layer_norm(%x: tensor<3x4x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<3x4x16xf32> {
  %0 = mm.layer_norm %x, %g, %b : (tensor<3x4x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<3x4x16xf32>
  return %0 : tensor<3x4x16xf32>
}
func.func @layer_norm_eps(%x: tensor<3x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<3x16xf32> {
  %0 = mm.layer_norm %x, %g, %b {epsilon = 0.1 : f64} : (tensor<3x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}
