// reshape, transpose, concat, slice, gather, scatter_add (ir/ops/ShapeOps.td).

func.func @reshape(%x: tensor<2x3x4xf32>) -> tensor<2x6x2xf32> {
  %0 = mm.reshape %x [0, -1, 2] : (tensor<2x3x4xf32>) -> tensor<2x6x2xf32>
  return %0 : tensor<2x6x2xf32>
}
func.func @reshape_dyn(%x: tensor<?x12xf32> {mm.dims = ["N", ""]}) -> tensor<?x3x4xf32> {
  %0 = mm.reshape %x [0, 3, 4] : (tensor<?x12xf32>) -> tensor<?x3x4xf32>
  return %0 : tensor<?x3x4xf32>
}
func.func @reshape_i64(%x: tensor<2x6xi64>) -> tensor<3x4xi64> {
  %0 = mm.reshape %x [3, -1] : (tensor<2x6xi64>) -> tensor<3x4xi64>
  return %0 : tensor<3x4xi64>
}
func.func @transpose(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %0 = mm.transpose %x [2, 0, 1] : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
  return %0 : tensor<4x2x3xf32>
}
func.func @transpose_4d(%x: tensor<2x3x4x5xf32>) -> tensor<2x4x3x5xf32> {
  %0 = mm.transpose %x [0, 2, 1, 3] : (tensor<2x3x4x5xf32>) -> tensor<2x4x3x5xf32>
  return %0 : tensor<2x4x3x5xf32>
}
func.func @concat(%a: tensor<2x1x4xf32>, %b: tensor<2x3x4xf32>, %c: tensor<2x2x4xf32>) -> tensor<2x6x4xf32> {
  %0 = mm.concat %a, %b, %c dim -2 : (tensor<2x1x4xf32>, tensor<2x3x4xf32>, tensor<2x2x4xf32>) -> tensor<2x6x4xf32>
  return %0 : tensor<2x6x4xf32>
}
func.func @concat_last(%a: tensor<3x2xf32>, %b: tensor<3x5xf32>) -> tensor<3x7xf32> {
  %0 = mm.concat %a, %b dim 1 : (tensor<3x2xf32>, tensor<3x5xf32>) -> tensor<3x7xf32>
  return %0 : tensor<3x7xf32>
}
func.func @slice_step(%x: tensor<7x3xf32>) -> tensor<3x3xf32> {
  %0 = mm.slice %x dim 0 [1 : 6 : 2] : (tensor<7x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}
// Negative start, end clamped to the dimension, step 2: columns 2, 4, 6.
func.func @slice_neg_clamp(%x: tensor<3x7xf32>) -> tensor<3x3xf32> {
  %0 = mm.slice %x dim 1 [-5 : 100 : 2] : (tensor<3x7xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}
func.func @slice_tail(%x: tensor<3x7xf32>) -> tensor<3x2xf32> {
  %0 = mm.slice %x dim -1 [-2 :] : (tensor<3x7xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}
func.func @slice_neg_end(%x: tensor<2x7x2xf32>) -> tensor<2x2x2xf32> {
  %0 = mm.slice %x dim 1 [1 : -2 : 3] : (tensor<2x7x2xf32>) -> tensor<2x2x2xf32>
  return %0 : tensor<2x2x2xf32>
}
// batch_dims = 0: NumPy take with 2-D indices.
func.func @gather_take(%x: tensor<5x3xf32>, %i: tensor<2x2xi64>) -> tensor<2x2x3xf32> {
  %0 = mm.gather %x, %i {dim = 0 : i64} : (tensor<5x3xf32>, tensor<2x2xi64>) -> tensor<2x2x3xf32>
  return %0 : tensor<2x2x3xf32>
}
func.func @gather_dim1(%x: tensor<2x5x3xf32>, %i: tensor<4xi64>) -> tensor<2x4x3xf32> {
  %0 = mm.gather %x, %i {dim = 1 : i64} : (tensor<2x5x3xf32>, tensor<4xi64>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}
func.func @gather_batch1(%x: tensor<2x5x3xf32>, %i: tensor<2xi64>) -> tensor<2x3xf32> {
  %0 = mm.gather %x, %i {dim = 1 : i64, batch_dims = 1 : i64} : (tensor<2x5x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
func.func @gather_batch1_multi(%x: tensor<2x5x3xf32>, %i: tensor<2x4xi64>) -> tensor<2x4x3xf32> {
  %0 = mm.gather %x, %i {dim = 1 : i64, batch_dims = 1 : i64} : (tensor<2x5x3xf32>, tensor<2x4xi64>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}
// The log-probability of each label.
func.func @gather_batch2(%x: tensor<2x3x6xf32>, %l: tensor<2x3xi64>) -> tensor<2x3xf32> {
  %0 = mm.gather %x, %l {dim = 2 : i64, batch_dims = 2 : i64} : (tensor<2x3x6xf32>, tensor<2x3xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
// Repeated indices accumulate.
func.func @scatter_add(%d: tensor<4x3xf32>, %i: tensor<5xi64>, %u: tensor<5x3xf32>) -> tensor<4x3xf32> {
  %0 = mm.scatter_add %d, %i, %u {dim = 0 : i64} : (tensor<4x3xf32>, tensor<5xi64>, tensor<5x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
func.func @scatter_add_dim1(%d: tensor<2x4x3xf32>, %i: tensor<3xi64>, %u: tensor<2x3x3xf32>) -> tensor<2x4x3xf32> {
  %0 = mm.scatter_add %d, %i, %u {dim = 1 : i64} : (tensor<2x4x3xf32>, tensor<3xi64>, tensor<2x3x3xf32>) -> tensor<2x4x3xf32>
  return %0 : tensor<2x4x3xf32>
}
func.func @scatter_add_i64(%d: tensor<4xi64>, %i: tensor<6xi64>, %u: tensor<6xi64>) -> tensor<4xi64> {
  %0 = mm.scatter_add %d, %i, %u {dim = 0 : i64} : (tensor<4xi64>, tensor<6xi64>, tensor<6xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}
