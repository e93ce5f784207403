// RoPE, softmax attention (flash backward), lightning attention (block-wise
// backward). loss = sum(output * c) (+ sum(final_state * cs) for lightning).

func.func @rope(%x: tensor<2x3x2x8xf32>, %pos: tensor<2x3xi64>, %c: tensor<2x3x2x8xf32>) -> tensor<f32> {
  %y = mm.rope %x, %pos {rotary_dim = 6 : i64, theta = 1.0e+04 : f64} : (tensor<2x3x2x8xf32>, tensor<2x3xi64>) -> tensor<2x3x2x8xf32>
  %wc = mm.mul %y, %c : (tensor<2x3x2x8xf32>, tensor<2x3x2x8xf32>) -> tensor<2x3x2x8xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<2x3x2x8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @attention_causal_gqa(%q: tensor<2x5x4x8xf32>, %k: tensor<2x5x2x8xf32>, %v: tensor<2x5x2x6xf32>, %c: tensor<2x5x4x6xf32>) -> tensor<f32> {
  %o = mm.attention %q, %k, %v {causal} : (tensor<2x5x4x8xf32>, tensor<2x5x2x8xf32>, tensor<2x5x2x6xf32>) -> tensor<2x5x4x6xf32>
  %wc = mm.mul %o, %c : (tensor<2x5x4x6xf32>, tensor<2x5x4x6xf32>) -> tensor<2x5x4x6xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<2x5x4x6xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

func.func @attention_full_scaled(%q: tensor<1x3x2x4xf32>, %k: tensor<1x6x2x4xf32>, %v: tensor<1x6x2x4xf32>, %c: tensor<1x3x2x4xf32>) -> tensor<f32> {
  %o = mm.attention %q, %k, %v {scale = 0.7 : f64} : (tensor<1x3x2x4xf32>, tensor<1x6x2x4xf32>, tensor<1x6x2x4xf32>) -> tensor<1x3x2x4xf32>
  %wc = mm.mul %o, %c : (tensor<1x3x2x4xf32>, tensor<1x3x2x4xf32>) -> tensor<1x3x2x4xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<1x3x2x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// A context-parallel rank's 3 queries from position 2 among 6 keys
// (query_start): the backward masks as the forward, and dk, dv take only
// these queries' share.
func.func @attention_query_start(%q: tensor<2x3x4x8xf32>, %k: tensor<2x6x2x8xf32>, %v: tensor<2x6x2x6xf32>, %start: tensor<1xi64>, %c: tensor<2x3x4x6xf32>) -> tensor<f32> {
  %o = mm.attention %q, %k, %v query_start(%start) {causal} : (tensor<2x3x4x8xf32>, tensor<2x6x2x8xf32>, tensor<2x6x2x6xf32>, tensor<1xi64>) -> tensor<2x3x4x6xf32>
  %wc = mm.mul %o, %c : (tensor<2x3x4x6xf32>, tensor<2x3x4x6xf32>) -> tensor<2x3x4x6xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<2x3x4x6xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// Left-padded sequences under a key mask: hidden keys get zero dk and dv, a
// query that sees no key (row 0 of sequence 0) a zero dq.
func.func @attention_key_mask(%q: tensor<2x4x2x8xf32>, %k: tensor<2x4x1x8xf32>, %v: tensor<2x4x1x6xf32>, %m: tensor<2x4xf32>, %c: tensor<2x4x2x6xf32>) -> tensor<f32> {
  %o = mm.attention %q, %k, %v key_mask(%m) {causal} : (tensor<2x4x2x8xf32>, tensor<2x4x1x8xf32>, tensor<2x4x1x6xf32>, tensor<2x4xf32>) -> tensor<2x4x2x6xf32>
  %wc = mm.mul %o, %c : (tensor<2x4x2x6xf32>, tensor<2x4x2x6xf32>) -> tensor<2x4x2x6xf32>
  %l = mm.reduce sum %wc dims [0, 1, 2, 3] : (tensor<2x4x2x6xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// 7 tokens in blocks of 3 (three blocks, the last partial), a carried state.
func.func @lightning_state(%q: tensor<2x7x2x4xf32>, %k: tensor<2x7x2x4xf32>, %v: tensor<2x7x2x4xf32>, %s0: tensor<2x2x4x4xf32>, %c: tensor<2x7x2x4xf32>, %cs: tensor<2x2x4x4xf32>) -> tensor<f32> {
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) {layer_index = 1 : i64, num_layers = 3 : i64, block_size = 3 : i64} : (tensor<2x7x2x4xf32>, tensor<2x7x2x4xf32>, tensor<2x7x2x4xf32>, tensor<2x2x4x4xf32>) -> (tensor<2x7x2x4xf32>, tensor<2x2x4x4xf32>)
  %wo = mm.mul %o, %c : (tensor<2x7x2x4xf32>, tensor<2x7x2x4xf32>) -> tensor<2x7x2x4xf32>
  %lo = mm.reduce sum %wo dims [0, 1, 2, 3] : (tensor<2x7x2x4xf32>) -> tensor<f32>
  %ws = mm.mul %s, %cs : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ls = mm.reduce sum %ws dims [0, 1, 2, 3] : (tensor<2x2x4x4xf32>) -> tensor<f32>
  %l = mm.add %lo, %ls : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

// Right-padded sequences (lengths 5 and 8), three heads (ALiBi interleaving).
func.func @lightning_lengths(%q: tensor<2x8x3x4xf32>, %k: tensor<2x8x3x4xf32>, %v: tensor<2x8x3x4xf32>, %len: tensor<2xi64>, %c: tensor<2x8x3x4xf32>, %cs: tensor<2x3x4x4xf32>) -> tensor<f32> {
  %o, %s = mm.lightning_attention %q, %k, %v lengths(%len) {layer_index = 0 : i64, num_layers = 2 : i64, block_size = 2 : i64} : (tensor<2x8x3x4xf32>, tensor<2x8x3x4xf32>, tensor<2x8x3x4xf32>, tensor<2xi64>) -> (tensor<2x8x3x4xf32>, tensor<2x3x4x4xf32>)
  %wo = mm.mul %o, %c : (tensor<2x8x3x4xf32>, tensor<2x8x3x4xf32>) -> tensor<2x8x3x4xf32>
  %lo = mm.reduce sum %wo dims [0, 1, 2, 3] : (tensor<2x8x3x4xf32>) -> tensor<f32>
  %ws = mm.mul %s, %cs : (tensor<2x3x4x4xf32>, tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  %ls = mm.reduce sum %ws dims [0, 1, 2, 3] : (tensor<2x3x4x4xf32>) -> tensor<f32>
  %l = mm.add %lo, %ls : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

// A rank's block of the heads (head_index: heads 3 and 1 of 5, out of order):
// the backward decays each head with its slope among all five, as the forward.
func.func @lightning_head_index(%q: tensor<2x6x2x4xf32>, %k: tensor<2x6x2x4xf32>, %v: tensor<2x6x2x4xf32>, %s0: tensor<2x2x4x4xf32>, %idx: tensor<2xi64>, %c: tensor<2x6x2x4xf32>, %cs: tensor<2x2x4x4xf32>) -> tensor<f32> {
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) head_index(%idx) {layer_index = 0 : i64, num_layers = 3 : i64, block_size = 4 : i64, total_heads = 5 : i64} : (tensor<2x6x2x4xf32>, tensor<2x6x2x4xf32>, tensor<2x6x2x4xf32>, tensor<2x2x4x4xf32>, tensor<2xi64>) -> (tensor<2x6x2x4xf32>, tensor<2x2x4x4xf32>)
  %wo = mm.mul %o, %c : (tensor<2x6x2x4xf32>, tensor<2x6x2x4xf32>) -> tensor<2x6x2x4xf32>
  %lo = mm.reduce sum %wo dims [0, 1, 2, 3] : (tensor<2x6x2x4xf32>) -> tensor<f32>
  %ws = mm.mul %s, %cs : (tensor<2x2x4x4xf32>, tensor<2x2x4x4xf32>) -> tensor<2x2x4x4xf32>
  %ls = mm.reduce sum %ws dims [0, 1, 2, 3] : (tensor<2x2x4x4xf32>) -> tensor<f32>
  %l = mm.add %lo, %ls : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}
