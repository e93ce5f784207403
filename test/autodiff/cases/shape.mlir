// Data movement.

func.func @reshape(%x: tensor<?x?x6xf32> {mm.dims = ["N", "M", ""]}, %c: tensor<?x?x2x3xf32> {mm.dims = ["N", "M", "", ""]}) -> tensor<f32> {
  %y = mm.reshape %x [0, 0, 2, 3] : (tensor<?x?x6xf32>) -> tensor<?x?x2x3xf32>
  %wc = mm.mul %y, %c : (tensor<?x?x2x3xf32>, tensor<?x?x2x3xf32>) -> tensor<?x?x2x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<?x?x2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @reshape_flatten(%x: tensor<?x2x3xf32> {mm.dims = ["N", "", ""]}, %c: tensor<?x2x3xf32> {mm.dims = ["N", "", ""]}) -> tensor<f32> {
  %y = mm.reshape %x [-1, 3] : (tensor<?x2x3xf32>) -> tensor<?x3xf32>
  %cr = mm.reshape %c [-1, 3] : (tensor<?x2x3xf32>) -> tensor<?x3xf32>
  %wc = mm.mul %y, %cr : (tensor<?x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<?x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @transpose(%x: tensor<2x3x4xf32>, %c: tensor<4x2x3xf32>) -> tensor<f32> {
  %y = mm.transpose %x [2, 0, 1] : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  %wc = mm.mul %y, %c : (tensor<4x2x3xf32>, tensor<4x2x3xf32>) -> tensor<4x2x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<4x2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @concat(%a: tensor<2x1x3xf32>, %b: tensor<2x2x3xf32>, %c: tensor<2x3x3xf32>) -> tensor<f32> {
  %y = mm.concat %a, %b dim 1 : (tensor<2x1x3xf32>, tensor<2x2x3xf32>) -> tensor<2x3x3xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x3xf32>, tensor<2x3x3xf32>) -> tensor<2x3x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @slice_middle(%x: tensor<2x7xf32>, %c: tensor<2x3xf32>) -> tensor<f32> {
  %y = mm.slice %x dim 1 [2 : 5] : (tensor<2x7xf32>) -> tensor<2x3xf32>
  %wc = mm.mul %y, %c : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @slice_last(%x: tensor<2x5x3xf32>, %c: tensor<2x1x3xf32>) -> tensor<f32> {
  %y = mm.slice %x dim 1 [-1 :] : (tensor<2x5x3xf32>) -> tensor<2x1x3xf32>
  %wc = mm.mul %y, %c : (tensor<2x1x3xf32>, tensor<2x1x3xf32>) -> tensor<2x1x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x1x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @gather_take(%x: tensor<5x3xf32>, %i: tensor<2x2xi64>, %c: tensor<2x2x3xf32>) -> tensor<f32> {
  %y = mm.gather %x, %i {dim = 0 : i64} : (tensor<5x3xf32>, tensor<2x2xi64>) -> tensor<2x2x3xf32>
  %wc = mm.mul %y, %c : (tensor<2x2x3xf32>, tensor<2x2x3xf32>) -> tensor<2x2x3xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @gather_batched(%x: tensor<2x5x3xf32>, %i: tensor<2xi64>, %c: tensor<2x3xf32>) -> tensor<f32> {
  %y = mm.gather %x, %i {dim = 1 : i64, batch_dims = 1 : i64} : (tensor<2x5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %wc = mm.mul %y, %c : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<2x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @scatter_add(%d: tensor<5x3xf32>, %i: tensor<4xi64>, %u: tensor<4x3xf32>, %c: tensor<5x3xf32>) -> tensor<f32> {
  %y = mm.scatter_add %d, %i, %u {dim = 0 : i64} : (tensor<5x3xf32>, tensor<4xi64>, tensor<4x3xf32>) -> tensor<5x3xf32>
  %wc = mm.mul %y, %c : (tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<5x3xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<5x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @scatter_add_batched(%d: tensor<2x5xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>, %c: tensor<2x5xf32>) -> tensor<f32> {
  %y = mm.scatter_add %d, %i, %u {dim = 1 : i64, batch_dims = 1 : i64} : (tensor<2x5xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<2x5xf32>
  %wc = mm.mul %y, %c : (tensor<2x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<2x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
