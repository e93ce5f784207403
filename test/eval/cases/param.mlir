// mm.param weights bound by name from --params (ir/ops/ParamOps.td).

func.func @param_linear(%x: tensor<3x4xf32>) -> tensor<3x5xf32> {
  %w = mm.param "layer.weight" : tensor<5x4xf32>
  %b = mm.param "layer.bias" : tensor<5xf32>
  %0 = mm.linear %x, %w, %b : (tensor<3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}
// A table and an integer param.
func.func @param_embed(%s: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %t = mm.param "embed.table" : tensor<6x3xf32>
  %ids = mm.param "embed.ids" : tensor<2xi64>
  %e = mm.embedding %t, %ids : (tensor<6x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  %0 = mm.add %e, %s : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}
// An integer param on its own, added to an integer input.
func.func @param_int(%x: tensor<3xi64>) -> tensor<3xi64> {
  %p = mm.param "offsets" : tensor<3xi64>
  %0 = mm.add %p, %x : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}
