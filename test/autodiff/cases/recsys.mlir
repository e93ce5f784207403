// AMER building blocks: masked pooling, target attention, Hadamard
// interactions. loss = sum(op(...) * c).

func.func @pool_sum(%x: tensor<3x5x4xf32>, %m: tensor<3x5xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.pool sum %x mask(%m) dim 1 : (tensor<3x5x4xf32>, tensor<3x5xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @pool_mean(%x: tensor<3x5x4xf32>, %m: tensor<3x5xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.pool mean %x mask(%m) dim 1 : (tensor<3x5x4xf32>, tensor<3x5xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @pool_max(%x: tensor<3x5x4xf32>, %m: tensor<3x5xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.pool max %x mask(%m) dim 1 : (tensor<3x5x4xf32>, tensor<3x5xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @pool_mean_nomask(%x: tensor<?x5x4xf32> {mm.dims = ["B", "", ""]}, %c: tensor<?x4xf32> {mm.dims = ["B", ""]}) -> tensor<f32> {
  %y = mm.pool mean %x dim 1 : (tensor<?x5x4xf32>) -> tensor<?x4xf32>
  %wc = mm.mul %y, %c : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<?x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @pool_max_last(%x: tensor<3x5x4xf32>, %m: tensor<3x5x4xf32>, %c: tensor<3x5xf32>) -> tensor<f32> {
  %y = mm.pool max %x mask(%m) dim 2 : (tensor<3x5x4xf32>, tensor<3x5x4xf32>) -> tensor<3x5xf32>
  %wc = mm.mul %y, %c : (tensor<3x5xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @target_attention(%s: tensor<3x6x4xf32>, %t: tensor<3x4xf32>, %m: tensor<3x6xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.target_attention %s, %t mask(%m) : (tensor<3x6x4xf32>, tensor<3x4xf32>, tensor<3x6xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @target_attention_scaled(%s: tensor<2x5x4xf32>, %t: tensor<2x4xf32>, %c: tensor<2x4xf32>) -> tensor<f32> {
  %y = mm.target_attention %s, %t {scale = 0.8 : f64} : (tensor<2x5x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %wc = mm.mul %y, %c : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// Field 4 is in no group: its gradient is zero.
func.func @hadamard(%f: tensor<2x5x3xf32>, %c: tensor<2x3x3xf32>) -> tensor<f32> {
  %y = mm.hadamard_interaction %f [array<i64: 0, 1>, array<i64: 0, 2, 3>, array<i64: 1, 3>] : (tensor<2x5x3xf32>) -> tensor<2x3x3xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @conv1d(%x: tensor<2x9x3xf32>, %w: tensor<4x3x3xf32>, %b: tensor<4xf32>, %c: tensor<2x4x4xf32>) -> tensor<f32> {
  %y = mm.conv1d %x, %w, %b {stride = 2 : i64, dilation = 2 : i64, padding = array<i64: 2, 1>} : (tensor<2x9x3xf32>, tensor<4x3x3xf32>, tensor<4xf32>) -> tensor<2x4x4xf32>
  %wc = mm.mul %y, %c : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x4x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @gru(%x: tensor<2x4x3xf32>, %wih: tensor<6x3xf32>, %whh: tensor<6x2xf32>, %bih: tensor<6xf32>, %bhh: tensor<6xf32>, %c: tensor<2x4x2xf32>, %d: tensor<2x2xf32>) -> tensor<f32> {
  %s, %h = mm.gru %x, %wih, %whh, %bih, %bhh : (tensor<2x4x3xf32>, tensor<6x3xf32>, tensor<6x2xf32>, tensor<6xf32>, tensor<6xf32>) -> (tensor<2x4x2xf32>, tensor<2x2xf32>)
  %ws = mm.mul %s, %c : (tensor<2x4x2xf32>, tensor<2x4x2xf32>) -> tensor<2x4x2xf32>
  %a = mm.reduce sum %ws dims [0, 1, 2] : (tensor<2x4x2xf32>) -> tensor<f32>
  %wh = mm.mul %h, %d : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  %b = mm.reduce sum %wh dims [0, 1] : (tensor<2x2xf32>) -> tensor<f32>
  %l = mm.add %a, %b : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @gru_init(%x: tensor<2x4x3xf32>, %wih: tensor<6x3xf32>, %whh: tensor<6x2xf32>, %bih: tensor<6xf32>, %bhh: tensor<6xf32>, %h0: tensor<2x2xf32>, %c: tensor<2x4x2xf32>) -> tensor<f32> {
  %s, %h = mm.gru %x, %wih, %whh, %bih, %bhh init(%h0) : (tensor<2x4x3xf32>, tensor<6x3xf32>, tensor<6x2xf32>, tensor<6xf32>, tensor<6xf32>, tensor<2x2xf32>) -> (tensor<2x4x2xf32>, tensor<2x2xf32>)
  %ws = mm.mul %s, %c : (tensor<2x4x2xf32>, tensor<2x4x2xf32>) -> tensor<2x4x2xf32>
  %l = mm.reduce sum %ws dims [0, 1, 2] : (tensor<2x4x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// AMER's length-preserving convolution, k = 5, with a dynamic batch.
func.func @conv1d_same(%x: tensor<?x7x3xf32> {mm.dims = ["B", "", ""]}, %w: tensor<3x3x5xf32>, %b: tensor<3xf32>, %c: tensor<?x7x3xf32> {mm.dims = ["B", "", ""]}) -> tensor<f32> {
  %y = mm.conv1d %x, %w, %b {padding = array<i64: 2, 2>} : (tensor<?x7x3xf32>, tensor<3x3x5xf32>, tensor<3xf32>) -> tensor<?x7x3xf32>
  %wc = mm.mul %y, %c : (tensor<?x7x3xf32>, tensor<?x7x3xf32>) -> tensor<?x7x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<?x7x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
