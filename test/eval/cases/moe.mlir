// Mixture-of-experts ops (ir/ops/MoEOps.td; minimax-text-01.md section 5).

func.func @router(%l: tensor<5x6xf32>) -> (tensor<5x2xf32>, tensor<5x2xi64>) {
  %w, %e = mm.moe_router %l {top_k = 2 : i64} : (tensor<5x6xf32>) -> (tensor<5x2xf32>, tensor<5x2xi64>)
  return %w, %e : tensor<5x2xf32>, tensor<5x2xi64>
}
func.func @router_norenorm(%l: tensor<5x6xf32>) -> (tensor<5x3xf32>, tensor<5x3xi64>) {
  %w, %e = mm.moe_router %l {top_k = 3 : i64, renormalize = false} : (tensor<5x6xf32>) -> (tensor<5x3xf32>, tensor<5x3xi64>)
  return %w, %e : tensor<5x3xf32>, tensor<5x3xi64>
}
func.func @router_3d(%l: tensor<?x3x6xf32> {mm.dims = ["B", "", ""]}) -> (tensor<?x3x2xf32>, tensor<?x3x2xi64>) {
  %w, %e = mm.moe_router %l {top_k = 2 : i64} : (tensor<?x3x6xf32>) -> (tensor<?x3x2xf32>, tensor<?x3x2xi64>)
  return %w, %e : tensor<?x3x2xf32>, tensor<?x3x2xi64>
}
func.func @dispatch(%x: tensor<2x3x4xf32>, %e: tensor<2x3x2xi64>) -> (tensor<12x4xf32>, tensor<5xi64>, tensor<12xi64>) {
  %d, %off, %ord = mm.moe_dispatch %x, %e {num_experts = 4 : i64}
      : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> (tensor<12x4xf32>, tensor<5xi64>, tensor<12xi64>)
  return %d, %off, %ord : tensor<12x4xf32>, tensor<5xi64>, tensor<12xi64>
}
func.func @grouped_matmul(%x: tensor<8x4xf32>, %w: tensor<4x3x4xf32>, %off: tensor<5xi64>) -> tensor<8x3xf32> {
  %0 = mm.grouped_matmul %x, %w, %off : (tensor<8x4xf32>, tensor<4x3x4xf32>, tensor<5xi64>) -> tensor<8x3xf32>
  return %0 : tensor<8x3xf32>
}
func.func @combine(%h: tensor<10x4xf32>, %ord: tensor<10xi64>, %w: tensor<5x2xf32>) -> tensor<5x4xf32> {
  %0 = mm.moe_combine %h, %ord, %w : (tensor<10x4xf32>, tensor<10xi64>, tensor<5x2xf32>) -> tensor<5x4xf32>
  return %0 : tensor<5x4xf32>
}
// A whole MoE block, W2(silu(W1 x) * W3 x) per expert (the compiled path fuses it).
func.func @moe_block(%x: tensor<?x8xf32> {mm.dims = ["N", ""]}, %wr: tensor<4x8xf32>, %w1: tensor<4x6x8xf32>,
                     %w3: tensor<4x6x8xf32>, %w2: tensor<4x8x6xf32>) -> tensor<?x8xf32> {
  %l = mm.linear %x, %wr : (tensor<?x8xf32>, tensor<4x8xf32>) -> tensor<?x4xf32>
  %w, %e = mm.moe_router %l {top_k = 2 : i64} : (tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x2xi64>)
  %d, %off, %ord = mm.moe_dispatch %x, %e {num_experts = 4 : i64} : (tensor<?x8xf32>, tensor<?x2xi64>) -> (tensor<?x8xf32>, tensor<5xi64>, tensor<?xi64>)
  %g = mm.grouped_matmul %d, %w1, %off : (tensor<?x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<?x6xf32>
  %u = mm.grouped_matmul %d, %w3, %off : (tensor<?x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<?x6xf32>
  %h = mm.swiglu %g, %u : tensor<?x6xf32>
  %o = mm.grouped_matmul %h, %w2, %off : (tensor<?x6xf32>, tensor<4x8x6xf32>, tensor<5xi64>) -> tensor<?x8xf32>
  %y = mm.moe_combine %o, %ord, %w : (tensor<?x8xf32>, tensor<?xi64>, tensor<?x2xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
