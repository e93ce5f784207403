// A two-layer hybrid MoE language model in miniature (lightning layer, softmax
// attention layer with RoPE, MoE, tied embedding and LM head): every weight's
// gradient checked at once, the tied one summing two uses.

func.func @tiny_lm(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"]}, %labels: tensor<?x?xi64> {mm.dims = ["B", "T"]}, %pos: tensor<?x?xi64> {mm.dims = ["B", "T"]}) -> tensor<f32> {
  %embed_p = mm.param "embed" : tensor<11x8xf32>
  %h0 = mm.embedding %embed_p, %ids : (tensor<11x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
  %ln1_p = mm.param "ln1" : tensor<8xf32>
  %n1 = mm.rms_norm %h0, %ln1_p {epsilon = 1.0e-05 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %qkv_p = mm.param "qkv" : tensor<24x8xf32>
  %qkv0 = mm.linear %n1, %qkv_p : (tensor<?x?x8xf32>, tensor<24x8xf32>) -> tensor<?x?x24xf32>
  %qkv1 = mm.silu %qkv0 : tensor<?x?x24xf32>
  %qkv = mm.reshape %qkv1 [0, 0, 2, 12] : (tensor<?x?x24xf32>) -> tensor<?x?x2x12xf32>
  %q1 = mm.slice %qkv dim 3 [0 : 4] : (tensor<?x?x2x12xf32>) -> tensor<?x?x2x4xf32>
  %k1 = mm.slice %qkv dim 3 [4 : 8] : (tensor<?x?x2x12xf32>) -> tensor<?x?x2x4xf32>
  %v1 = mm.slice %qkv dim 3 [8 : 12] : (tensor<?x?x2x12xf32>) -> tensor<?x?x2x4xf32>
  %o, %s = mm.lightning_attention %q1, %k1, %v1 {layer_index = 0 : i64, num_layers = 2 : i64, block_size = 2 : i64} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> (tensor<?x?x2x4xf32>, tensor<?x2x4x4xf32>)
  %o2 = mm.reshape %o [0, 0, 8] : (tensor<?x?x2x4xf32>) -> tensor<?x?x8xf32>
  %gate_p = mm.param "gate" : tensor<8x8xf32>
  %gl = mm.linear %n1, %gate_p : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %gs = mm.sigmoid %gl : tensor<?x?x8xf32>
  %go = mm.mul %gs, %o2 : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %out_p = mm.param "out" : tensor<8x8xf32>
  %a1 = mm.linear %go, %out_p : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %h1 = mm.add %h0, %a1 : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %ln2_p = mm.param "ln2" : tensor<8xf32>
  %n2 = mm.rms_norm %h1, %ln2_p {epsilon = 1.0e-05 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %wq_p = mm.param "wq" : tensor<8x8xf32>
  %q2f = mm.linear %n2, %wq_p : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %wk_p = mm.param "wk" : tensor<4x8xf32>
  %k2f = mm.linear %n2, %wk_p : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
  %wv_p = mm.param "wv" : tensor<4x8xf32>
  %v2f = mm.linear %n2, %wv_p : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
  %q2 = mm.reshape %q2f [0, 0, 2, 4] : (tensor<?x?x8xf32>) -> tensor<?x?x2x4xf32>
  %k2 = mm.reshape %k2f [0, 0, 1, 4] : (tensor<?x?x4xf32>) -> tensor<?x?x1x4xf32>
  %v2 = mm.reshape %v2f [0, 0, 1, 4] : (tensor<?x?x4xf32>) -> tensor<?x?x1x4xf32>
  %qr = mm.rope %q2, %pos {rotary_dim = 2 : i64, theta = 1.0e+04 : f64} : (tensor<?x?x2x4xf32>, tensor<?x?xi64>) -> tensor<?x?x2x4xf32>
  %kr = mm.rope %k2, %pos {rotary_dim = 2 : i64, theta = 1.0e+04 : f64} : (tensor<?x?x1x4xf32>, tensor<?x?xi64>) -> tensor<?x?x1x4xf32>
  %at = mm.attention %qr, %kr, %v2 {causal} : (tensor<?x?x2x4xf32>, tensor<?x?x1x4xf32>, tensor<?x?x1x4xf32>) -> tensor<?x?x2x4xf32>
  %at2 = mm.reshape %at [0, 0, 8] : (tensor<?x?x2x4xf32>) -> tensor<?x?x8xf32>
  %wo_p = mm.param "wo" : tensor<8x8xf32>
  %a2 = mm.linear %at2, %wo_p : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %h2 = mm.add %h1, %a2 : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %ln3_p = mm.param "ln3" : tensor<8xf32>
  %n3 = mm.rms_norm %h2, %ln3_p {epsilon = 1.0e-05 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %router_p = mm.param "router" : tensor<4x8xf32>
  %rl = mm.linear %n3, %router_p : (tensor<?x?x8xf32>, tensor<4x8xf32>) -> tensor<?x?x4xf32>
  %rw, %re = mm.moe_router %rl {top_k = 2 : i64} : (tensor<?x?x4xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
  %rows, %off, %ord = mm.moe_dispatch %n3, %re {num_experts = 4 : i64} : (tensor<?x?x8xf32>, tensor<?x?x2xi64>) -> (tensor<?x8xf32>, tensor<5xi64>, tensor<?xi64>)
  %w1_p = mm.param "w1" : tensor<4x6x8xf32>
  %w3_p = mm.param "w3" : tensor<4x6x8xf32>
  %w2_p = mm.param "w2" : tensor<4x8x6xf32>
  %eg = mm.grouped_matmul %rows, %w1_p, %off : (tensor<?x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<?x6xf32>
  %eu = mm.grouped_matmul %rows, %w3_p, %off : (tensor<?x8xf32>, tensor<4x6x8xf32>, tensor<5xi64>) -> tensor<?x6xf32>
  %ea = mm.swiglu %eg, %eu : tensor<?x6xf32>
  %ed = mm.grouped_matmul %ea, %w2_p, %off : (tensor<?x6xf32>, tensor<4x8x6xf32>, tensor<5xi64>) -> tensor<?x8xf32>
  %m = mm.moe_combine %ed, %ord, %rw : (tensor<?x8xf32>, tensor<?xi64>, tensor<?x?x2xf32>) -> tensor<?x?x8xf32>
  %h3 = mm.add %h2, %m : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %norm_p = mm.param "norm" : tensor<8xf32>
  %nf = mm.rms_norm %h3, %norm_p {epsilon = 1.0e-05 : f64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %logits = mm.linear %nf, %embed_p : (tensor<?x?x8xf32>, tensor<11x8xf32>) -> tensor<?x?x11xf32>
  %l = mm.cross_entropy mean %logits, %labels : (tensor<?x?x11xf32>, tensor<?x?xi64>) -> tensor<f32>
  return %l : tensor<f32>
}

// A norm + two-layer MLP classifier with a bias and a weight shared by two
// layers (its gradient sums two uses).
func.func @mlp(%x: tensor<?x6xf32> {mm.dims = ["N", ""]}, %y: tensor<?xi64> {mm.dims = ["N"]}) -> tensor<f32> {
  %g = mm.param "norm" : tensor<6xf32>
  %w1 = mm.param "fc1.weight" : tensor<6x6xf32>
  %b1 = mm.param "fc1.bias" : tensor<6xf32>
  %w2 = mm.param "fc2.weight" : tensor<4x6xf32>
  %n = mm.rms_norm %x, %g {epsilon = 1.0e-05 : f64} : (tensor<?x6xf32>, tensor<6xf32>) -> tensor<?x6xf32>
  %h = mm.linear %n, %w1, %b1 : (tensor<?x6xf32>, tensor<6x6xf32>, tensor<6xf32>) -> tensor<?x6xf32>
  %a = mm.gelu tanh %h : tensor<?x6xf32>
  %h2 = mm.linear %a, %w1 : (tensor<?x6xf32>, tensor<6x6xf32>) -> tensor<?x6xf32>
  %a2 = mm.silu %h2 : tensor<?x6xf32>
  %logits = mm.linear %a2, %w2 : (tensor<?x6xf32>, tensor<4x6xf32>) -> tensor<?x4xf32>
  %l = mm.cross_entropy mean %logits, %y : (tensor<?x4xf32>, tensor<?xi64>) -> tensor<f32>
  return %l : tensor<f32>
}
