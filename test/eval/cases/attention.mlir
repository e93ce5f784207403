// RoPE, grouped-query attention (with and without a KV cache) and lightning
// attention (ir/ops/AttentionOps.td; /work/shared/spec/minimax-text-01.md
// sections 3 and 4).

// Partial rotary: dims [4, 8) of each head pass through.
func.func @rope(%x: tensor<2x5x3x8xf32>, %pos: tensor<2x5xi64>) -> tensor<2x5x3x8xf32> {
  %0 = mm.rope %x, %pos {rotary_dim = 4 : i64, theta = 1.0e+04 : f64} : (tensor<2x5x3x8xf32>, tensor<2x5xi64>) -> tensor<2x5x3x8xf32>
  return %0 : tensor<2x5x3x8xf32>
}
// Whole-head rotation at a large theta.
func.func @rope_full(%x: tensor<1x4x2x6xf32>, %pos: tensor<1x4xi64>) -> tensor<1x4x2x6xf32> {
  %0 = mm.rope %x, %pos {rotary_dim = 6 : i64, theta = 1.0e+07 : f64} : (tensor<1x4x2x6xf32>, tensor<1x4xi64>) -> tensor<1x4x2x6xf32>
  return %0 : tensor<1x4x2x6xf32>
}

// GQA, 4 query heads over 2 kv heads, causal, default scale.
func.func @attention_causal(%q: tensor<2x5x4x8xf32>, %k: tensor<2x5x2x8xf32>, %v: tensor<2x5x2x8xf32>) -> tensor<2x5x4x8xf32> {
  %0 = mm.attention %q, %k, %v {causal} : (tensor<2x5x4x8xf32>, tensor<2x5x2x8xf32>, tensor<2x5x2x8xf32>) -> tensor<2x5x4x8xf32>
  return %0 : tensor<2x5x4x8xf32>
}
// A context-parallel chunk: queries placed among the keys by query_start.
func.func @attention_query_start(%q: tensor<2x2x4x8xf32>, %k: tensor<2x6x2x8xf32>, %v: tensor<2x6x2x8xf32>, %s: tensor<1xi64>) -> tensor<2x2x4x8xf32> {
  %0 = mm.attention %q, %k, %v query_start(%s) {causal} : (tensor<2x2x4x8xf32>, tensor<2x6x2x8xf32>, tensor<2x6x2x8xf32>, tensor<1xi64>) -> tensor<2x2x4x8xf32>
  return %0 : tensor<2x2x4x8xf32>
}
func.func @attention_query_start_constant(%q: tensor<2x2x4x8xf32>, %k: tensor<2x6x2x8xf32>, %v: tensor<2x6x2x8xf32>) -> tensor<2x2x4x8xf32> {
  %s = arith.constant dense<1> : tensor<1xi64>
  %0 = mm.attention %q, %k, %v query_start(%s) {causal} : (tensor<2x2x4x8xf32>, tensor<2x6x2x8xf32>, tensor<2x6x2x8xf32>, tensor<1xi64>) -> tensor<2x2x4x8xf32>
  return %0 : tensor<2x2x4x8xf32>
}
// Left-padded sequences: the key mask hides padding keys, and a query that
// sees no key (a padding row under causal) is zero.
func.func @attention_key_mask_causal(%q: tensor<2x5x4x8xf32>, %k: tensor<2x5x2x8xf32>, %v: tensor<2x5x2x6xf32>, %m: tensor<2x5xf32>) -> tensor<2x5x4x6xf32> {
  %0 = mm.attention %q, %k, %v key_mask(%m) {causal} : (tensor<2x5x4x8xf32>, tensor<2x5x2x8xf32>, tensor<2x5x2x6xf32>, tensor<2x5xf32>) -> tensor<2x5x4x6xf32>
  return %0 : tensor<2x5x4x6xf32>
}
// Not causal, more keys than queries, holes in the mask, a row with no key.
func.func @attention_key_mask_full(%q: tensor<3x3x2x4xf32>, %k: tensor<3x7x2x4xf32>, %v: tensor<3x7x2x4xf32>, %m: tensor<3x7xf32>) -> tensor<3x3x2x4xf32> {
  %0 = mm.attention %q, %k, %v key_mask(%m) {scale = 0.5 : f64} : (tensor<3x3x2x4xf32>, tensor<3x7x2x4xf32>, tensor<3x7x2x4xf32>, tensor<3x7xf32>) -> tensor<3x3x2x4xf32>
  return %0 : tensor<3x3x2x4xf32>
}
// Not causal, explicit scale, kv_len != q_len, v_dim != head_dim.
func.func @attention_noncausal(%q: tensor<1x3x4x8xf32>, %k: tensor<1x6x1x8xf32>, %v: tensor<1x6x1x5xf32>) -> tensor<1x3x4x5xf32> {
  %0 = mm.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<1x3x4x8xf32>, tensor<1x6x1x8xf32>, tensor<1x6x1x5xf32>) -> tensor<1x3x4x5xf32>
  return %0 : tensor<1x3x4x5xf32>
}
// Prefill-continuation of 3 tokens into a 10-slot cache, per-sequence positions.
func.func @attention_cache_causal(%q: tensor<2x3x4x8xf32>, %k: tensor<2x3x2x8xf32>, %v: tensor<2x3x2x8xf32>,
                                  %kc: tensor<2x10x2x8xf32>, %vc: tensor<2x10x2x8xf32>, %cp: tensor<2xi64>)
    -> (tensor<2x3x4x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>) {
  %o, %kc2, %vc2 = mm.attention %q, %k, %v cache(%kc, %vc) at %cp {causal}
      : (tensor<2x3x4x8xf32>, tensor<2x3x2x8xf32>, tensor<2x3x2x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>, tensor<2xi64>)
      -> (tensor<2x3x4x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>)
  return %o, %kc2, %vc2 : tensor<2x3x4x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>
}
// Same without causal: every query sees every written key.
func.func @attention_cache_noncausal(%q: tensor<2x3x4x8xf32>, %k: tensor<2x3x2x8xf32>, %v: tensor<2x3x2x8xf32>,
                                     %kc: tensor<2x10x2x8xf32>, %vc: tensor<2x10x2x8xf32>, %cp: tensor<2xi64>)
    -> (tensor<2x3x4x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>) {
  %o, %kc2, %vc2 = mm.attention %q, %k, %v cache(%kc, %vc) at %cp
      : (tensor<2x3x4x8xf32>, tensor<2x3x2x8xf32>, tensor<2x3x2x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>, tensor<2xi64>)
      -> (tensor<2x3x4x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>)
  return %o, %kc2, %vc2 : tensor<2x3x4x8xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x8xf32>
}
// One value serves as both caches (legal IR: nothing forbids it). The key cache
// and the value cache results are then the same buffer written twice, value last.
func.func @attention_cache_shared(%q: tensor<1x3x2x4xf32>, %k: tensor<1x3x1x4xf32>, %v: tensor<1x3x1x4xf32>,
                                  %c: tensor<1x6x1x4xf32>, %cp: tensor<1xi64>)
    -> (tensor<1x3x2x4xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>) {
  %o, %kc2, %vc2 = mm.attention %q, %k, %v cache(%c, %c) at %cp {causal}
      : (tensor<1x3x2x4xf32>, tensor<1x3x1x4xf32>, tensor<1x3x1x4xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>, tensor<1xi64>)
      -> (tensor<1x3x2x4xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>)
  return %o, %kc2, %vc2 : tensor<1x3x2x4xf32>, tensor<1x6x1x4xf32>, tensor<1x6x1x4xf32>
}
// One decode step with a dynamic batch (symbol "B").
func.func @attention_decode(%q: tensor<?x1x4x8xf32> {mm.dims = ["B", "", "", ""]}, %k: tensor<?x1x2x8xf32> {mm.dims = ["B", "", "", ""]},
                            %v: tensor<?x1x2x8xf32> {mm.dims = ["B", "", "", ""]},
                            %kc: tensor<?x6x2x8xf32> {mm.dims = ["B", "", "", ""]}, %vc: tensor<?x6x2x8xf32> {mm.dims = ["B", "", "", ""]},
                            %cp: tensor<?xi64> {mm.dims = ["B"]})
    -> (tensor<?x1x4x8xf32>, tensor<?x6x2x8xf32>, tensor<?x6x2x8xf32>) {
  %o, %kc2, %vc2 = mm.attention %q, %k, %v cache(%kc, %vc) at %cp {causal}
      : (tensor<?x1x4x8xf32>, tensor<?x1x2x8xf32>, tensor<?x1x2x8xf32>, tensor<?x6x2x8xf32>, tensor<?x6x2x8xf32>, tensor<?xi64>)
      -> (tensor<?x1x4x8xf32>, tensor<?x6x2x8xf32>, tensor<?x6x2x8xf32>)
  return %o, %kc2, %vc2 : tensor<?x1x4x8xf32>, tensor<?x6x2x8xf32>, tensor<?x6x2x8xf32>
}

// Block size 3 does not divide T = 7.
func.func @lightning_block3(%q: tensor<2x7x4x4xf32>, %k: tensor<2x7x4x4xf32>, %v: tensor<2x7x4x4xf32>)
    -> (tensor<2x7x4x4xf32>, tensor<2x4x4x4xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 1 : i64, num_layers = 4 : i64, block_size = 3 : i64}
      : (tensor<2x7x4x4xf32>, tensor<2x7x4x4xf32>, tensor<2x7x4x4xf32>) -> (tensor<2x7x4x4xf32>, tensor<2x4x4x4xf32>)
  return %o, %s : tensor<2x7x4x4xf32>, tensor<2x4x4x4xf32>
}
// Initial state and right-padded lengths.
func.func @lightning_state_lengths(%q: tensor<2x7x4x4xf32>, %k: tensor<2x7x4x4xf32>, %v: tensor<2x7x4x4xf32>,
                                   %s0: tensor<2x4x4x4xf32>, %len: tensor<2xi64>)
    -> (tensor<2x7x4x4xf32>, tensor<2x4x4x4xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) lengths(%len) {layer_index = 2 : i64, num_layers = 4 : i64, block_size = 3 : i64}
      : (tensor<2x7x4x4xf32>, tensor<2x7x4x4xf32>, tensor<2x7x4x4xf32>, tensor<2x4x4x4xf32>, tensor<2xi64>)
      -> (tensor<2x7x4x4xf32>, tensor<2x4x4x4xf32>)
  return %o, %s : tensor<2x7x4x4xf32>, tensor<2x4x4x4xf32>
}
// Six heads (not a power of two: ALiBi interleaving), one layer, default block.
func.func @lightning_6heads(%q: tensor<1x5x6x3xf32>, %k: tensor<1x5x6x3xf32>, %v: tensor<1x5x6x3xf32>)
    -> (tensor<1x5x6x3xf32>, tensor<1x6x3x3xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 0 : i64, num_layers = 1 : i64}
      : (tensor<1x5x6x3xf32>, tensor<1x5x6x3xf32>, tensor<1x5x6x3xf32>) -> (tensor<1x5x6x3xf32>, tensor<1x6x3x3xf32>)
  return %o, %s : tensor<1x5x6x3xf32>, tensor<1x6x3x3xf32>
}
// Decode one token from a carried state, dynamic batch.
func.func @lightning_decode(%q: tensor<?x1x4x4xf32> {mm.dims = ["B", "", "", ""]}, %k: tensor<?x1x4x4xf32> {mm.dims = ["B", "", "", ""]},
                            %v: tensor<?x1x4x4xf32> {mm.dims = ["B", "", "", ""]}, %s0: tensor<?x4x4x4xf32> {mm.dims = ["B", "", "", ""]})
    -> (tensor<?x1x4x4xf32>, tensor<?x4x4x4xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) {layer_index = 3 : i64, num_layers = 8 : i64}
      : (tensor<?x1x4x4xf32>, tensor<?x1x4x4xf32>, tensor<?x1x4x4xf32>, tensor<?x4x4x4xf32>) -> (tensor<?x1x4x4xf32>, tensor<?x4x4x4xf32>)
  return %o, %s : tensor<?x1x4x4xf32>, tensor<?x4x4x4xf32>
}

// Head dims that are not multiples of 16 on more than one tile: the CUDA
// kernels pad their 16-wide shared-memory tiles with zeros and mask the stores.
// 70 keys span two 64-key tiles; 3 query heads per kv head; v_dim 12 != 20.
func.func @attention_tiles(%q: tensor<1x70x6x20xf32>, %k: tensor<1x70x2x20xf32>, %v: tensor<1x70x2x12xf32>) -> tensor<1x70x6x12xf32> {
  %0 = mm.attention %q, %k, %v {causal} : (tensor<1x70x6x20xf32>, tensor<1x70x2x20xf32>, tensor<1x70x2x12xf32>) -> tensor<1x70x6x12xf32>
  return %0 : tensor<1x70x6x12xf32>
}
// Decode against a 200-slot cache (split across CTAs on CUDA), head dim 6 (rows
// not a multiple of 4 floats: read one float at a time).
func.func @attention_decode_long(%q: tensor<2x1x2x6xf32>, %k: tensor<2x1x1x6xf32>, %v: tensor<2x1x1x6xf32>,
                                 %kc: tensor<2x200x1x6xf32>, %vc: tensor<2x200x1x6xf32>, %cp: tensor<2xi64>)
    -> (tensor<2x1x2x6xf32>, tensor<2x200x1x6xf32>, tensor<2x200x1x6xf32>) {
  %o, %kc2, %vc2 = mm.attention %q, %k, %v cache(%kc, %vc) at %cp {causal}
      : (tensor<2x1x2x6xf32>, tensor<2x1x1x6xf32>, tensor<2x1x1x6xf32>, tensor<2x200x1x6xf32>, tensor<2x200x1x6xf32>, tensor<2xi64>)
      -> (tensor<2x1x2x6xf32>, tensor<2x200x1x6xf32>, tensor<2x200x1x6xf32>)
  return %o, %kc2, %vc2 : tensor<2x1x2x6xf32>, tensor<2x200x1x6xf32>, tensor<2x200x1x6xf32>
}
// q, k, v read in place from one interleaved [.., 3 * 5] projection (slice
// offsets 0, 5 and 10: not 4-float aligned), three blocks of 16, a carried
// state and a shorter second sequence.
func.func @lightning_interleaved(%x: tensor<2x40x2x15xf32>, %s0: tensor<2x2x5x5xf32>, %len: tensor<2xi64>)
    -> (tensor<2x40x2x5xf32>, tensor<2x2x5x5xf32>) {
  %q = mm.slice %x dim 3 [0 : 5] : (tensor<2x40x2x15xf32>) -> tensor<2x40x2x5xf32>
  %k = mm.slice %x dim 3 [5 : 10] : (tensor<2x40x2x15xf32>) -> tensor<2x40x2x5xf32>
  %v = mm.slice %x dim 3 [10 : 15] : (tensor<2x40x2x15xf32>) -> tensor<2x40x2x5xf32>
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) lengths(%len) {layer_index = 1 : i64, num_layers = 3 : i64, block_size = 16 : i64}
      : (tensor<2x40x2x5xf32>, tensor<2x40x2x5xf32>, tensor<2x40x2x5xf32>, tensor<2x2x5x5xf32>, tensor<2xi64>)
      -> (tensor<2x40x2x5xf32>, tensor<2x2x5x5xf32>)
  return %o, %s : tensor<2x40x2x5xf32>, tensor<2x2x5x5xf32>
}
// Head dim 24 (a 32-wide padded tile), three blocks of 32.
func.func @lightning_d24(%q: tensor<2x70x1x24xf32>, %k: tensor<2x70x1x24xf32>, %v: tensor<2x70x1x24xf32>,
                         %s0: tensor<2x1x24x24xf32>, %len: tensor<2xi64>)
    -> (tensor<2x70x1x24xf32>, tensor<2x1x24x24xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) lengths(%len) {layer_index = 0 : i64, num_layers = 2 : i64, block_size = 32 : i64}
      : (tensor<2x70x1x24xf32>, tensor<2x70x1x24xf32>, tensor<2x70x1x24xf32>, tensor<2x1x24x24xf32>, tensor<2xi64>)
      -> (tensor<2x70x1x24xf32>, tensor<2x1x24x24xf32>)
  return %o, %s : tensor<2x70x1x24xf32>, tensor<2x1x24x24xf32>
}
// MiniMax's head dim with a block of 48 (the output kernel stages the state
// 16 rows at a time: 48 does not divide 128).
func.func @lightning_d128_block48(%q: tensor<1x50x1x128xf32>, %k: tensor<1x50x1x128xf32>, %v: tensor<1x50x1x128xf32>)
    -> (tensor<1x50x1x128xf32>, tensor<1x1x128x128xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 0 : i64, num_layers = 4 : i64, block_size = 48 : i64}
      : (tensor<1x50x1x128xf32>, tensor<1x50x1x128xf32>, tensor<1x50x1x128xf32>) -> (tensor<1x50x1x128xf32>, tensor<1x1x128x128xf32>)
  return %o, %s : tensor<1x50x1x128xf32>, tensor<1x1x128x128xf32>
}
// A value head dim of its own (legal IR: the state is d x dv). No executor
// implements it yet: each must say so instead of computing with the wrong dim.
func.func @lightning_value_dim(%q: tensor<1x5x2x4xf32>, %k: tensor<1x5x2x4xf32>, %v: tensor<1x5x2x6xf32>)
    -> (tensor<1x5x2x6xf32>, tensor<1x2x4x6xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 0 : i64, num_layers = 2 : i64}
      : (tensor<1x5x2x4xf32>, tensor<1x5x2x4xf32>, tensor<1x5x2x6xf32>) -> (tensor<1x5x2x6xf32>, tensor<1x2x4x6xf32>)
  return %o, %s : tensor<1x5x2x6xf32>, tensor<1x2x4x6xf32>
}
// Decode with head dims 6 (scalar accesses) and 100 (a 112-wide padded tile
// in seven 16-column CTAs), each from a carried state.
func.func @lightning_decode_d6(%q: tensor<2x1x3x6xf32>, %k: tensor<2x1x3x6xf32>, %v: tensor<2x1x3x6xf32>, %s0: tensor<2x3x6x6xf32>)
    -> (tensor<2x1x3x6xf32>, tensor<2x3x6x6xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) {layer_index = 1 : i64, num_layers = 8 : i64}
      : (tensor<2x1x3x6xf32>, tensor<2x1x3x6xf32>, tensor<2x1x3x6xf32>, tensor<2x3x6x6xf32>) -> (tensor<2x1x3x6xf32>, tensor<2x3x6x6xf32>)
  return %o, %s : tensor<2x1x3x6xf32>, tensor<2x3x6x6xf32>
}
func.func @lightning_decode_d100(%q: tensor<2x1x1x100xf32>, %k: tensor<2x1x1x100xf32>, %v: tensor<2x1x1x100xf32>, %s0: tensor<2x1x100x100xf32>)
    -> (tensor<2x1x1x100xf32>, tensor<2x1x100x100xf32>) {
  %o, %s = mm.lightning_attention %q, %k, %v state(%s0) {layer_index = 0 : i64, num_layers = 8 : i64}
      : (tensor<2x1x1x100xf32>, tensor<2x1x1x100xf32>, tensor<2x1x1x100xf32>, tensor<2x1x100x100xf32>) -> (tensor<2x1x1x100xf32>, tensor<2x1x100x100xf32>)
  return %o, %s : tensor<2x1x1x100xf32>, tensor<2x1x100x100xf32>
}
// A cache whose values have a head dim of their own (12) beside the keys' (8).
func.func @attention_cache_vdim(%q: tensor<2x3x4x8xf32>, %k: tensor<2x3x2x8xf32>, %v: tensor<2x3x2x12xf32>,
                                %kc: tensor<2x10x2x8xf32>, %vc: tensor<2x10x2x12xf32>, %cp: tensor<2xi64>)
    -> (tensor<2x3x4x12xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x12xf32>) {
  %o, %kc2, %vc2 = mm.attention %q, %k, %v cache(%kc, %vc) at %cp {causal}
      : (tensor<2x3x4x8xf32>, tensor<2x3x2x8xf32>, tensor<2x3x2x12xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x12xf32>, tensor<2xi64>)
      -> (tensor<2x3x4x12xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x12xf32>)
  return %o, %kc2, %vc2 : tensor<2x3x4x12xf32>, tensor<2x10x2x8xf32>, tensor<2x10x2x12xf32>
}
