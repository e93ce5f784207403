// The kernel kinds that no MiniMax graph uses, in one function (golden
// generated code and the compile tests): reduce, slice, concat, softmax.
func.func @kinds(%x: tensor<?x6x8xf32> {mm.dims = ["B", "", ""]}) -> (tensor<?x8xf32>, tensor<?x9x8xf32>) {
  %m = mm.reduce max %x dims [1] : (tensor<?x6x8xf32>) -> tensor<?x8xf32>
  %s = mm.slice %x dim 1 [0 : 6 : 2] : (tensor<?x6x8xf32>) -> tensor<?x3x8xf32>
  %c = mm.concat %x, %s dim 1 : (tensor<?x6x8xf32>, tensor<?x3x8xf32>) -> tensor<?x9x8xf32>
  %p = mm.softmax %c {dim = 1 : i64} : tensor<?x9x8xf32>
  return %m, %p : tensor<?x8xf32>, tensor<?x9x8xf32>
}
