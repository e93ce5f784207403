// One case per verifier error of every mm op.
// RUN: mm-opt %s -split-input-file -verify-diagnostics

func.func @param_empty_name() {
  // expected-error @+1 {{name must not be empty}}
  %w = mm.param "" : tensor<4xf32>
  return
}

// -----

func.func @param_dynamic() {
  // expected-error @+1 {{weight type must have a static shape}}
  %w = mm.param "w" : tensor<?xf32>
  return
}

// -----

func.func @binary_element_types(%a: tensor<4xf32>, %b: tensor<4xbf16>) {
  // expected-error @+1 {{lhs and rhs must have the same element type, got 'f32' and 'bf16'}}
  %0 = mm.add %a, %b : (tensor<4xf32>, tensor<4xbf16>) -> tensor<4xf32>
  return
}

// -----

func.func @binary_broadcast(%a: tensor<4x3xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{operand shapes 4x3 and 5 do not broadcast}}
  %0 = mm.mul %a, %b : (tensor<4x3xf32>, tensor<5xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @binary_wrong_result(%a: tensor<4x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{inferred type(s) 'tensor<4x3xf32>' are incompatible with return type(s) of operation 'tensor<4x4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %0 = mm.sub %a, %b : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x4xf32>
  return
}

// -----

func.func @unary_float_only(%a: tensor<4xi64>) {
  // expected-error @+1 {{must be ranked tensor of floating-point values}}
  %0 = mm.silu %a : tensor<4xi64>
  return
}

// -----

func.func @cast_shape(%a: tensor<4xf32>) {
  // expected-error @+1 {{all non-scalar operands/results must have the same shape and base type}}
  %0 = mm.cast %a : tensor<4xf32> to tensor<5xbf16>
  return
}

// -----

func.func @rms_norm_weight_size(%x: tensor<?x8xf32>, %w: tensor<7xf32>) {
  // expected-error @+1 {{weight has 7 elements but the input's last dimension is 8}}
  %0 = mm.rms_norm %x, %w : (tensor<?x8xf32>, tensor<7xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_norm_weight_rank(%x: tensor<?x8xf32>, %w: tensor<1x8xf32>) {
  // expected-error @+1 {{weight must have rank 1, got 'tensor<1x8xf32>'}}
  %0 = mm.rms_norm %x, %w : (tensor<?x8xf32>, tensor<1x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<?x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{epsilon must be positive and finite, got 0}}
  %0 = mm.rms_norm %x, %w {epsilon = 0.0 : f64} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @rms_norm_scalar(%x: tensor<f32>, %w: tensor<1xf32>) {
  // expected-error @+1 {{input must have at least one dimension}}
  %0 = mm.rms_norm %x, %w : (tensor<f32>, tensor<1xf32>) -> tensor<f32>
  return
}

// -----

func.func @rms_norm_dtype(%x: tensor<?x8xf32>, %w: tensor<8xbf16>) {
  // expected-error @+1 {{input and weight must have the same element type}}
  %0 = mm.rms_norm %x, %w : (tensor<?x8xf32>, tensor<8xbf16>) -> tensor<?x8xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<?x8xf32>, %w: tensor<8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{bias has 4 elements but the input's last dimension is 8}}
  %0 = mm.layer_norm %x, %w, %b : (tensor<?x8xf32>, tensor<8xf32>, tensor<4xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @linear_features(%x: tensor<?x8xf32>, %w: tensor<4x6xf32>) {
  // expected-error @+1 {{input has 8 features but weight [out, in] expects 6}}
  %0 = mm.linear %x, %w : (tensor<?x8xf32>, tensor<4x6xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @linear_weight_rank(%x: tensor<?x8xf32>, %w: tensor<8xf32>) {
  // expected-error @+1 {{weight must have rank 2}}
  %0 = mm.linear %x, %w : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @linear_bias(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>, %b: tensor<5xf32>) {
  // expected-error @+1 {{bias has 5 elements but weight has 4 output features}}
  %0 = mm.linear %x, %w, %b : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<5xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @linear_bias_rank(%x: tensor<?x8xf32>, %w: tensor<4x8xf32>, %b: tensor<1x4xf32>) {
  // expected-error @+1 {{bias must have rank 1}}
  %0 = mm.linear %x, %w, %b : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<1x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @linear_scalar(%x: tensor<f32>, %w: tensor<4x8xf32>) {
  // expected-error @+1 {{input must have at least one dimension}}
  %0 = mm.linear %x, %w : (tensor<f32>, tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) {
  // expected-error @+1 {{operands must have rank >= 2}}
  %0 = mm.matmul %a, %b : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x8xf32>, %b: tensor<7x4xf32>) {
  // expected-error @+1 {{contraction sizes differ: lhs has 8, rhs has 7}}
  %0 = mm.matmul %a, %b : (tensor<2x8xf32>, tensor<7x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<3x2x8xf32>, %b: tensor<5x8x4xf32>) {
  // expected-error @+1 {{batch dimensions 3 and 5 do not broadcast}}
  %0 = mm.matmul %a, %b : (tensor<3x2x8xf32>, tensor<5x8x4xf32>) -> tensor<3x2x4xf32>
  return
}

// -----

func.func @embedding_table(%t: tensor<100xf32>, %ids: tensor<?xi64>) {
  // expected-error @+1 {{table must have rank 2}}
  %0 = mm.embedding %t, %ids : (tensor<100xf32>, tensor<?xi64>) -> tensor<?xf32>
  return
}

// -----

func.func @embedding_float_ids(%t: tensor<100x8xf32>, %ids: tensor<?xf32>) {
  // expected-error @+1 {{operand #1 must be ranked tensor of signless integer values}}
  %0 = mm.embedding %t, %ids : (tensor<100x8xf32>, tensor<?xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @rope_rank(%x: tensor<?x?x64xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{input must have rank 4}}
  %0 = mm.rope %x, %p {rotary_dim = 32 : i64, theta = 1.0e4 : f64} : (tensor<?x?x64xf32>, tensor<?x?xi64>) -> tensor<?x?x64xf32>
  return
}

// -----

func.func @rope_positions(%x: tensor<2x5x4x64xf32>, %p: tensor<2x6xi64>) {
  // expected-error @+1 {{positions shape 2x6 does not match input [batch, seq] 2x5}}
  %0 = mm.rope %x, %p {rotary_dim = 32 : i64, theta = 1.0e4 : f64} : (tensor<2x5x4x64xf32>, tensor<2x6xi64>) -> tensor<2x5x4x64xf32>
  return
}

// -----

func.func @rope_odd(%x: tensor<?x?x4x64xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{rotary_dim must be positive and even, got 31}}
  %0 = mm.rope %x, %p {rotary_dim = 31 : i64, theta = 1.0e4 : f64} : (tensor<?x?x4x64xf32>, tensor<?x?xi64>) -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @rope_too_wide(%x: tensor<?x?x4x64xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{rotary_dim 128 exceeds head_dim 64}}
  %0 = mm.rope %x, %p {rotary_dim = 128 : i64, theta = 1.0e4 : f64} : (tensor<?x?x4x64xf32>, tensor<?x?xi64>) -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @rope_theta(%x: tensor<?x?x4x64xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{theta must be positive and finite, got -1}}
  %0 = mm.rope %x, %p {rotary_dim = 64 : i64, theta = -1.0 : f64} : (tensor<?x?x4x64xf32>, tensor<?x?xi64>) -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @rope_missing_attr(%x: tensor<?x?x4x64xf32>, %p: tensor<?x?xi64>) {
  // expected-error @+1 {{requires attribute 'rotary_dim'}}
  %0 = mm.rope %x, %p {theta = 1.0e4 : f64} : (tensor<?x?x4x64xf32>, tensor<?x?xi64>) -> tensor<?x?x4x64xf32>
  return
}

// -----

func.func @attention_heads(%q: tensor<1x4x6x8xf32>, %k: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{query heads (6) must be a multiple of key/value heads (4)}}
  %0 = mm.attention %q, %k, %k : (tensor<1x4x6x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x6x8xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x4x4x16xf32>, %k: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{query head_dim 16 differs from key head_dim 8}}
  %0 = mm.attention %q, %k, %k : (tensor<1x4x4x16xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x4x4x8xf32>, %k: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{query, key and value must have the same batch size}}
  %0 = mm.attention %q, %k, %k : (tensor<2x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<2x4x4x8xf32>
  return
}

// -----

func.func @attention_kv(%q: tensor<1x4x4x8xf32>, %k: tensor<1x4x4x8xf32>, %v: tensor<1x5x4x8xf32>) {
  // expected-error @+1 {{key and value must agree in length and heads}}
  %0 = mm.attention %q, %k, %v : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x5x4x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @attention_causal_lengths(%q: tensor<1x3x4x8xf32>, %k: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{causal attention without a cache (or a query_start) needs equal query and key lengths, got 3 and 4}}
  %0 = mm.attention %q, %k, %k {causal} : (tensor<1x3x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x3x4x8xf32>
  return
}

// -----

func.func @attention_query_start_not_causal(%q: tensor<1x2x4x8xf32>, %k: tensor<1x4x4x8xf32>, %s: tensor<1xi64>) {
  // expected-error @+1 {{query_start places the queries of a causal attention; this one is not causal}}
  %0 = mm.attention %q, %k, %k query_start(%s) : (tensor<1x2x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1xi64>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_query_start_too_long(%q: tensor<1x5x4x8xf32>, %k: tensor<1x4x4x8xf32>, %s: tensor<1xi64>) {
  // expected-error @+1 {{query length 5 exceeds the key length 4}}
  %0 = mm.attention %q, %k, %k query_start(%s) {causal} : (tensor<1x5x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1xi64>) -> tensor<1x5x4x8xf32>
  return
}

// -----

func.func @attention_query_start_shape(%q: tensor<1x2x4x8xf32>, %k: tensor<1x4x4x8xf32>, %s: tensor<2xi64>) {
  // expected-error @+1 {{query_start must be one i64 (tensor<1xi64>), got 'tensor<2xi64>'}}
  %0 = mm.attention %q, %k, %k query_start(%s) {causal} : (tensor<1x2x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<2xi64>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_query_start_with_cache(%q: tensor<1x1x4x8xf32>, %c: tensor<1x16x4x8xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{query_start is for attention without a cache}}
  %0:3 = mm.attention %q, %q, %q cache(%c, %c) at %p query_start(%p) {causal}
      : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1xi64>, tensor<1xi64>)
      -> (tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>)
  return
}

// -----

func.func @attention_query_start_i32(%q: tensor<1x2x4x8xf32>, %k: tensor<1x4x4x8xf32>, %s: tensor<1xi32>) {
  // expected-error @+1 {{query_start must be one i64 (tensor<1xi64>), got 'tensor<1xi32>'}}
  %0 = mm.attention %q, %k, %k query_start(%s) {causal} : (tensor<1x2x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1xi32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_key_mask_shape(%q: tensor<2x4x4x8xf32>, %m: tensor<2x5xf32>) {
  // expected-error @+1 {{key_mask 'tensor<2x5xf32>' must be [batch, kv_len] = [2, 4]}}
  %0 = mm.attention %q, %q, %q key_mask(%m) {causal} : (tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<2x5xf32>) -> tensor<2x4x4x8xf32>
  return
}

// -----

func.func @attention_key_mask_with_cache(%q: tensor<1x1x4x8xf32>, %c: tensor<1x16x4x8xf32>, %p: tensor<1xi64>, %m: tensor<1x1xf32>) {
  // expected-error @+1 {{key_mask is for attention without a cache}}
  %0:3 = mm.attention %q, %q, %q cache(%c, %c) at %p key_mask(%m) {causal}
      : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1xi64>, tensor<1x1xf32>)
      -> (tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>)
  return
}

// -----

func.func @attention_grad_key_mask_rank(%q: tensor<1x2x4x8xf32>, %m: tensor<2xf32>) {
  // expected-error @+1 {{key_mask must have rank 2}}
  %0:3 = mm.attention_grad %q, %q, %q, %q, %q key_mask(%m) : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<2xf32>) -> (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>)
  return
}

// -----

func.func @attention_grad_query_start_not_causal(%q: tensor<1x2x4x8xf32>, %k: tensor<1x4x4x8xf32>, %s: tensor<1xi64>) {
  // expected-error @+1 {{query_start places the queries of a causal attention; this one is not causal}}
  %0:3 = mm.attention_grad %q, %k, %k, %q, %q query_start(%s) : (tensor<1x2x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1xi64>) -> (tensor<1x2x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>)
  return
}

// -----

func.func @attention_scale(%q: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{scale must be positive and finite, got 0}}
  %0 = mm.attention %q, %q, %q {scale = 0.0 : f64} : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> tensor<1x4x4x8xf32>
  return
}

// -----

func.func @attention_partial_cache(%q: tensor<1x1x4x8xf32>, %c: tensor<1x16x4x8xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{key_cache, value_cache and cache_positions must be given together}}
  %0:3 = "mm.attention"(%q, %q, %q, %c, %p) <{operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 1, 0, 0>}>
      : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1xi64>)
      -> (tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>)
  return
}

// -----

func.func @attention_cache_capacity(%q: tensor<1x32x4x8xf32>, %c: tensor<1x16x4x8xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{writes 32 tokens into a cache of capacity 16}}
  %0:3 = mm.attention %q, %q, %q cache(%c, %c) at %p {causal}
      : (tensor<1x32x4x8xf32>, tensor<1x32x4x8xf32>, tensor<1x32x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1xi64>)
      -> (tensor<1x32x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>)
  return
}

// -----

func.func @attention_cache_batch(%q: tensor<1x1x4x8xf32>, %c: tensor<2x16x4x8xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{caches and cache_positions must have the batch size 1}}
  %0:3 = mm.attention %q, %q, %q cache(%c, %c) at %p
      : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>, tensor<1xi64>)
      -> (tensor<1x1x4x8xf32>, tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>)
  return
}

// -----

func.func @attention_cache_heads(%q: tensor<1x1x4x8xf32>, %c: tensor<1x16x2x8xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{key_cache 'tensor<1x16x2x8xf32>' does not match key heads/dim}}
  %0:3 = mm.attention %q, %q, %q cache(%c, %c) at %p
      : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x16x2x8xf32>, tensor<1x16x2x8xf32>, tensor<1xi64>)
      -> (tensor<1x1x4x8xf32>, tensor<1x16x2x8xf32>, tensor<1x16x2x8xf32>)
  return
}

// -----

func.func @attention_cache_capacities(%q: tensor<1x1x4x8xf32>, %c: tensor<1x16x4x8xf32>, %c2: tensor<1x8x4x8xf32>, %p: tensor<1xi64>) {
  // expected-error @+1 {{key_cache and value_cache capacities differ: 16 and 8}}
  %0:3 = mm.attention %q, %q, %q cache(%c, %c2) at %p
      : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x8x4x8xf32>, tensor<1xi64>)
      -> (tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x8x4x8xf32>)
  return
}

// -----

func.func @attention_cache_positions(%q: tensor<1x1x4x8xf32>, %c: tensor<1x16x4x8xf32>, %p: tensor<1x1xi64>) {
  // expected-error @+1 {{cache_positions must have rank 1}}
  %0:3 = mm.attention %q, %q, %q cache(%c, %c) at %p
      : (tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x1xi64>)
      -> (tensor<1x1x4x8xf32>, tensor<1x16x4x8xf32>, tensor<1x16x4x8xf32>)
  return
}

// -----

func.func @lightning_layer(%q: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{layer_index 8 is outside [0, 8)}}
  %0:2 = mm.lightning_attention %q, %q, %q {layer_index = 8 : i64, num_layers = 8 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_num_layers(%q: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{num_layers must be positive, got 0}}
  %0:2 = mm.lightning_attention %q, %q, %q {layer_index = 0 : i64, num_layers = 0 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_block(%q: tensor<1x4x4x8xf32>) {
  // expected-error @+1 {{block_size must be positive, got 0}}
  %0:2 = mm.lightning_attention %q, %q, %q {layer_index = 0 : i64, num_layers = 8 : i64, block_size = 0 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_head_index_alone(%q: tensor<1x4x4x8xf32>, %ids: tensor<4xi64>) {
  // expected-error @+1 {{head_index and total_heads come together}}
  %0:2 = mm.lightning_attention %q, %q, %q head_index(%ids) {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<4xi64>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_head_index_size(%q: tensor<1x4x4x8xf32>, %ids: tensor<2xi64>) {
  // expected-error @+1 {{head_index size}}
  %0:2 = mm.lightning_attention %q, %q, %q head_index(%ids) {layer_index = 0 : i64, num_layers = 8 : i64, total_heads = 8 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<2xi64>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_total_heads(%q: tensor<1x4x4x8xf32>, %ids: tensor<4xi64>) {
  // expected-error @+1 {{total_heads 2 must be at least the local heads 4}}
  %0:2 = mm.lightning_attention %q, %q, %q head_index(%ids) {layer_index = 0 : i64, num_layers = 8 : i64, total_heads = 2 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<4xi64>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_grad_head_index_alone(%q: tensor<1x4x2x8xf32>, %s: tensor<1x2x8x8xf32>, %ids: tensor<2xi64>) {
  // expected-error @+1 {{head_index and total_heads come together}}
  %0:4 = mm.lightning_attention_grad %q, %q, %q, %q, %s head_index(%ids) {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>, tensor<2xi64>)
      -> (tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x4x2x8xf32>, tensor<1x2x8x8xf32>)
  return
}

// -----

func.func @lightning_qkv(%q: tensor<1x4x4x8xf32>, %k: tensor<1x5x4x8xf32>) {
  // expected-error @+1 {{query, key and value must agree in batch, length and heads}}
  %0:2 = mm.lightning_attention %q, %k, %q {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x5x4x8xf32>, tensor<1x4x4x8xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_state_dtype(%q: tensor<1x4x4x8xbf16>, %s: tensor<1x4x8x8xbf16>) {
  // expected-error @+1 {{initial_state must be float32, got 'tensor<1x4x8x8xbf16>'}}
  %0:2 = mm.lightning_attention %q, %q, %q state(%s) {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<1x4x4x8xbf16>, tensor<1x4x4x8xbf16>, tensor<1x4x4x8xbf16>, tensor<1x4x8x8xbf16>) -> (tensor<1x4x4x8xbf16>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_state_shape(%q: tensor<1x4x4x8xf32>, %s: tensor<1x4x8x4xf32>) {
  // expected-error @+1 {{initial_state 'tensor<1x4x8x4xf32>' must be [batch, heads, d, d] = 1x4x8x8}}
  %0:2 = mm.lightning_attention %q, %q, %q state(%s) {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x4x8xf32>, tensor<1x4x8x4xf32>) -> (tensor<1x4x4x8xf32>, tensor<1x4x8x8xf32>)
  return
}

// -----

func.func @lightning_lengths(%q: tensor<2x4x4x8xf32>, %l: tensor<3xi64>) {
  // expected-error @+1 {{lengths size must be 2, got 3}}
  %0:2 = mm.lightning_attention %q, %q, %q lengths(%l) {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<2x4x4x8xf32>, tensor<3xi64>) -> (tensor<2x4x4x8xf32>, tensor<2x4x8x8xf32>)
  return
}

// -----

func.func @router_top_k(%l: tensor<?x4xf32>) {
  // expected-error @+1 {{top_k 5 exceeds the number of experts 4}}
  %0:2 = mm.moe_router %l {top_k = 5 : i64} : (tensor<?x4xf32>) -> (tensor<?x5xf32>, tensor<?x5xi64>)
  return
}

// -----

func.func @router_zero_k(%l: tensor<?x4xf32>) {
  // expected-error @+1 {{top_k must be positive, got 0}}
  %0:2 = mm.moe_router %l {top_k = 0 : i64} : (tensor<?x4xf32>) -> (tensor<?x0xf32>, tensor<?x0xi64>)
  return
}

// -----

func.func @router_rank(%l: tensor<f32>) {
  // expected-error @+1 {{logits must have an expert dimension}}
  %0:2 = mm.moe_router %l {top_k = 2 : i64} : (tensor<f32>) -> (tensor<2xf32>, tensor<2xi64>)
  return
}

// -----

func.func @dispatch_tokens(%x: tensor<4x8xf32>, %e: tensor<5x2xi64>) {
  // expected-error @+1 {{input tokens 4 differ from expert_indices tokens 5}}
  %0:3 = mm.moe_dispatch %x, %e {num_experts = 4 : i64} : (tensor<4x8xf32>, tensor<5x2xi64>) -> (tensor<8x8xf32>, tensor<5xi64>, tensor<8xi64>)
  return
}

// -----

func.func @dispatch_experts(%x: tensor<4x8xf32>, %e: tensor<4x2xi64>) {
  // expected-error @+1 {{num_experts must be positive, got 0}}
  %0:3 = mm.moe_dispatch %x, %e {num_experts = 0 : i64} : (tensor<4x8xf32>, tensor<4x2xi64>) -> (tensor<8x8xf32>, tensor<1xi64>, tensor<8xi64>)
  return
}

// -----

func.func @dispatch_rank(%x: tensor<4x8xf32>, %e: tensor<4x1x2xi64>) {
  // expected-error @+1 {{input [..., dim] and expert_indices [..., k] must have the same rank >= 1}}
  %0:3 = mm.moe_dispatch %x, %e {num_experts = 4 : i64} : (tensor<4x8xf32>, tensor<4x1x2xi64>) -> (tensor<8x8xf32>, tensor<5xi64>, tensor<8xi64>)
  return
}

// -----

func.func @grouped_matmul_features(%x: tensor<?x8xf32>, %w: tensor<4x16x6xf32>, %o: tensor<5xi64>) {
  // expected-error @+1 {{input has 8 features but weight [experts, out, in] expects 6}}
  %0 = mm.grouped_matmul %x, %w, %o : (tensor<?x8xf32>, tensor<4x16x6xf32>, tensor<5xi64>) -> tensor<?x16xf32>
  return
}

// -----

func.func @grouped_matmul_offsets(%x: tensor<?x8xf32>, %w: tensor<4x16x8xf32>, %o: tensor<4xi64>) {
  // expected-error @+1 {{group_offsets must have experts + 1 = 5 entries, got 4}}
  %0 = mm.grouped_matmul %x, %w, %o : (tensor<?x8xf32>, tensor<4x16x8xf32>, tensor<4xi64>) -> tensor<?x16xf32>
  return
}

// -----

func.func @combine_rows(%y: tensor<6x8xf32>, %o: tensor<6xi64>, %w: tensor<4x2xf32>) {
  // expected-error @+1 {{expert_output and token_order need tokens * k = 8 rows, got 6 and 6}}
  %0 = mm.moe_combine %y, %o, %w : (tensor<6x8xf32>, tensor<6xi64>, tensor<4x2xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @softmax_dim(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dim 2 is out of range for 'tensor<4x8xf32>'}}
  %0 = mm.softmax %x {dim = 2 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @log_softmax_dim(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dim -3 is out of range}}
  %0 = mm.log_softmax %x {dim = -3 : i64} : tensor<4x8xf32>
  return
}

// -----

func.func @reduce_dim(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dim 2 is out of range for rank 2}}
  %0 = mm.reduce sum %x dims [2] : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @reduce_twice(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dim -1 is listed twice}}
  %0 = mm.reduce sum %x dims [1, -1] : (tensor<4x8xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @reduce_empty(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dims must not be empty}}
  %0 = mm.reduce sum %x dims [] : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @top_k_too_large(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{k 9 exceeds the last dimension 8}}
  %0:2 = mm.top_k %x {k = 9 : i64} : (tensor<4x8xf32>) -> (tensor<4x9xf32>, tensor<4x9xi64>)
  return
}

// -----

func.func @top_k_zero(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{k must be positive, got 0}}
  %0:2 = mm.top_k %x {k = 0 : i64} : (tensor<4x8xf32>) -> (tensor<4x0xf32>, tensor<4x0xi64>)
  return
}

// -----

func.func @top_k_scalar(%x: tensor<f32>) {
  // expected-error @+1 {{input must have at least one dimension}}
  %0:2 = mm.top_k %x {k = 1 : i64} : (tensor<f32>) -> (tensor<f32>, tensor<i64>)
  return
}

// -----

func.func @argmax_dim(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dim 3 is out of range}}
  %0 = mm.argmax %x {dim = 3 : i64} : (tensor<4x8xf32>) -> tensor<4xi64>
  return
}

// -----

func.func @argmax_empty(%x: tensor<4x0xf32>) {
  // expected-error @+1 {{argmax over an empty dimension}}
  %0 = mm.argmax %x : (tensor<4x0xf32>) -> tensor<4xi64>
  return
}

// -----

func.func @reshape_two_infers(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{shape has more than one -1 entry}}
  %0 = mm.reshape %x [-1, -1] : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @reshape_copy_rank(%x: tensor<32xf32>) {
  // expected-error @+1 {{shape entry 1 is 0 (copy) but the input has rank 1}}
  %0 = mm.reshape %x [4, 0] : (tensor<32xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @reshape_negative(%x: tensor<32xf32>) {
  // expected-error @+1 {{shape entry 0 is -2; entries are sizes, 0 (copy) or -1 (infer)}}
  %0 = mm.reshape %x [-2, 16] : (tensor<32xf32>) -> tensor<2x16xf32>
  return
}

// -----

func.func @reshape_count(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{cannot reshape 32 elements into 5x7}}
  %0 = mm.reshape %x [5, 7] : (tensor<4x8xf32>) -> tensor<5x7xf32>
  return
}

// -----

func.func @reshape_infer(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{cannot infer the -1 entry: 32 elements do not divide into 5}}
  %0 = mm.reshape %x [5, -1] : (tensor<4x8xf32>) -> tensor<5x?xf32>
  return
}

// -----

func.func @reshape_overflow(%x: tensor<?xf32>) {
  // expected-error @+1 {{element count overflows}}
  %0 = mm.reshape %x [4611686018427387904, 4] : (tensor<?xf32>) -> tensor<4611686018427387904x4xf32>
  return
}

// -----

func.func @transpose_size(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{permutation has 3 entries for rank 2}}
  %0 = mm.transpose %x [0, 1, 2] : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @transpose_not_permutation(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{permutation [1x1] is not a permutation of [0, 2)}}
  %0 = mm.transpose %x [1, 1] : (tensor<4x8xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @concat_rank(%a: tensor<4x8xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{input 1 'tensor<4xf32>' differs in rank or element type from input 0 'tensor<4x8xf32>'}}
  %0 = mm.concat %a, %b dim 0 : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @concat_size(%a: tensor<4x8xf32>, %b: tensor<4x7xf32>) {
  // expected-error @+1 {{input 1 has size 7 in dim 1 where input 0 has 8}}
  %0 = mm.concat %a, %b dim 0 : (tensor<4x8xf32>, tensor<4x7xf32>) -> tensor<8x8xf32>
  return
}

// -----

func.func @concat_dim(%a: tensor<4x8xf32>) {
  // expected-error @+1 {{dim 2 is out of range for rank 2}}
  %0 = mm.concat %a dim 2 : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @concat_none() {
  // expected-error @+1 {{needs at least one input}}
  %0 = "mm.concat"() {dim = 0 : i64} : () -> tensor<4xf32>
  return
}

// -----

func.func @slice_step(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{step must be positive, got 0}}
  %0 = mm.slice %x dim 0 [0 : 4 : 0] : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_dim(%x: tensor<4x8xf32>) {
  // expected-error @+1 {{dim 5 is out of range for 'tensor<4x8xf32>'}}
  %0 = mm.slice %x dim 5 [0 :] : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @gather_dim(%x: tensor<4x8xf32>, %i: tensor<?xi64>) {
  // expected-error @+1 {{dim 2 is out of range}}
  %0 = mm.gather %x, %i {dim = 2 : i64} : (tensor<4x8xf32>, tensor<?xi64>) -> tensor<4x8xf32>
  return
}

// -----

func.func @gather_batch_dims(%x: tensor<4x8xf32>, %i: tensor<4xi64>) {
  // expected-error @+1 {{batch_dims 2 must be in [0, min(dim, indices rank)]}}
  %0 = mm.gather %x, %i {dim = 1 : i64, batch_dims = 2 : i64} : (tensor<4x8xf32>, tensor<4xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @gather_batch_mismatch(%x: tensor<4x8xf32>, %i: tensor<3xi64>) {
  // expected-error @+1 {{batch dim 0 of input (4) and indices (3) differ}}
  %0 = mm.gather %x, %i {dim = 1 : i64, batch_dims = 1 : i64} : (tensor<4x8xf32>, tensor<3xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @scatter_indices(%d: tensor<4x8xf32>, %i: tensor<2x2xi64>, %u: tensor<4x8xf32>) {
  // expected-error @+1 {{indices must have rank 1}}
  %0 = mm.scatter_add %d, %i, %u {dim = 0 : i64} : (tensor<4x8xf32>, tensor<2x2xi64>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @scatter_updates(%d: tensor<4x8xf32>, %i: tensor<3xi64>, %u: tensor<2x8xf32>) {
  // expected-error @+1 {{updates dim 0 is 2, expected 3}}
  %0 = mm.scatter_add %d, %i, %u {dim = 0 : i64} : (tensor<4x8xf32>, tensor<3xi64>, tensor<2x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @scatter_rank(%d: tensor<4x8xf32>, %i: tensor<3xi64>, %u: tensor<3xf32>) {
  // expected-error @+1 {{updates 'tensor<3xf32>' must have the rank of dest 'tensor<4x8xf32>'}}
  %0 = mm.scatter_add %d, %i, %u {dim = 0 : i64} : (tensor<4x8xf32>, tensor<3xi64>, tensor<3xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @cross_entropy_labels(%l: tensor<4x5x10xf32>, %y: tensor<4x6xi64>) {
  // expected-error @+1 {{labels shape 4x6 must be the logits shape without its class dim, 4x5}}
  %0 = mm.cross_entropy mean %l, %y : (tensor<4x5x10xf32>, tensor<4x6xi64>) -> tensor<f32>
  return
}

// -----

func.func @cross_entropy_scalar(%l: tensor<f32>, %y: tensor<i64>) {
  // expected-error @+1 {{logits must have a class dimension}}
  %0 = mm.cross_entropy mean %l, %y : (tensor<f32>, tensor<i64>) -> tensor<f32>
  return
}

// -----

func.func @policy_shapes(%lp: tensor<4x8xf32>, %old: tensor<4x7xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{logprobs, old_logprobs and mask must have one shape [batch, seq]}}
  %0 = mm.policy_loss cispo %lp, %old, %a, %lp : (tensor<4x8xf32>, tensor<4x7xf32>, tensor<4xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_advantages(%lp: tensor<4x8xf32>, %a: tensor<5xf32>) {
  // expected-error @+1 {{advantages must be [batch] or [batch, seq], got 'tensor<5xf32>'}}
  %0 = mm.policy_loss cispo %lp, %lp, %a, %lp : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<5xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_eps(%lp: tensor<4x8xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{eps_low and eps_high must be non-negative, got -1.000000e+00 and 2.000000e-01}}
  %0 = mm.policy_loss ppo_clip %lp, %lp, %a, %lp {eps_low = -1.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_clamp(%lp: tensor<4x8xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{log_ratio_clamp must be positive, got 0}}
  %0 = mm.policy_loss ppo_clip %lp, %lp, %a, %lp {log_ratio_clamp = 0.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_rank(%lp: tensor<4xf32>) {
  // expected-error @+1 {{logprobs must have rank 2}}
  %0 = mm.policy_loss cispo %lp, %lp, %lp, %lp : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_ratio_cap_ppo(%lp: tensor<4x8xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{ratio_cap applies to cispo; ppo_clip clips with eps_low and eps_high}}
  %0 = mm.policy_loss ppo_clip %lp, %lp, %a, %lp {ratio_cap = 5.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_ratio_cap_positive(%lp: tensor<4x8xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{ratio_cap must be positive, got 0}}
  %0 = mm.policy_loss cispo %lp, %lp, %a, %lp {ratio_cap = 0.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_dual_clip_cispo(%lp: tensor<4x8xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{dual_clip applies to ppo_clip, not cispo}}
  %0 = mm.policy_loss cispo %lp, %lp, %a, %lp {dual_clip = 3.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_dual_clip_above_one(%lp: tensor<4x8xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{dual_clip must be greater than 1, got 1}}
  %0 = mm.policy_loss ppo_clip %lp, %lp, %a, %lp {dual_clip = 1.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>) -> tensor<f32>
  return
}

// -----

func.func @policy_normalizer_rank(%lp: tensor<4x8xf32>, %a: tensor<4xf32>) {
  // expected-error @+1 {{normalizer must be a 0-d tensor (a token or sequence count), got 'tensor<4xf32>'}}
  %0 = mm.policy_loss ppo_clip %lp, %lp, %a, %lp normalized_by %a : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @bce_shapes(%x: tensor<4xf32>, %y: tensor<5xf32>) {
  // expected-error @+1 {{logits 'tensor<4xf32>' and labels 'tensor<5xf32>' must have the same shape}}
  %0 = mm.sigmoid_bce mean %x, %y : (tensor<4xf32>, tensor<5xf32>) -> tensor<f32>
  return
}

// -----

func.func @conv2d_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<2x3x3x3xf32>) {
  // expected-error @+1 {{input has 4 channels but weight expects 3}}
  %0 = mm.conv2d %x, %w : (tensor<1x4x8x8xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x6x6xf32>
  return
}

// -----

func.func @conv2d_kernel(%x: tensor<1x3x2x8xf32>, %w: tensor<2x3x3x3xf32>) {
  // expected-error @+1 {{kernel extent 3 along height exceeds the padded input size 2}}
  %0 = mm.conv2d %x, %w : (tensor<1x3x2x8xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x0x6xf32>
  return
}

// -----

func.func @conv2d_attrs(%x: tensor<1x3x8x8xf32>, %w: tensor<2x3x3x3xf32>) {
  // expected-error @+1 {{strides, padding and dilation must each have 2 entries}}
  %0 = mm.conv2d %x, %w {strides = array<i64: 1>} : (tensor<1x3x8x8xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x6x6xf32>
  return
}

// -----

func.func @conv2d_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<2x3x3x3xf32>) {
  // expected-error @+1 {{strides and dilation must be positive and padding non-negative}}
  %0 = mm.conv2d %x, %w {strides = array<i64: 0, 1>} : (tensor<1x3x8x8xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x6x6xf32>
  return
}

// -----

func.func @conv2d_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<2x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{bias has 3 elements for 2 output channels}}
  %0 = mm.conv2d %x, %w, %b : (tensor<1x3x8x8xf32>, tensor<2x3x3x3xf32>, tensor<3xf32>) -> tensor<1x2x6x6xf32>
  return
}

// -----

func.func @conv2d_overflow(%x: tensor<1x3x9223372036854775807x8xf32>, %w: tensor<2x3x3x3xf32>) {
  // expected-error @+1 {{convolution size along height overflows}}
  %0 = mm.conv2d %x, %w {padding = array<i64: 1, 1>} : (tensor<1x3x9223372036854775807x8xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x1x6xf32>
  return
}

// -----

func.func @merge_width(%e: tensor<?x?x8xf32>, %ids: tensor<?x?xi64>, %f: tensor<?x4xf32>) {
  // expected-error @+1 {{image_features width 4 differs from the embeddings width 8}}
  %0 = mm.merge_image_features %e, %ids, %f {image_token_id = 3 : i64} : (tensor<?x?x8xf32>, tensor<?x?xi64>, tensor<?x4xf32>) -> tensor<?x?x8xf32>
  return
}

// -----

func.func @merge_ids(%e: tensor<2x5x8xf32>, %ids: tensor<2x4xi64>, %f: tensor<?x8xf32>) {
  // expected-error @+1 {{ids 'tensor<2x4xi64>' must be the [batch, seq] of embeddings}}
  %0 = mm.merge_image_features %e, %ids, %f {image_token_id = 3 : i64} : (tensor<2x5x8xf32>, tensor<2x4xi64>, tensor<?x8xf32>) -> tensor<2x5x8xf32>
  return
}

// -----

func.func @merge_grad_ids(%g: tensor<2x5x8xf32>, %ids: tensor<2x4xi64>, %f: tensor<?x8xf32>) {
  // expected-error @+1 {{ids 'tensor<2x4xi64>' must be the [batch, seq] of grad_output}}
  %0 = mm.merge_image_features_grad %g, %ids, %f {image_token_id = 3 : i64} : (tensor<2x5x8xf32>, tensor<2x4xi64>, tensor<?x8xf32>) -> tensor<?x8xf32>
  return
}

// -----

func.func @conv1d_channels(%x: tensor<?x10x4xf32>, %w: tensor<4x3x3xf32>) {
  // expected-error @+1 {{input has 4 channels but weight [out, in, k] expects 3}}
  %0 = mm.conv1d %x, %w : (tensor<?x10x4xf32>, tensor<4x3x3xf32>) -> tensor<?x8x4xf32>
  return
}

// -----

func.func @conv1d_padding(%x: tensor<?x10x4xf32>, %w: tensor<4x4x3xf32>) {
  // expected-error @+1 {{padding must be [before, after] with non-negative entries}}
  %0 = mm.conv1d %x, %w {padding = array<i64: 1>} : (tensor<?x10x4xf32>, tensor<4x4x3xf32>) -> tensor<?x10x4xf32>
  return
}

// -----

func.func @conv1d_dilation(%x: tensor<?x10x4xf32>, %w: tensor<4x4x3xf32>) {
  // expected-error @+1 {{stride and dilation must be positive}}
  %0 = mm.conv1d %x, %w {dilation = 0 : i64} : (tensor<?x10x4xf32>, tensor<4x4x3xf32>) -> tensor<?x10x4xf32>
  return
}

// -----

func.func @gru_gates(%x: tensor<?x5x4xf32>, %wih: tensor<12x4xf32>, %whh: tensor<12x8xf32>, %b: tensor<12xf32>) {
  // expected-error @+1 {{weights and biases must have 3 * hidden = 24 rows (gates r, z, n)}}
  %0:2 = mm.gru %x, %wih, %whh, %b, %b : (tensor<?x5x4xf32>, tensor<12x4xf32>, tensor<12x8xf32>, tensor<12xf32>, tensor<12xf32>) -> (tensor<?x5x8xf32>, tensor<?x8xf32>)
  return
}

// -----

func.func @gru_input(%x: tensor<?x5x5xf32>, %wih: tensor<12x4xf32>, %whh: tensor<12x4xf32>, %b: tensor<12xf32>) {
  // expected-error @+1 {{input has 5 features but weight_ih expects 4}}
  %0:2 = mm.gru %x, %wih, %whh, %b, %b : (tensor<?x5x5xf32>, tensor<12x4xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>) -> (tensor<?x5x4xf32>, tensor<?x4xf32>)
  return
}

// -----

func.func @gru_state(%x: tensor<?x5x4xf32>, %w: tensor<12x4xf32>, %b: tensor<12xf32>, %h: tensor<?x5xf32>) {
  // expected-error @+1 {{initial_state must be [batch, hidden], got 'tensor<?x5xf32>'}}
  %0:2 = mm.gru %x, %w, %w, %b, %b init(%h) : (tensor<?x5x4xf32>, tensor<12x4xf32>, tensor<12x4xf32>, tensor<12xf32>, tensor<12xf32>, tensor<?x5xf32>) -> (tensor<?x5x4xf32>, tensor<?x4xf32>)
  return
}

// -----

func.func @pool_dim(%x: tensor<?x5x4xf32>) {
  // expected-error @+1 {{dim 3 is out of range}}
  %0 = mm.pool mean %x dim 3 : (tensor<?x5x4xf32>) -> tensor<?x5xf32>
  return
}

// -----

func.func @pool_mask(%x: tensor<?x5x4xf32>, %m: tensor<?x6xf32>) {
  // expected-error @+1 {{mask shape ?x6 must be the input shape up to the pooled dim, ?x5}}
  %0 = mm.pool sum %x mask(%m) dim 1 : (tensor<?x5x4xf32>, tensor<?x6xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @target_attention_dims(%s: tensor<?x5x4xf32>, %t: tensor<?x3xf32>) {
  // expected-error @+1 {{target 'tensor<?x3xf32>' must be [batch, dim] of sequence}}
  %0 = mm.target_attention %s, %t : (tensor<?x5x4xf32>, tensor<?x3xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @target_attention_mask(%s: tensor<?x5x4xf32>, %t: tensor<?x4xf32>, %m: tensor<?x4xf32>) {
  // expected-error @+1 {{mask must be [batch, seq] of the sequence}}
  %0 = mm.target_attention %s, %t mask(%m) : (tensor<?x5x4xf32>, tensor<?x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @target_attention_scale(%s: tensor<?x5x4xf32>, %t: tensor<?x4xf32>) {
  // expected-error @+1 {{scale must be positive and finite, got -2}}
  %0 = mm.target_attention %s, %t {scale = -2.0 : f64} : (tensor<?x5x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  return
}

// -----

func.func @hadamard_small(%f: tensor<?x4x8xf32>) {
  // expected-error @+1 {{group 0 needs at least two fields}}
  %0 = mm.hadamard_interaction %f [array<i64: 1>] : (tensor<?x4x8xf32>) -> tensor<?x1x8xf32>
  return
}

// -----

func.func @hadamard_range(%f: tensor<?x4x8xf32>) {
  // expected-error @+1 {{group 1 names field 4 outside [0, 4)}}
  %0 = mm.hadamard_interaction %f [array<i64: 0, 1>, array<i64: 2, 4>] : (tensor<?x4x8xf32>) -> tensor<?x2x8xf32>
  return
}

// -----

func.func @hadamard_repeat(%f: tensor<?x4x8xf32>) {
  // expected-error @+1 {{group 0 repeats a field}}
  %0 = mm.hadamard_interaction %f [array<i64: 2, 2>] : (tensor<?x4x8xf32>) -> tensor<?x1x8xf32>
  return
}

// -----

func.func @hadamard_empty(%f: tensor<?x4x8xf32>) {
  // expected-error @+1 {{groups must not be empty}}
  %0 = mm.hadamard_interaction %f [] : (tensor<?x4x8xf32>) -> tensor<?x0x8xf32>
  return
}

// -----

func.func @choice_yield_types(%x: tensor<?x8xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{candidate 1 yields ('tensor<?x8xbf16>') but the choice produces ('tensor<?x8xf32>')}}
  %0 = mm.choice "c" %s : tensor<i64> -> (tensor<?x8xf32>) {
    mm.yield %x : tensor<?x8xf32>
  }, {
    %y = mm.cast %x : tensor<?x8xf32> to tensor<?x8xbf16>
    mm.yield %y : tensor<?x8xbf16>
  }
  return
}

// -----

func.func @choice_constant_selector(%x: tensor<?x8xf32>) {
  %s = arith.constant dense<2> : tensor<i64>
  // expected-error @+1 {{selector 2 is outside the 2 candidates}}
  %0 = mm.choice "c" %s : tensor<i64> -> (tensor<?x8xf32>) {
    mm.yield %x : tensor<?x8xf32>
  }, {
    mm.yield %x : tensor<?x8xf32>
  }
  return
}

// -----

func.func @choice_no_candidates(%s: tensor<i64>) {
  // expected-error @+1 {{needs at least one candidate region}}
  "mm.choice"(%s) {name = "c"} : (tensor<i64>) -> ()
  return
}

// -----

func.func @choice_name(%x: tensor<?x8xf32>, %s: tensor<i64>) {
  // expected-error @+1 {{name must not be empty}}
  %0 = mm.choice "" %s : tensor<i64> -> (tensor<?x8xf32>) {
    mm.yield %x : tensor<?x8xf32>
  }
  return
}

// -----

func.func @choice_selector_type(%x: tensor<?x8xf32>, %s: tensor<2xi64>) {
  // expected-error @+1 {{operand #0 must be 0D tensor of signless integer values}}
  %0 = mm.choice "c" %s : tensor<2xi64> -> (tensor<?x8xf32>) {
    mm.yield %x : tensor<?x8xf32>
  }
  return
}

// -----

func.func @choice_empty_region(%s: tensor<i64>) {
  // expected-error @+1 {{region #0 ('candidates') failed to verify constraint: region with 1 blocks}}
  "mm.choice"(%s) ({}) {name = "c"} : (tensor<i64>) -> ()
  return
}

// -----

func.func @yield_outside(%x: tensor<?x8xf32>) {
  // expected-error @+1 {{expects parent op to be one of 'mm.choice, mm.kernel'}}
  mm.yield %x : tensor<?x8xf32>
}

// -----

func.func @kernel_kind(%x: tensor<4xf32>) {
  // expected-error @+1 {{expected string or keyword containing one of the following enum values for attribute 'kind'}}
  %0 = mm.kernel magic (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    mm.yield %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_arguments(%x: tensor<4xf32>) {
  // expected-error @+1 {{body has 2 arguments for 1 inputs}}
  %0 = mm.kernel elementwise (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    mm.yield %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_argument_type(%x: tensor<4xf32>) {
  // expected-error @+1 {{body argument 0 has type 'tensor<5xf32>' but input 0 is 'tensor<4xf32>'}}
  %0 = mm.kernel elementwise (%x) : (tensor<4xf32>) -> tensor<5xf32> {
  ^bb0(%a: tensor<5xf32>):
    mm.yield %a : tensor<5xf32>
  }
  return
}

// -----

func.func @kernel_yield(%x: tensor<4xf32>) {
  // expected-error @+1 {{body yields ('tensor<4xf32>') but the kernel produces ('tensor<4xbf16>')}}
  %0 = mm.kernel elementwise (%x) : (tensor<4xf32>) -> tensor<4xbf16> {
  ^bb0(%a: tensor<4xf32>):
    mm.yield %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_in_place(%x: tensor<4xf32>) {
  // expected-error @+1 {{in_place entry 0 names input 3, which does not exist}}
  %0 = mm.kernel elementwise (%x) {in_place = array<i64: 3>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    mm.yield %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_in_place_count(%x: tensor<4xf32>) {
  // expected-error @+1 {{in_place has 2 entries for 1 results}}
  %0 = mm.kernel elementwise (%x) {in_place = array<i64: 0, 0>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    mm.yield %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_isolated(%x: tensor<4xf32>) {
  // expected-note @+1 {{required by region isolation constraints}}
  %0 = mm.kernel elementwise () : () -> tensor<4xf32> {
    // expected-error @+1 {{using value defined outside the region}}
    %1 = mm.silu %x : tensor<4xf32>
    mm.yield %1 : tensor<4xf32>
  }
  return
}

// -----

// expected-error @+1 {{mm.dims of argument 0 must list one name per dim of a ranked tensor}}
func.func @dims_rank(%x: tensor<?x8xf32> {mm.dims = ["N"]}) {
  return
}

// -----

// expected-error @+1 {{mm.dims of argument 0: dynamic dim 0 names no symbol}}
func.func @dims_dynamic_unnamed(%x: tensor<?x8xf32> {mm.dims = ["", ""]}) {
  return
}

// -----

// expected-error @+1 {{mm.dims of argument 0: static dim 1 names symbol 'K' (static dims are "")}}
func.func @dims_static_named(%x: tensor<?x8xf32> {mm.dims = ["N", "K"]}) {
  return
}

// -----

// expected-error @+1 {{unknown mm argument attribute 'mm.dim'}}
func.func @misspelt_arg_attr(%x: tensor<?x8xf32> {mm.dim = ["N", ""]}) {
  return
}

// -----

func.func @offsets_count(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{mm.offsets has 2 entries for 1 results}}
  %0 = mm.kernel elementwise (%x) {mm.offsets = array<i64: 0, 64>} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %1 = mm.relu %a : tensor<4xf32>
    mm.yield %1 : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @offsets_elsewhere(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{mm.offsets must be an array<i64> on an mm.kernel}}
  %0 = mm.relu %x {mm.offsets = array<i64: 0>} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error @+1 {{mm.symbol_max entry 'N' must be an integer >= 1}}
func.func @symbol_max_zero(%x: tensor<4xf32>) attributes {mm.symbol_max = {N = 0 : i64}} {
  return
}

// -----

// expected-error @+1 {{unknown mm attribute 'mm.arena'}}
func.func @misspelt_attr(%x: tensor<4xf32>) attributes {mm.arena = 4 : i64} {
  return
}

// -----

func.func @in_place_twice(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  // expected-error @+1 {{in_place names input 0 for more than one result}}
  %0:2 = mm.kernel elementwise (%x) {in_place = array<i64: 0, 0>} : (tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  ^bb0(%a: tensor<4xf32>):
    %1 = mm.relu %a : tensor<4xf32>
    %2 = mm.neg %a : tensor<4xf32>
    mm.yield %1, %2 : tensor<4xf32>, tensor<4xf32>
  }
  return %0#0, %0#1 : tensor<4xf32>, tensor<4xf32>
}

// -----

func.func @tp_dim_on_an_activation(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{mm.tp_dim must be an integer on an mm.param or arith.constant}}
  %y = mm.relu %x {mm.tp_dim = 0 : i64} : tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @tp_dim_past_the_head_map(%k: tensor<1x2x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{mm.tp_dim 1 is not a dim of 'tensor<4xi64>'}}
  %m = arith.constant {mm.tp_dim = 1 : i64} dense<[0, 0, 1, 1]> : tensor<4xi64>
  %r = mm.gather %k, %m {dim = 1 : i64} : (tensor<1x2x8xf32>, tensor<4xi64>) -> tensor<1x4x8xf32>
  return %r : tensor<1x4x8xf32>
}

// -----

func.func @tp_dim_on_a_constant_added(%x: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{mm.tp_dim on an arith.constant is for a head map read as mm.gather / mm.scatter_add indices only}}
  %m = arith.constant {mm.tp_dim = 0 : i64} dense<[0, 0, 1, 1]> : tensor<4xi64>
  %r = mm.add %x, %m : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %r : tensor<4xi64>
}

// -----

func.func @embedding_part_without_vocab_size(%t: tensor<3x4xf32>, %ids: tensor<5xi64>, %o: tensor<1xi64>) -> tensor<5x4xf32> {
  // expected-error @+1 {{rows_from and vocab_size go together (a vocab-parallel part)}}
  %h = mm.embedding %t, %ids rows_from(%o) : (tensor<3x4xf32>, tensor<5xi64>, tensor<1xi64>) -> tensor<5x4xf32>
  return %h : tensor<5x4xf32>
}

// -----

func.func @embedding_part_of_a_smaller_vocabulary(%t: tensor<3x4xf32>, %ids: tensor<5xi64>, %o: tensor<1xi64>) -> tensor<5x4xf32> {
  // expected-error @+1 {{vocab_size 2 is smaller than the table's 3 rows}}
  %h = mm.embedding %t, %ids rows_from(%o) {vocab_size = 2 : i64} : (tensor<3x4xf32>, tensor<5xi64>, tensor<1xi64>) -> tensor<5x4xf32>
  return %h : tensor<5x4xf32>
}

// -----

func.func @embedding_part_offsets(%t: tensor<3x4xf32>, %ids: tensor<5xi64>, %o: tensor<2xi64>) -> tensor<5x4xf32> {
  // expected-error @+1 {{rows_from must be a tensor<1xi64>}}
  %h = mm.embedding %t, %ids rows_from(%o) {vocab_size = 6 : i64} : (tensor<3x4xf32>, tensor<5xi64>, tensor<2xi64>) -> tensor<5x4xf32>
  return %h : tensor<5x4xf32>
}

// -----

// A generation step (ir/GenerationStep.h) that does not fit its function.
// expected-error @+1 {{argument 3: mm.step_input 'positions' is declared twice}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "positions"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{argument 3: unknown mm.step_input 'length'}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "length"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{mm.generation_step: 'capacity' must name a shape symbol of the arguments' mm.dims}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", capacity = "S", logits = 0 : i64}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{mm.generation_step: the results other than the logits must be the updated state}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x?xi64>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64}} {
  return %state, %ids : tensor<?x4xf32>, tensor<?x?xi64>
}

// -----

// expected-error @+1 {{mm.step_input of argument 0 must be one of "token_ids", "positions", "cache_positions", "lengths", "image_features"}}
func.func @not_a_role(%ids: tensor<4xi64> {mm.step_input = 7 : i64}) {
  return
}

// -----

// expected-error @+1 {{mm.generation_step: 'logits' must be the index of a result}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 2 : i64}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{mm.generation_step: unknown entry 'vocab'}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", vocab = 10 : i64}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{mm.generation_step: symbol 'B' has two roles}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", capacity = "B", logits = 0 : i64}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{mm.generation_step: shape symbol 'S' has no role}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x?xf32> {mm.dims = ["B", "S"]})
    -> (tensor<?x?xf32>, tensor<?x?xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64}} {
  return %state, %state : tensor<?x?xf32>, tensor<?x?xf32>
}

// -----

// expected-error @+1 {{the logits result must be a float tensor [batch, vocab] with a static vocab}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64}} {
  %l = mm.reduce sum %state dims [1] : (tensor<?x4xf32>) -> tensor<?xf32>
  return %l, %state : tensor<?xf32>, tensor<?x4xf32>
}

// -----

// expected-error @+1 {{argument 2: the step input 'cache_positions' must be a rank-1 i64 tensor}}
func.func @step(%ids: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "token_ids"},
                %pos: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "positions"},
                %cached: tensor<?x?xi64> {mm.dims = ["B", "T"], mm.step_input = "cache_positions"},
                %len: tensor<?xi64> {mm.dims = ["B"], mm.step_input = "lengths"},
                %state: tensor<?x4xf32> {mm.dims = ["B", ""]})
    -> (tensor<?x4xf32>, tensor<?x4xf32>)
    attributes {mm.generation_step = {batch = "B", tokens = "T", logits = 0 : i64}} {
  return %state, %state : tensor<?x4xf32>, tensor<?x4xf32>
}
