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

// More kinds: convolutions, pooling, top-k and the training losses.
func.func @more(%seq: tensor<?x10x4xf32> {mm.dims = ["B", "", ""]},
                %img: tensor<?x3x8x8xf32> {mm.dims = ["B", "", "", ""]},
                %mask: tensor<?x10xf32> {mm.dims = ["B", ""]},
                %lp: tensor<?x10xf32> {mm.dims = ["B", ""]}, %adv: tensor<?xf32> {mm.dims = ["B"]})
    -> (tensor<?x10x6xf32>, tensor<?x6xf32>, tensor<?x5x4x4xf32>, tensor<?x3xf32>, tensor<?x3xi64>,
        tensor<f32>, tensor<f32>) {
  %w1 = mm.param "conv1d.weight" : tensor<6x4x3xf32>
  %b1 = mm.param "conv1d.bias" : tensor<6xf32>
  %w2 = mm.param "conv2d.weight" : tensor<5x3x3x3xf32>
  %c1 = mm.conv1d %seq, %w1, %b1 {dilation = 2 : i64, padding = array<i64: 2, 2>} : (tensor<?x10x4xf32>, tensor<6x4x3xf32>, tensor<6xf32>) -> tensor<?x10x6xf32>
  %p = mm.pool mean %c1 mask(%mask) dim 1 : (tensor<?x10x6xf32>, tensor<?x10xf32>) -> tensor<?x6xf32>
  %c2 = mm.conv2d %img, %w2 {strides = array<i64: 2, 2>, padding = array<i64: 1, 1>} : (tensor<?x3x8x8xf32>, tensor<5x3x3x3xf32>) -> tensor<?x5x4x4xf32>
  %v, %i = mm.top_k %p {k = 3 : i64} : (tensor<?x6xf32>) -> (tensor<?x3xf32>, tensor<?x3xi64>)
  %pl = mm.policy_loss cispo %lp, %lp, %adv, %mask {eps_low = 10.0 : f64, eps_high = 0.2 : f64} : (tensor<?x10xf32>, tensor<?x10xf32>, tensor<?xf32>, tensor<?x10xf32>) -> tensor<f32>
  %bce = mm.sigmoid_bce mean %lp, %mask : (tensor<?x10xf32>, tensor<?x10xf32>) -> tensor<f32>
  return %c1, %p, %c2, %v, %i, %pl, %bce : tensor<?x10x6xf32>, tensor<?x6xf32>, tensor<?x5x4x4xf32>, tensor<?x3xf32>, tensor<?x3xi64>, tensor<f32>, tensor<f32>
}
