// Elementwise ops: loss = sum(op(...) * c).

func.func @silu(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.silu %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @sigmoid(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.sigmoid %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @relu(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.relu %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @tanh(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.tanh %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @exp(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.exp %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @log(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.log %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @sqrt(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.sqrt %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @rsqrt(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.rsqrt %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @neg(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.neg %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @gelu(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.gelu %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @gelu_tanh(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.gelu tanh %x : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @add_row(%x: tensor<3x4xf32>, %y: tensor<4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.add %x, %y : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @add_col(%x: tensor<3x1xf32>, %y: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.add %x, %y : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @sub_row(%x: tensor<3x4xf32>, %y: tensor<4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.sub %x, %y : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @sub_col(%x: tensor<3x1xf32>, %y: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.sub %x, %y : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @mul_row(%x: tensor<3x4xf32>, %y: tensor<4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.mul %x, %y : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @mul_col(%x: tensor<3x1xf32>, %y: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.mul %x, %y : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @div_row(%x: tensor<3x4xf32>, %y: tensor<4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.div %x, %y : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @div_col(%x: tensor<3x1xf32>, %y: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.div %x, %y : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @max_row(%x: tensor<3x4xf32>, %y: tensor<4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.max %x, %y : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @max_col(%x: tensor<3x1xf32>, %y: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.max %x, %y : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @min_row(%x: tensor<3x4xf32>, %y: tensor<4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.min %x, %y : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @min_col(%x: tensor<3x1xf32>, %y: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %z = mm.min %x, %y : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %wc = mm.mul %z, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @swiglu(%g: tensor<3x4xf32>, %u: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.swiglu %g, %u : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @cast_f64(%x: tensor<3x4xf32>, %c: tensor<3x4xf64>) -> tensor<f64> {
  %y = mm.cast %x : tensor<3x4xf32> to tensor<3x4xf64>
  %wc = mm.mul %y, %c : (tensor<3x4xf64>, tensor<3x4xf64>) -> tensor<3x4xf64>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf64>) -> tensor<f64>
  return %l : tensor<f64>
}
