// softmax, log_softmax, reduce, top_k, argmax (ir/ops/ReductionOps.td).

func.func @softmax(%x: tensor<3x4x5xf32>) -> tensor<3x4x5xf32> {
  %0 = mm.softmax %x : tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}
func.func @softmax_dim1(%x: tensor<3x4x5xf32>) -> tensor<3x4x5xf32> {
  %0 = mm.softmax %x {dim = 1 : i64} : tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}
func.func @log_softmax(%x: tensor<?x5xf32> {mm.dims = ["N", ""]}) -> tensor<?x5xf32> {
  %0 = mm.log_softmax %x : tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}
func.func @log_softmax_dim0(%x: tensor<3x4x5xf32>) -> tensor<3x4x5xf32> {
  %0 = mm.log_softmax %x {dim = -3 : i64} : tensor<3x4x5xf32>
  return %0 : tensor<3x4x5xf32>
}
func.func @reduce_sum(%x: tensor<3x4x5xf32>) -> tensor<4xf32> {
  %0 = mm.reduce sum %x dims [0, -1] : (tensor<3x4x5xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
func.func @reduce_mean_keep(%x: tensor<3x4x5xf32>) -> tensor<3x1x5xf32> {
  %0 = mm.reduce mean %x dims [1] keep_dims : (tensor<3x4x5xf32>) -> tensor<3x1x5xf32>
  return %0 : tensor<3x1x5xf32>
}
func.func @reduce_max(%x: tensor<3x4x5xf32>) -> tensor<3x4xf32> {
  %0 = mm.reduce max %x dims [2] : (tensor<3x4x5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func @reduce_min(%x: tensor<3x4x5xf32>) -> tensor<4x5xf32> {
  %0 = mm.reduce min %x dims [0] : (tensor<3x4x5xf32>) -> tensor<4x5xf32>
  return %0 : tensor<4x5xf32>
}
func.func @reduce_prod(%x: tensor<3x4x5xf32>) -> tensor<3x4xf32> {
  %0 = mm.reduce prod %x dims [-1] : (tensor<3x4x5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}
func.func @reduce_max_all(%x: tensor<3x4x5xf32>) -> tensor<f32> {
  %0 = mm.reduce max %x dims [0, 1, 2] : (tensor<3x4x5xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
func.func @reduce_sum_i64(%x: tensor<3x4xi64>) -> tensor<3x1xi64> {
  %0 = mm.reduce sum %x dims [1] keep_dims : (tensor<3x4xi64>) -> tensor<3x1xi64>
  return %0 : tensor<3x1xi64>
}
func.func @reduce_mean_dyn(%x: tensor<?x6xf32> {mm.dims = ["N", ""]}) -> tensor<?xf32> {
  %0 = mm.reduce mean %x dims [1] : (tensor<?x6xf32>) -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
// Reduced dims leading, large enough for the host's threaded path.
func.func @reduce_sum_leading(%x: tensor<?x4x40xf32> {mm.dims = ["N", "", ""]}) -> tensor<40xf32> {
  %0 = mm.reduce sum %x dims [0, 1] : (tensor<?x4x40xf32>) -> tensor<40xf32>
  return %0 : tensor<40xf32>
}
func.func @reduce_max_leading(%x: tensor<?x4x40xf32> {mm.dims = ["N", "", ""]}) -> tensor<4x40xf32> {
  %0 = mm.reduce max %x dims [0] : (tensor<?x4x40xf32>) -> tensor<4x40xf32>
  return %0 : tensor<4x40xf32>
}
func.func @top_k(%x: tensor<3x8xf32>) -> (tensor<3x3xf32>, tensor<3x3xi64>) {
  %v, %i = mm.top_k %x {k = 3 : i64} : (tensor<3x8xf32>) -> (tensor<3x3xf32>, tensor<3x3xi64>)
  return %v, %i : tensor<3x3xf32>, tensor<3x3xi64>
}
func.func @top_k_i64(%x: tensor<2x6xi64>) -> (tensor<2x4xi64>, tensor<2x4xi64>) {
  %v, %i = mm.top_k %x {k = 4 : i64} : (tensor<2x6xi64>) -> (tensor<2x4xi64>, tensor<2x4xi64>)
  return %v, %i : tensor<2x4xi64>, tensor<2x4xi64>
}
func.func @argmax(%x: tensor<3x8xf32>) -> tensor<3xi64> {
  %0 = mm.argmax %x : (tensor<3x8xf32>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}
func.func @argmax_dim0_keep(%x: tensor<4x3x2xf32>) -> tensor<1x3x2xi64> {
  %0 = mm.argmax %x {dim = 0 : i64, keep_dims} : (tensor<4x3x2xf32>) -> tensor<1x3x2xi64>
  return %0 : tensor<1x3x2xi64>
}
