// mm.kernel (ir/ops/KernelOps.td): a fused region that runs as its body, ended
// by mm.yield. "fusion never changes what a graph computes".

func.func @kernel_gemm(%x: tensor<?x16xf32> {mm.dims = ["N", ""]}, %w: tensor<8x16xf32>, %r: tensor<?x8xf32> {mm.dims = ["N", ""]}) -> tensor<?x8xf32> {
  %0 = mm.kernel gemm (%x, %w, %r) : (tensor<?x16xf32>, tensor<8x16xf32>, tensor<?x8xf32>) -> tensor<?x8xf32> {
  ^bb0(%a: tensor<?x16xf32>, %b: tensor<8x16xf32>, %c: tensor<?x8xf32>):
    %1 = mm.linear %a, %b : (tensor<?x16xf32>, tensor<8x16xf32>) -> tensor<?x8xf32>
    %2 = mm.add %1, %c : (tensor<?x8xf32>, tensor<?x8xf32>) -> tensor<?x8xf32>
    mm.yield %2 : tensor<?x8xf32>
  }
  return %0 : tensor<?x8xf32>
}
func.func @kernel_elementwise(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = mm.kernel elementwise (%x, %y) : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32> {
  ^bb0(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>):
    %1 = mm.sigmoid %a : tensor<4x8xf32>
    %2 = mm.mul %1, %b : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    mm.yield %2 : tensor<4x8xf32>
  }
  return %0 : tensor<4x8xf32>
}
