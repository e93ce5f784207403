// The kernel kinds that no MiniMax graph uses, in one function (golden
// generated code and the compile tests): reduce, slice, concat, softmax,
// argmax, gather, scatter-add, cross-entropy, and a broadcasting elementwise.
func.func @kinds(%x: tensor<?x6x8xf32> {mm.dims = ["B", "", ""]},
                 %labels: tensor<?x6xi64> {mm.dims = ["B", ""]},
                 %rows: tensor<3xi64>, %bias: tensor<6x1xf32>)
    -> (tensor<?x8xf32>, tensor<?x9x8xf32>, tensor<?x6xi64>, tensor<f32>, tensor<?x6xf32>,
        tensor<?x6x8xf32>, tensor<?x6x8xf32>) {
  %m = mm.reduce max %x dims [1] : (tensor<?x6x8xf32>) -> tensor<?x8xf32>
  %s = mm.slice %x dim 1 [0 : 6 : 2] : (tensor<?x6x8xf32>) -> tensor<?x3x8xf32>
  %c = mm.concat %x, %s dim 1 : (tensor<?x6x8xf32>, tensor<?x3x8xf32>) -> tensor<?x9x8xf32>
  %p = mm.softmax %c {dim = 1 : i64} : tensor<?x9x8xf32>
  %a = mm.argmax %x {dim = -1 : i64} : (tensor<?x6x8xf32>) -> tensor<?x6xi64>
  %l = mm.cross_entropy mean %x, %labels : (tensor<?x6x8xf32>, tensor<?x6xi64>) -> tensor<f32>
  %g = mm.gather %x, %labels {dim = 2 : i64, batch_dims = 2 : i64} : (tensor<?x6x8xf32>, tensor<?x6xi64>) -> tensor<?x6xf32>
  %u = mm.scatter_add %x, %rows, %s {dim = 1 : i64} : (tensor<?x6x8xf32>, tensor<3xi64>, tensor<?x3x8xf32>) -> tensor<?x6x8xf32>
  %e = mm.add %x, %bias : (tensor<?x6x8xf32>, tensor<6x1xf32>) -> tensor<?x6x8xf32>
  return %m, %p, %a, %l, %g, %u, %e : tensor<?x8xf32>, tensor<?x9x8xf32>, tensor<?x6xi64>, tensor<f32>, tensor<?x6xf32>, tensor<?x6x8xf32>, tensor<?x6x8xf32>
}
