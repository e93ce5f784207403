// Softmax, reductions, top-k values.

func.func @softmax_last(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.softmax %x {dim = -1 : i64} : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @softmax_first(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.softmax %x {dim = 0 : i64} : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @log_softmax_last(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.log_softmax %x {dim = -1 : i64} : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @log_softmax_first(%x: tensor<3x4xf32>, %c: tensor<3x4xf32>) -> tensor<f32> {
  %y = mm.log_softmax %x {dim = 0 : i64} : tensor<3x4xf32>
  %wc = mm.mul %y, %c : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_sum(%x: tensor<?x3x4xf32> {mm.dims = ["N", "", ""]}, %c: tensor<?x4xf32> {mm.dims = ["N", ""]}) -> tensor<f32> {
  %y = mm.reduce sum %x dims [1] : (tensor<?x3x4xf32>) -> tensor<?x4xf32>
  %wc = mm.mul %y, %c : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<?x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_sum_keep(%x: tensor<2x?x4xf32> {mm.dims = ["", "M", ""]}, %c: tensor<2x1x1xf32>) -> tensor<f32> {
  %y = mm.reduce sum %x dims [1, 2] keep_dims : (tensor<2x?x4xf32>) -> tensor<2x1x1xf32>
  %wc = mm.mul %y, %c : (tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x1x1xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_mean(%x: tensor<?x3x4xf32> {mm.dims = ["N", "", ""]}, %c: tensor<?x4xf32> {mm.dims = ["N", ""]}) -> tensor<f32> {
  %y = mm.reduce mean %x dims [1] : (tensor<?x3x4xf32>) -> tensor<?x4xf32>
  %wc = mm.mul %y, %c : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<?x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_mean_keep(%x: tensor<2x?x4xf32> {mm.dims = ["", "M", ""]}, %c: tensor<2x1x1xf32>) -> tensor<f32> {
  %y = mm.reduce mean %x dims [1, 2] keep_dims : (tensor<2x?x4xf32>) -> tensor<2x1x1xf32>
  %wc = mm.mul %y, %c : (tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x1x1xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_max(%x: tensor<?x3x4xf32> {mm.dims = ["N", "", ""]}, %c: tensor<?x4xf32> {mm.dims = ["N", ""]}) -> tensor<f32> {
  %y = mm.reduce max %x dims [1] : (tensor<?x3x4xf32>) -> tensor<?x4xf32>
  %wc = mm.mul %y, %c : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<?x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_max_keep(%x: tensor<2x?x4xf32> {mm.dims = ["", "M", ""]}, %c: tensor<2x1x1xf32>) -> tensor<f32> {
  %y = mm.reduce max %x dims [1, 2] keep_dims : (tensor<2x?x4xf32>) -> tensor<2x1x1xf32>
  %wc = mm.mul %y, %c : (tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x1x1xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_min(%x: tensor<?x3x4xf32> {mm.dims = ["N", "", ""]}, %c: tensor<?x4xf32> {mm.dims = ["N", ""]}) -> tensor<f32> {
  %y = mm.reduce min %x dims [1] : (tensor<?x3x4xf32>) -> tensor<?x4xf32>
  %wc = mm.mul %y, %c : (tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<?x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reduce_min_keep(%x: tensor<2x?x4xf32> {mm.dims = ["", "M", ""]}, %c: tensor<2x1x1xf32>) -> tensor<f32> {
  %y = mm.reduce min %x dims [1, 2] keep_dims : (tensor<2x?x4xf32>) -> tensor<2x1x1xf32>
  %wc = mm.mul %y, %c : (tensor<2x1x1xf32>, tensor<2x1x1xf32>) -> tensor<2x1x1xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x1x1xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @top_k(%x: tensor<3x6xf32>, %c: tensor<3x2xf32>) -> tensor<f32> {
  %v, %i = mm.top_k %x {k = 2 : i64} : (tensor<3x6xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  %wc = mm.mul %v, %c : (tensor<3x2xf32>, tensor<3x2xf32>) -> tensor<3x2xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<3x2xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
