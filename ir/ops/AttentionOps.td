//===- AttentionOps.td - RoPE, softmax and lightning attention -*- tablegen -*-===//

#ifndef MM_ATTENTION_OPS_TD
#define MM_ATTENTION_OPS_TD

include "ir/MMBase.td"

def MM_RopeOp : MM_InferOp<"rope", [MM_Differentiable]> {
  let summary = "rotary position embedding on the first rotary_dim dims of each head";
  let description = [{
    Rotate-half ("NeoX") rotary embedding of `input` `[batch, seq, heads,
    head_dim]` at the integer `positions` `[batch, seq]`. Only dims
    `[0, rotary_dim)` of each head rotate; `[rotary_dim, head_dim)` pass
    through unchanged (MiniMax-Text-01 rotates 64 of 128). With
    `half = rotary_dim / 2`, `inv_freq[i] = theta^(-2i / rotary_dim)` and
    `a = position * inv_freq[i]`, for `i < half`:

        y[i]        = x[i] * cos(a) - x[i + half] * sin(a)
        y[i + half] = x[i + half] * cos(a) + x[i] * sin(a)

    `rotary_dim` is even, positive and at most `head_dim`; `theta` is positive.

    ```mlir
    %q2 = mm.rope %q, %pos {rotary_dim = 64 : i64, theta = 1.0e+07 : f64}
        : (tensor<?x?x64x128xbf16>, tensor<?x?xi64>) -> tensor<?x?x64x128xbf16>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_IndexTensor:$positions,
                       I64Attr:$rotary_dim, F64Attr:$theta);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $positions attr-dict `:` functional-type(operands, results)";
}

def MM_AttentionOp : MM_InferOp<"attention", [MM_Differentiable, AttrSizedOperandSegments]> {
  let summary = "grouped-query scaled dot-product attention, optionally against a KV cache";
  let description = [{
    `query` is `[batch, q_len, q_heads, head_dim]`, `key` `[batch, kv_len,
    kv_heads, head_dim]` and `value` `[batch, kv_len, kv_heads, v_dim]`;
    `q_heads` is a multiple of `kv_heads` and query head `h` reads kv head
    `h / (q_heads / kv_heads)` (grouped-query attention). Scores are scaled by
    `scale` (default `1/sqrt(head_dim)`), the softmax runs in float32, and with
    `causal` query `i` sees keys `j <= i`.

    With a cache, `key_cache` / `value_cache` (`[batch, capacity, kv_heads,
    dim]`) hold earlier tokens and `cache_positions` (`[batch]`, integers) says
    how many each sequence already has. The op writes the new keys and values at
    `cache_positions[b] .. + q_len - 1`, attends query `i` (absolute position
    `cache_positions[b] + i`) to every cached key up to that position (with
    `causal`; without it, to every written key), and returns the output followed
    by the updated key and value caches. Writing past `capacity` is an error
    when the graph runs.

    Without a cache, `query_start` (`[1]`, integer; `causal` only) places the
    queries among the keys: query `i` is at position `query_start + i` and
    sees keys `j <= query_start + i`, so `q_len` may be shorter than `kv_len`
    (`query_start + q_len <= kv_len`, checked when the graph runs). Context
    parallelism uses it: a rank attends its chunk of the queries to every
    key, and `query_start` is where its chunk begins.

    Without a cache, `key_mask` (`[batch, kv_len]`, float) hides padding keys:
    key `j` of sequence `b` takes part only where `key_mask[b, j]` is non-zero
    (the convention of Hugging Face's `attention_mask`; PyTorch's
    `key_padding_mask` is its negation). A query that sees no key at all (a
    left-padded sequence's padding rows under `causal`) outputs zeros, and
    its gradients are zero.

    ```mlir
    // Prefill without cache (MiniMax softmax layer: 64 query heads, 8 kv heads).
    %o = mm.attention %q, %k, %v {causal}
        : (tensor<?x?x64x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>) -> tensor<?x?x64x128xbf16>
    // One decode step against a cache of 4096 slots.
    %o2, %kc2, %vc2 = mm.attention %q1, %k1, %v1 cache(%kc, %vc) at %pos {causal}
        : (tensor<?x1x64x128xbf16>, tensor<?x1x8x128xbf16>, tensor<?x1x8x128xbf16>,
           tensor<?x4096x8x128xbf16>, tensor<?x4096x8x128xbf16>, tensor<?xi64>)
        -> (tensor<?x1x64x128xbf16>, tensor<?x4096x8x128xbf16>, tensor<?x4096x8x128xbf16>)
    // A context-parallel rank's 256 queries, starting at %start, against all 1024 keys.
    %oc = mm.attention %qc, %kall, %vall query_start(%start) {causal}
        : (tensor<1x256x64x128xf32>, tensor<1x1024x8x128xf32>, tensor<1x1024x8x128xf32>, tensor<1xi64>)
        -> tensor<1x256x64x128xf32>
    // Left-padded behaviour sequences of 50 (SASRec): padding keys hidden.
    %os = mm.attention %qs, %ks, %vs key_mask(%valid) {causal}
        : (tensor<?x50x1x64xf32>, tensor<?x50x1x64xf32>, tensor<?x50x1x64xf32>, tensor<?x50xf32>)
        -> tensor<?x50x1x64xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$query, MM_FloatTensor:$key, MM_FloatTensor:$value,
                       Optional<MM_FloatTensor>:$key_cache,
                       Optional<MM_FloatTensor>:$value_cache,
                       Optional<MM_IndexTensor>:$cache_positions,
                       Optional<MM_IndexTensor>:$query_start,
                       Optional<MM_FloatTensor>:$key_mask,
                       UnitAttr:$causal, OptionalAttr<F64Attr>:$scale);
  let results = (outs MM_FloatTensor:$output, Variadic<MM_FloatTensor>:$updated_cache);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`cache` `(` $key_cache^ `,` $value_cache `)` `at` $cache_positions)?
    (`query_start` `(` $query_start^ `)`)?
    (`key_mask` `(` $key_mask^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    bool hasCache() { return getKeyCache() != nullptr; }
    /// The scale applied to q.k: the attribute, or 1/sqrt(head_dim).
    double getScaleOrDefault();
  }];
}

def MM_LightningAttentionOp : MM_InferOp<"lightning_attention", [MM_Differentiable, AttrSizedOperandSegments]> {
  let summary = "linear attention with per-head exponential decay (MiniMax lightning attention)";
  let description = [{
    `query`, `key`, `value` are `[batch, seq, heads, d]` (after the SiLU that
    MiniMax applies to all three). Head `h` of layer `layer_index` in a model of
    `num_layers` layers decays by `lambda_h = exp(-s_h)`, with

        s_h = base_h * (1 - layer_index / (num_layers - 1) + 1e-5)

    where `base_h = 2^(-8 (h + 1) / heads)` for a power-of-two head count and
    the ALiBi interleaving rule otherwise (`layer_index / (num_layers - 1)` is
    0 when `num_layers` is 1). Per head, with state `S` (`d x d`, float32):

        S_t = lambda * S_{t-1} + k_t v_t^T        o_t = q_t^T S_t

    No `1/sqrt(d)` scale and no normaliser. `S_0` is `initial_state`
    (`[batch, heads, d, d]`, float32) or zero. Execution is block-wise with
    `block_size` tokens per block, which equals the recurrence exactly in exact
    arithmetic. `final_state` is the state after the last token, or after
    `lengths[b]` tokens for a batch of right-padded sequences.

    Under tensor parallelism a rank holds a block of the heads, whose slopes
    are those of their places among all the heads: `head_index` (`[heads]`,
    i64) gives the global index of each local head in a model of
    `total_heads` heads. shard-partition adds both when it splits the heads
    (an all_slice of the iota of every head, so each rank reads its block).

    ```mlir
    %o, %s = mm.lightning_attention %q, %k, %v {layer_index = 0 : i64, num_layers = 80 : i64}
        : (tensor<?x?x64x128xbf16>, tensor<?x?x64x128xbf16>, tensor<?x?x64x128xbf16>)
        -> (tensor<?x?x64x128xbf16>, tensor<?x64x128x128xf32>)
    // Decode one token from a carried state.
    %o1, %s1 = mm.lightning_attention %q1, %k1, %v1 state(%s) {layer_index = 0 : i64, num_layers = 80 : i64}
        : (tensor<?x1x64x128xbf16>, tensor<?x1x64x128xbf16>, tensor<?x1x64x128xbf16>, tensor<?x64x128x128xf32>)
        -> (tensor<?x1x64x128xbf16>, tensor<?x64x128x128xf32>)
    // A rank's 8 of 64 heads under tp = 8.
    %o8, %s8 = mm.lightning_attention %q8, %k8, %v8 head_index(%ids) {layer_index = 0 : i64, num_layers = 80 : i64, total_heads = 64 : i64}
        : (tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<?x?x8x128xbf16>, tensor<8xi64>)
        -> (tensor<?x?x8x128xbf16>, tensor<?x8x128x128xf32>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$query, MM_FloatTensor:$key, MM_FloatTensor:$value,
                       Optional<MM_FloatTensor>:$initial_state,
                       Optional<MM_IndexTensor>:$lengths,
                       Optional<MM_IndexTensor>:$head_index,
                       I64Attr:$layer_index, I64Attr:$num_layers,
                       DefaultValuedAttr<I64Attr, "256">:$block_size,
                       OptionalAttr<I64Attr>:$total_heads);
  let results = (outs MM_FloatTensor:$output, MM_FloatTensor:$final_state);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`state` `(` $initial_state^ `)`)? (`lengths` `(` $lengths^ `)`)?
    (`head_index` `(` $head_index^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// Per-step decay exponent s_h of every head (lambda_h = exp(-s_h));
    /// with a head_index, of all total_heads heads (index it by head_index).
    ::llvm::SmallVector<double> getDecaySlopes();
    /// The head count the slopes are computed for: total_heads, or the
    /// query's heads.
    int64_t getSlopeHeads();
  }];
}

#endif // MM_ATTENTION_OPS_TD
