// mm.cast (ir/ops/ElementwiseOps.td): float -> int truncates toward zero,
// int -> float rounds to nearest, float -> float rounds to nearest even.

func.func @f32_to_i64(%x: tensor<12xf32>) -> tensor<12xi64> {
  %0 = mm.cast %x : tensor<12xf32> to tensor<12xi64>
  return %0 : tensor<12xi64>
}
func.func @i64_to_f32(%x: tensor<?xi64> {mm.dims = ["N"]}) -> tensor<?xf32> {
  %0 = mm.cast %x : tensor<?xi64> to tensor<?xf32>
  return %0 : tensor<?xf32>
}
// Round trip float -> int -> float: truncation toward zero, as floats.
func.func @f32_trunc_roundtrip(%x: tensor<3x4xf32>) -> tensor<3x4xf32> {
  %0 = mm.cast %x : tensor<3x4xf32> to tensor<3x4xi64>
  %1 = mm.cast %0 : tensor<3x4xi64> to tensor<3x4xf32>
  return %1 : tensor<3x4xf32>
}
// float -> bf16 -> float: the bf16 step rounds to nearest even (8 significant bits).
func.func @f32_bf16_f32(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = mm.cast %x : tensor<8xf32> to tensor<8xbf16>
  %1 = mm.cast %0 : tensor<8xbf16> to tensor<8xf32>
  return %1 : tensor<8xf32>
}
// float -> f16 -> float: 11 significant bits, subnormals below 2^-14.
func.func @f32_f16_f32(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = mm.cast %x : tensor<8xf32> to tensor<8xf16>
  %1 = mm.cast %0 : tensor<8xf16> to tensor<8xf32>
  return %1 : tensor<8xf32>
}
