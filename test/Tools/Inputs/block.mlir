// A hand-written module (not MiniMax): a pre-norm MLP block with a softmax
// head over dynamic rows N, an embedding, a transposed matmul and a transpose.
func.func @block(%x: tensor<?x16xf32> {mm.dims = ["N", ""]}, %ids: tensor<?xi64> {mm.dims = ["N"]})
    -> (tensor<?x4xf32>, tensor<16x16xf32>, tensor<?x16xf32>) {
  %g = mm.param "norm.weight" : tensor<16xf32>
  %b = mm.param "norm.bias" : tensor<16xf32>
  %w1 = mm.param "up.weight" : tensor<32x16xf32>
  %w2 = mm.param "down.weight" : tensor<4x32xf32>
  %table = mm.param "embed" : tensor<10x16xf32>
  %e = mm.embedding %table, %ids : (tensor<10x16xf32>, tensor<?xi64>) -> tensor<?x16xf32>
  %h0 = mm.add %x, %e : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
  %n = mm.layer_norm %h0, %g, %b {epsilon = 1.0e-05 : f64} : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
  %u = mm.linear %n, %w1 : (tensor<?x16xf32>, tensor<32x16xf32>) -> tensor<?x32xf32>
  %a = mm.gelu %u : tensor<?x32xf32>
  %y = mm.linear %a, %w2 : (tensor<?x32xf32>, tensor<4x32xf32>) -> tensor<?x4xf32>
  %p = mm.log_softmax %y {dim = -1 : i64} : tensor<?x4xf32>
  %gram = mm.matmul %n, %n {transpose_lhs} : (tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<16x16xf32>
  %t = mm.transpose %gram [1, 0] : (tensor<16x16xf32>) -> tensor<16x16xf32>
  return %p, %t, %h0 : tensor<?x4xf32>, tensor<16x16xf32>, tensor<?x16xf32>
}

// Two functions: --function picks one.
func.func @scale(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant dense<2.0> : tensor<4xf32>
  %y = mm.mul %x, %c : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}
