// Linear layers, matmul, embedding, norms.

func.func @linear_bias(%x: tensor<?x3x4xf32> {mm.dims = ["N", "", ""]}, %w: tensor<5x4xf32>, %b: tensor<5xf32>, %c: tensor<?x3x5xf32> {mm.dims = ["N", "", ""]}) -> tensor<f32> {
  %y = mm.linear %x, %w, %b : (tensor<?x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<?x3x5xf32>
  %wc = mm.mul %y, %c : (tensor<?x3x5xf32>, tensor<?x3x5xf32>) -> tensor<?x3x5xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<?x3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @linear_1d(%x: tensor<4xf32>, %w: tensor<5x4xf32>, %c: tensor<5xf32>) -> tensor<f32> {
  %y = mm.linear %x, %w : (tensor<4xf32>, tensor<5x4xf32>) -> tensor<5xf32>
  %wc = mm.mul %y, %c : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>
  %l = mm.reduce sum %wc dims [0] : (tensor<5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @matmul(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<2x3x5xf32>) -> tensor<f32> {
  %y = mm.matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x5xf32>, tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @matmul_tt(%a: tensor<2x4x3xf32>, %b: tensor<1x5x4xf32>, %c: tensor<2x3x5xf32>) -> tensor<f32> {
  %y = mm.matmul %a, %b {transpose_lhs, transpose_rhs} : (tensor<2x4x3xf32>, tensor<1x5x4xf32>) -> tensor<2x3x5xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x5xf32>, tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @matmul_tl(%a: tensor<4x3xf32>, %b: tensor<2x4x5xf32>, %c: tensor<2x3x5xf32>) -> tensor<f32> {
  %y = mm.matmul %a, %b {transpose_lhs} : (tensor<4x3xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x5xf32>, tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @embedding(%t: tensor<6x4xf32>, %ids: tensor<2x3xi64>, %c: tensor<2x3x4xf32>) -> tensor<f32> {
  %y = mm.embedding %t, %ids : (tensor<6x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @rms_norm(%x: tensor<?x3x8xf32> {mm.dims = ["N", "", ""]}, %g: tensor<8xf32>, %c: tensor<?x3x8xf32> {mm.dims = ["N", "", ""]}) -> tensor<f32> {
  %y = mm.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x3x8xf32>, tensor<8xf32>) -> tensor<?x3x8xf32>
  %wc = mm.mul %y, %c : (tensor<?x3x8xf32>, tensor<?x3x8xf32>) -> tensor<?x3x8xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<?x3x8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @layer_norm(%x: tensor<2x3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %c: tensor<2x3x8xf32>) -> tensor<f32> {
  %y = mm.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x8xf32>, tensor<2x3x8xf32>) -> tensor<2x3x8xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
