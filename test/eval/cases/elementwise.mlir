// Elementwise ops (ir/ops/ElementwiseOps.td, ir/MMBase.td). One function per
// op; the unary ones take a dynamic leading dim named "N" (mm.dims), the
// binary ones exercise NumPy broadcasting. Driven by test/eval/check_ops.py.

func.func @silu(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.silu %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @sigmoid(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.sigmoid %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @relu(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.relu %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @tanh(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.tanh %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @exp(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.exp %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @log(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.log %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @sqrt(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.sqrt %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @rsqrt(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.rsqrt %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @neg(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.neg %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @gelu(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.gelu %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @gelu_tanh(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.gelu tanh %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

func.func @add(%a: tensor<3x1x8xf32>, %b: tensor<4x8xf32>) -> tensor<3x4x8xf32> {
  %0 = mm.add %a, %b : (tensor<3x1x8xf32>, tensor<4x8xf32>) -> tensor<3x4x8xf32>
  return %0 : tensor<3x4x8xf32>
}
func.func @sub(%a: tensor<3x1x8xf32>, %b: tensor<4x8xf32>) -> tensor<3x4x8xf32> {
  %0 = mm.sub %a, %b : (tensor<3x1x8xf32>, tensor<4x8xf32>) -> tensor<3x4x8xf32>
  return %0 : tensor<3x4x8xf32>
}
func.func @mul(%a: tensor<3x1x8xf32>, %b: tensor<4x8xf32>) -> tensor<3x4x8xf32> {
  %0 = mm.mul %a, %b : (tensor<3x1x8xf32>, tensor<4x8xf32>) -> tensor<3x4x8xf32>
  return %0 : tensor<3x4x8xf32>
}
func.func @div(%a: tensor<3x1x8xf32>, %b: tensor<4x8xf32>) -> tensor<3x4x8xf32> {
  %0 = mm.div %a, %b : (tensor<3x1x8xf32>, tensor<4x8xf32>) -> tensor<3x4x8xf32>
  return %0 : tensor<3x4x8xf32>
}
func.func @max(%a: tensor<3x1x8xf32>, %b: tensor<4x8xf32>) -> tensor<3x4x8xf32> {
  %0 = mm.max %a, %b : (tensor<3x1x8xf32>, tensor<4x8xf32>) -> tensor<3x4x8xf32>
  return %0 : tensor<3x4x8xf32>
}
func.func @min(%a: tensor<3x1x8xf32>, %b: tensor<4x8xf32>) -> tensor<3x4x8xf32> {
  %0 = mm.min %a, %b : (tensor<3x1x8xf32>, tensor<4x8xf32>) -> tensor<3x4x8xf32>
  return %0 : tensor<3x4x8xf32>
}
// Same shapes, and a bias row ([N, 8] + [8]): the broadcasts compiled kernels read.
func.func @add_same(%a: tensor<?x8xf32> {mm.dims = ["N", ""]}, %b: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.add %a, %b : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}
func.func @mul_row(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %0 = mm.mul %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
// Broadcasting a size-1 dim of the rhs against a dynamic dim of the lhs.
func.func @add_dyn(%a: tensor<?x5xf32> {mm.dims = ["N", ""]}, %b: tensor<1x5xf32>) -> tensor<?x5xf32> {
  %0 = mm.add %a, %b : (tensor<?x5xf32>, tensor<1x5xf32>) -> tensor<?x5xf32>
  return %0 : tensor<?x5xf32>
}
func.func @add_i64(%a: tensor<2x4xi64>, %b: tensor<4xi64>) -> tensor<2x4xi64> {
  %0 = mm.add %a, %b : (tensor<2x4xi64>, tensor<4xi64>) -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}
func.func @sub_i64(%a: tensor<2x4xi64>, %b: tensor<4xi64>) -> tensor<2x4xi64> {
  %0 = mm.sub %a, %b : (tensor<2x4xi64>, tensor<4xi64>) -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}
// An integer zeros_like fused with a subtraction: its device code must not
// spell int64_t, which NVRTC does not know (nvcc-emitted-kernels.test).
func.func @zeros_like_i64(%a: tensor<2x4xi64>) -> tensor<2x4xi64> {
  %z = mm.zeros_like %a : tensor<2x4xi64>
  %0 = mm.sub %z, %a : (tensor<2x4xi64>, tensor<2x4xi64>) -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}
func.func @mul_i64(%a: tensor<2x4xi64>, %b: tensor<4xi64>) -> tensor<2x4xi64> {
  %0 = mm.mul %a, %b : (tensor<2x4xi64>, tensor<4xi64>) -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}
func.func @max_i64(%a: tensor<2x4xi64>, %b: tensor<4xi64>) -> tensor<2x4xi64> {
  %0 = mm.max %a, %b : (tensor<2x4xi64>, tensor<4xi64>) -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}
func.func @min_i64(%a: tensor<2x4xi64>, %b: tensor<4xi64>) -> tensor<2x4xi64> {
  %0 = mm.min %a, %b : (tensor<2x4xi64>, tensor<4xi64>) -> tensor<2x4xi64>
  return %0 : tensor<2x4xi64>
}
func.func @swiglu(%g: tensor<4x8xf32>, %u: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = mm.swiglu %g, %u : tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}
