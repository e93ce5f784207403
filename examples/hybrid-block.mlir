// One MiniMax-Text-01 decoder block at toy size: a lightning-attention layer
// and an MoE feed-forward, post-norm with DeepNorm alpha/beta residual scaling.
// hidden 64, 4 heads of 16, 4 experts (top 2) of width 32, layer 0 of 2.
func.func @block(%h: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  %alpha = arith.constant dense<2.0> : tensor<f32>
  %beta = arith.constant dense<1.0> : tensor<f32>
  %g1 = mm.param "model.layers.0.input_layernorm.weight" : tensor<64xf32>
  %wqkv = mm.param "model.layers.0.self_attn.qkv_proj.weight" : tensor<192x64xf32>
  %wgate = mm.param "model.layers.0.self_attn.output_gate.weight" : tensor<64x64xf32>
  %gnorm = mm.param "model.layers.0.self_attn.norm.weight" : tensor<64xf32>
  %wo = mm.param "model.layers.0.self_attn.out_proj.weight" : tensor<64x64xf32>
  %g2 = mm.param "model.layers.0.post_attention_layernorm.weight" : tensor<64xf32>
  %wr = mm.param "model.layers.0.block_sparse_moe.gate.weight" : tensor<4x64xf32>
  %w1 = mm.param "model.layers.0.block_sparse_moe.experts.w1" : tensor<4x32x64xf32>
  %w3 = mm.param "model.layers.0.block_sparse_moe.experts.w3" : tensor<4x32x64xf32>
  %w2 = mm.param "model.layers.0.block_sparse_moe.experts.w2" : tensor<4x64x32xf32>

  // Lightning attention: qkv = SiLU(W x), per-head interleaved q|k|v.
  %u = mm.rms_norm %h, %g1 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %qkv0 = mm.linear %u, %wqkv : (tensor<?x?x64xf32>, tensor<192x64xf32>) -> tensor<?x?x192xf32>
  %qkv1 = mm.silu %qkv0 : tensor<?x?x192xf32>
  %qkv = mm.reshape %qkv1 [0, 0, 4, 48] : (tensor<?x?x192xf32>) -> tensor<?x?x4x48xf32>
  %q = mm.slice %qkv dim 3 [0 : 16] : (tensor<?x?x4x48xf32>) -> tensor<?x?x4x16xf32>
  %k = mm.slice %qkv dim 3 [16 : 32] : (tensor<?x?x4x48xf32>) -> tensor<?x?x4x16xf32>
  %v = mm.slice %qkv dim 3 [32 : 48] : (tensor<?x?x4x48xf32>) -> tensor<?x?x4x16xf32>
  %o, %state = mm.lightning_attention %q, %k, %v {layer_index = 0 : i64, num_layers = 2 : i64}
      : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>) -> (tensor<?x?x4x16xf32>, tensor<?x4x16x16xf32>)
  %of = mm.reshape %o [0, 0, 64] : (tensor<?x?x4x16xf32>) -> tensor<?x?x64xf32>
  %on = mm.rms_norm %of, %gnorm {epsilon = 1.0e-6 : f64} : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %gate0 = mm.linear %u, %wgate : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %gate = mm.sigmoid %gate0 : tensor<?x?x64xf32>
  %gated = mm.mul %gate, %on : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %attn = mm.linear %gated, %wo : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %r1a = mm.mul %u, %alpha : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %r1b = mm.mul %attn, %beta : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %h1 = mm.add %r1a, %r1b : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>

  // MoE: softmax router, top-2, renormalised; grouped SwiGLU experts.
  %w = mm.rms_norm %h1, %g2 : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %logits = mm.linear %w, %wr : (tensor<?x?x64xf32>, tensor<4x64xf32>) -> tensor<?x?x4xf32>
  %rw, %re = mm.moe_router %logits {top_k = 2 : i64} : (tensor<?x?x4xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  %xs, %off, %ord = mm.moe_dispatch %w, %re {num_experts = 4 : i64}
      : (tensor<?x?x64xf32>, tensor<?x?x2xi64>) -> (tensor<?x64xf32>, tensor<5xi64>, tensor<?xi64>)
  %a1 = mm.grouped_matmul %xs, %w1, %off : (tensor<?x64xf32>, tensor<4x32x64xf32>, tensor<5xi64>) -> tensor<?x32xf32>
  %a3 = mm.grouped_matmul %xs, %w3, %off : (tensor<?x64xf32>, tensor<4x32x64xf32>, tensor<5xi64>) -> tensor<?x32xf32>
  %act = mm.swiglu %a1, %a3 : tensor<?x32xf32>
  %eo = mm.grouped_matmul %act, %w2, %off : (tensor<?x32xf32>, tensor<4x64x32xf32>, tensor<5xi64>) -> tensor<?x64xf32>
  %moe = mm.moe_combine %eo, %ord, %rw : (tensor<?x64xf32>, tensor<?xi64>, tensor<?x?x2xf32>) -> tensor<?x?x64xf32>
  %wa = mm.mul %w, %alpha : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %mb = mm.mul %moe, %beta : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %out = mm.add %wa, %mb : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %out : tensor<?x?x64xf32>
}
