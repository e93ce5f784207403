// Mixture of experts: router -> dispatch -> grouped experts -> combine.

func.func @moe_block(%x: tensor<2x3x4xf32>, %wr: tensor<4x4xf32>, %w1: tensor<4x6x4xf32>, %w3: tensor<4x6x4xf32>, %w2: tensor<4x4x6xf32>, %c: tensor<2x3x4xf32>) -> tensor<f32> {
  %logits = mm.linear %x, %wr : (tensor<2x3x4xf32>, tensor<4x4xf32>) -> tensor<2x3x4xf32>
  %w, %e = mm.moe_router %logits {top_k = 2 : i64} : (tensor<2x3x4xf32>) -> (tensor<2x3x2xf32>, tensor<2x3x2xi64>)
  %rows, %off, %ord = mm.moe_dispatch %x, %e {num_experts = 4 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> (tensor<12x4xf32>, tensor<5xi64>, tensor<12xi64>)
  %g = mm.grouped_matmul %rows, %w1, %off : (tensor<12x4xf32>, tensor<4x6x4xf32>, tensor<5xi64>) -> tensor<12x6xf32>
  %u = mm.grouped_matmul %rows, %w3, %off : (tensor<12x4xf32>, tensor<4x6x4xf32>, tensor<5xi64>) -> tensor<12x6xf32>
  %a = mm.swiglu %g, %u : tensor<12x6xf32>
  %d = mm.grouped_matmul %a, %w2, %off : (tensor<12x6xf32>, tensor<4x4x6xf32>, tensor<5xi64>) -> tensor<12x4xf32>
  %y = mm.moe_combine %d, %ord, %w : (tensor<12x4xf32>, tensor<12xi64>, tensor<2x3x2xf32>) -> tensor<2x3x4xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// The same block with an expert width of 8 (rows a multiple of 4 floats: the
// CUDA grouped kernels' vector loads and GEMV form, where K = 6 above takes
// their one-value-at-a-time path).
func.func @moe_block_w8(%x: tensor<2x3x4xf32>, %wr: tensor<4x4xf32>, %w1: tensor<4x8x4xf32>, %w3: tensor<4x8x4xf32>, %w2: tensor<4x4x8xf32>, %c: tensor<2x3x4xf32>) -> tensor<f32> {
  %logits = mm.linear %x, %wr : (tensor<2x3x4xf32>, tensor<4x4xf32>) -> tensor<2x3x4xf32>
  %w, %e = mm.moe_router %logits {top_k = 2 : i64} : (tensor<2x3x4xf32>) -> (tensor<2x3x2xf32>, tensor<2x3x2xi64>)
  %rows, %off, %ord = mm.moe_dispatch %x, %e {num_experts = 4 : i64} : (tensor<2x3x4xf32>, tensor<2x3x2xi64>) -> (tensor<12x4xf32>, tensor<5xi64>, tensor<12xi64>)
  %g = mm.grouped_matmul %rows, %w1, %off : (tensor<12x4xf32>, tensor<4x8x4xf32>, tensor<5xi64>) -> tensor<12x8xf32>
  %u = mm.grouped_matmul %rows, %w3, %off : (tensor<12x4xf32>, tensor<4x8x4xf32>, tensor<5xi64>) -> tensor<12x8xf32>
  %a = mm.swiglu %g, %u : tensor<12x8xf32>
  %d = mm.grouped_matmul %a, %w2, %off : (tensor<12x8xf32>, tensor<4x4x8xf32>, tensor<5xi64>) -> tensor<12x4xf32>
  %y = mm.moe_combine %d, %ord, %w : (tensor<12x4xf32>, tensor<12xi64>, tensor<2x3x2xf32>) -> tensor<2x3x4xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2] : (tensor<2x3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @router_plain(%logits: tensor<5x6xf32>, %c: tensor<5x3xf32>) -> tensor<f32> {
  %w, %e = mm.moe_router %logits {top_k = 3 : i64, renormalize = false} : (tensor<5x6xf32>) -> (tensor<5x3xf32>, tensor<5x3xi64>)
  %wc = mm.mul %w, %c : (tensor<5x3xf32>, tensor<5x3xf32>) -> tensor<5x3xf32>
  %l = mm.reduce sum %wc dims [0, 1] : (tensor<5x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
