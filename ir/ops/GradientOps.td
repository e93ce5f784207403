//===- GradientOps.td - ops that backward graphs need ---------*- tablegen -*-===//
//
// Ops that inference never needs but the vector-Jacobian rules do: zeros of a
// runtime shape, and the backward of the ops whose gradient is a kernel of
// its own (flash attention with recomputation, block-wise lightning
// attention, per-expert weight gradients, fused softmax cross-entropy).
//
//===----------------------------------------------------------------------===//

#ifndef MM_GRADIENT_OPS_TD
#define MM_GRADIENT_OPS_TD

include "ir/MMBase.td"

def MM_ZerosLikeOp : MM_Op<"zeros_like", [MM_Differentiable, Pure, Elementwise, SameOperandsAndResultType]> {
  let summary = "a tensor of zeros with the operand's type and runtime shape";
  let description = [{
    Zeros of `input`'s element type and shape, including its dynamic sizes at
    run time; `input`'s values are not read. The gradient of an operand that
    the loss does not depend on, and the destination of scatter-add
    gradients.

    ```mlir
    %z = mm.zeros_like %table : tensor<200064x6144xf32>
    ```
  }];
  let arguments = (ins MM_NumericTensor:$input);
  let results = (outs MM_NumericTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

def MM_AttentionGradOp : MM_InferOp<"attention_grad", [AttrSizedOperandSegments]> {
  let summary = "flash-style backward of mm.attention (no cache), recomputing the scores";
  let description = [{
    For `o = attention(q, k, v)` (the shapes, grouping, `causal` and `scale`
    of `mm.attention` without a cache) and the output gradient `grad_output`,
    computes `dq`, `dk`, `dv` without storing the attention matrix: per query
    row it recomputes `p = softmax(scale q k^T)` block by block, with
    `D = rowsum(grad_output * o)`:

        dv_j += p_ij do_i      dp_ij = do_i . v_j
        ds_ij = p_ij (dp_ij - D_i)
        dq_i += scale ds_ij k_j       dk_j += scale ds_ij q_i

    Gradients of grouped query heads accumulate into their shared kv head.
    `query_start` places the queries among the keys as in `mm.attention`;
    then `dk` and `dv` hold only these queries' contributions (a context-
    parallel rank's part of a sum over the ranks). `key_mask` hides keys as
    in `mm.attention`: a hidden key gets zero `dk` and `dv`, and a query that
    sees no key a zero `dq`.

    ```mlir
    %dq, %dk, %dv = mm.attention_grad %q, %k, %v, %o, %do {causal}
        : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>,
           tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>)
        -> (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
    // A context-parallel rank's 4 queries, starting at %start, against 12 keys.
    %dqc, %dkc, %dvc = mm.attention_grad %qc, %k12, %v12, %oc, %doc query_start(%start) {causal}
        : (tensor<1x4x8x16xf32>, tensor<1x12x2x16xf32>, tensor<1x12x2x16xf32>,
           tensor<1x4x8x16xf32>, tensor<1x4x8x16xf32>, tensor<1xi64>)
        -> (tensor<1x4x8x16xf32>, tensor<1x12x2x16xf32>, tensor<1x12x2x16xf32>)
    // Padding keys hidden by a [batch, kv_len] mask.
    %dqm, %dkm, %dvm = mm.attention_grad %q, %k, %v, %o, %do key_mask(%valid) {causal}
        : (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>,
           tensor<?x?x8x16xf32>, tensor<?x?x8x16xf32>, tensor<?x?xf32>)
        -> (tensor<?x?x8x16xf32>, tensor<?x?x2x16xf32>, tensor<?x?x2x16xf32>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$query, MM_FloatTensor:$key, MM_FloatTensor:$value,
                       MM_FloatTensor:$output, MM_FloatTensor:$grad_output,
                       Optional<MM_IndexTensor>:$query_start,
                       Optional<MM_FloatTensor>:$key_mask,
                       UnitAttr:$causal, OptionalAttr<F64Attr>:$scale);
  let results = (outs MM_FloatTensor:$grad_query, MM_FloatTensor:$grad_key,
                      MM_FloatTensor:$grad_value);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $output `,` $grad_output
    (`query_start` `(` $query_start^ `)`)? (`key_mask` `(` $key_mask^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The scale applied to q.k: the attribute, or 1/sqrt(head_dim) (0 for
    /// a dynamic head_dim).
    double getScaleOrDefault();
  }];
}

def MM_LightningAttentionGradOp : MM_InferOp<"lightning_attention_grad",
                                             [AttrSizedOperandSegments]> {
  let summary = "block-wise backward of mm.lightning_attention";
  let description = [{
    The gradient of `mm.lightning_attention` (same operands and attributes)
    given `grad_output` (`[batch, seq, heads, d]`) and `grad_final_state`
    (`[batch, heads, d, d]`). Per head, with `G_t` the gradient with respect
    to the state `S_t` after token `t` of `T`:

        G_T = grad_final_state + q_T do_T^T      G_t = lambda G_{t+1} + q_t do_t^T
        dq_t = S_t do_t      dk_t = G_t v_t      dv_t = G_t^T k_t
        d initial_state = lambda G_1

    It is evaluated a block of `block_size` tokens at a time, never a token at
    a time: the states at block boundaries are recomputed forwards, then the
    blocks run backwards carrying `G` across each boundary, and inside a block
    the terms between its tokens use the decay matrix `lambda^|s - t|`.

    Results: `dq`, `dk`, `dv` (the input types) and the gradient of
    `initial_state` (`[batch, heads, d, d]`, the state's type). Tokens past
    `lengths[b]` get zero gradients. A rank's block of the heads carries
    `head_index` and `total_heads` as the forward op does (their decay
    slopes are those of their places among all the heads); shard-partition
    adds both when it splits the heads of a training step.

    ```mlir
    %dq, %dk, %dv, %ds0 = mm.lightning_attention_grad %q, %k, %v, %do, %dsT
        {layer_index = 0 : i64, num_layers = 2 : i64, block_size = 4 : i64}
        : (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>,
           tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>)
        -> (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>)
    // rank 1 of 2: heads 2 and 3 of 4
    %dq1, %dk1, %dv1, %ds1 = mm.lightning_attention_grad %q1, %k1, %v1, %do1, %dsT1 head_index(%mine)
        {layer_index = 0 : i64, num_layers = 2 : i64, block_size = 4 : i64, total_heads = 4 : i64}
        : (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>,
           tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>, tensor<2xi64>)
        -> (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x2x8x8xf32>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$query, MM_FloatTensor:$key, MM_FloatTensor:$value,
                       MM_FloatTensor:$grad_output, MM_FloatTensor:$grad_final_state,
                       Optional<MM_FloatTensor>:$initial_state,
                       Optional<MM_IndexTensor>:$lengths,
                       Optional<MM_IndexTensor>:$head_index,
                       I64Attr:$layer_index, I64Attr:$num_layers,
                       DefaultValuedAttr<I64Attr, "256">:$block_size,
                       OptionalAttr<I64Attr>:$total_heads);
  let results = (outs MM_FloatTensor:$grad_query, MM_FloatTensor:$grad_key,
                      MM_FloatTensor:$grad_value, MM_FloatTensor:$grad_initial_state);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $grad_output `,` $grad_final_state
    (`state` `(` $initial_state^ `)`)? (`lengths` `(` $lengths^ `)`)?
    (`head_index` `(` $head_index^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// Per-step decay exponent s_h of every head, as mm.lightning_attention's
    /// (with a head_index, of all total_heads heads).
    ::llvm::SmallVector<double> getDecaySlopes();
    /// The head count the slopes are computed for: total_heads, or the
    /// query's heads.
    int64_t getSlopeHeads();
  }];
}

def MM_GroupedMatmulWeightGradOp : MM_InferOp<"grouped_matmul_weight_grad"> {
  let summary = "per-expert weight gradient of mm.grouped_matmul";
  let description = [{
    For `y = grouped_matmul(x, W, offsets)` and its gradient `grad_output`
    (`[rows, out]`), `dW[e] = sum over rows r of group e of grad_output[r]^T
    x[r]` (`[experts, out, in]`; an expert with no rows gets zeros). The
    number of experts is the static size of `group_offsets` minus one.
    Group e is rows `[group_offsets[e], group_offsets[e + 1])`; the offsets
    rise within `[0, rows]`, and rows outside every group are not read (a
    rank's block of the experts under expert parallelism, as in
    `mm.grouped_matmul`).

    ```mlir
    %dw = mm.grouped_matmul_weight_grad %dy, %x, %off
        : (tensor<?x16xf32>, tensor<?x8xf32>, tensor<5xi64>) -> tensor<4x16x8xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$grad_output, MM_FloatTensor:$input,
                       MM_IndexTensor:$group_offsets);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$grad_output `,` $input `,` $group_offsets attr-dict `:` functional-type(operands, results)";
}

def MM_CrossEntropyGradOp : MM_InferOp<"cross_entropy_grad"> {
  let summary = "fused softmax cross-entropy backward";
  let description = [{
    The gradient of `mm.cross_entropy` (same `reduction` and `ignore_index`)
    with respect to its logits: `(softmax(logits) - onehot(label)) * g` per
    position, where `g` is `grad_loss` (a scalar for `sum`, divided by the
    number of counted positions for `mean`; per position for `none`), and 0
    at ignored positions. One pass over the logits, as fused training
    kernels do.

    ```mlir
    %dl = mm.cross_entropy_grad mean %logits, %labels, %g
        : (tensor<?x?x64xf32>, tensor<?x?xi64>, tensor<f32>) -> tensor<?x?x64xf32>
    ```
  }];
  let arguments = (ins MM_LossReduction:$reduction, MM_FloatTensor:$logits,
                       MM_IndexTensor:$labels, MM_FloatTensor:$grad_loss,
                       DefaultValuedAttr<I64Attr, "-100">:$ignore_index);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$reduction $logits `,` $labels `,` $grad_loss attr-dict `:` functional-type(operands, results)";
}

def MM_MergeImageFeaturesGradOp : MM_InferOp<"merge_image_features_grad"> {
  let summary = "image-feature gradient of mm.merge_image_features";
  let description = [{
    The gradient of `mm.merge_image_features` (same `image_token_id`) with
    respect to its `image_features`: the rows of `grad_output` (`[batch,
    seq, dim]`) at the positions where `ids == image_token_id`, in the
    merge's order (row-major over batch, then position). The result has
    `image_features`' type; only its shape is read. A placeholder count
    other than its row count is an error when the graph runs, as in the
    merge.

    ```mlir
    %df = mm.merge_image_features_grad %g, %ids, %feats {image_token_id = 200025 : i64}
        : (tensor<?x?x6144xf32>, tensor<?x?xi64>, tensor<?x6144xf32>) -> tensor<?x6144xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$grad_output, MM_IndexTensor:$ids,
                       MM_FloatTensor:$image_features, I64Attr:$image_token_id);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$grad_output `,` $ids `,` $image_features attr-dict `:` functional-type(operands, results)";
}

def MM_Conv2dGradOp : MM_InferOp<"conv2d_grad"> {
  let summary = "input and weight gradients of mm.conv2d";
  let description = [{
    For `y = conv2d(input, weight)` with the same `strides`, `padding` and
    `dilation`, and `grad_output` of `y`'s shape: the input gradient (the
    transposed convolution, each output gradient spread back over the inputs
    its window read) and the weight gradient (`sum over n, oh, ow` of
    `grad_output[n, o, oh, ow] * input` under the window). The bias gradient
    is a plain sum and not part of this op.

    ```mlir
    %dx, %dw = mm.conv2d_grad %img, %w, %dy {strides = array<i64: 2, 2>}
        : (tensor<?x3x8x8xf32>, tensor<4x3x2x2xf32>, tensor<?x4x4x4xf32>)
        -> (tensor<?x3x8x8xf32>, tensor<4x3x2x2xf32>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight, MM_FloatTensor:$grad_output,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation);
  let results = (outs MM_FloatTensor:$grad_input, MM_FloatTensor:$grad_weight);
  let assemblyFormat = "$input `,` $weight `,` $grad_output attr-dict `:` functional-type(operands, results)";
}

def MM_Conv1dGradOp : MM_InferOp<"conv1d_grad"> {
  let summary = "input and weight gradients of mm.conv1d";
  let description = [{
    For `y = conv1d(input, weight)` (`[batch, seq, c_in]`, `[c_out, c_in, k]`)
    with the same `stride`, `dilation` and `padding`, and `grad_output`
    `[batch, out_len, c_out]`: the input gradient (each output position's
    gradient spread back over the positions its window read; padding gets
    none) and the weight gradient. The bias gradient is a plain sum.

    ```mlir
    %dx, %dw = mm.conv1d_grad %x, %w, %dy {dilation = 2 : i64, padding = array<i64: 2, 2>}
        : (tensor<?x50x64xf32>, tensor<64x64x3xf32>, tensor<?x50x64xf32>)
        -> (tensor<?x50x64xf32>, tensor<64x64x3xf32>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight, MM_FloatTensor:$grad_output,
                       DefaultValuedAttr<I64Attr, "1">:$stride,
                       DefaultValuedAttr<I64Attr, "1">:$dilation,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding);
  let results = (outs MM_FloatTensor:$grad_input, MM_FloatTensor:$grad_weight);
  let assemblyFormat = "$input `,` $weight `,` $grad_output attr-dict `:` functional-type(operands, results)";
}

def MM_GruGradOp : MM_InferOp<"gru_grad"> {
  let summary = "gradients of mm.gru by backpropagation through time";
  let description = [{
    For `%seq, %last = mm.gru %input, %w_ih, %w_hh, %b_ih, %b_hh init(%h0)` and
    the gradients `grad_sequence` (`[batch, seq, hidden]`) and `grad_last`
    (`[batch, hidden]`) of its results: the gradients of the input, the four
    weights and the initial state (zeros stands for an absent one). It runs
    the steps backwards, recomputing each step's gates from the forward
    `sequence` (the previous state of step t is `sequence[t - 1]`, or `h0`),
    so nothing but the states is kept:

        dn = dh (1 - z);  dz = dh (h_prev - n);  da_n = dn (1 - n^2)
        da_r = da_n (W_hn h_prev + b_hn) r (1 - r);  da_z = dz z (1 - z)
        dh_prev = dh z + W_hh^T [da_r, da_z, da_n r] (+ grad_sequence[t - 1])

    ```mlir
    %dx, %dwih, %dwhh, %dbih, %dbhh, %dh0 = mm.gru_grad %x, %wih, %whh, %bih, %bhh, %h0, %seq, %gseq, %glast
        : (tensor<?x50x64xf32>, tensor<192x64xf32>, tensor<192x64xf32>, tensor<192xf32>, tensor<192xf32>,
           tensor<?x64xf32>, tensor<?x50x64xf32>, tensor<?x50x64xf32>, tensor<?x64xf32>)
        -> (tensor<?x50x64xf32>, tensor<192x64xf32>, tensor<192x64xf32>, tensor<192xf32>, tensor<192xf32>,
            tensor<?x64xf32>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight_ih, MM_FloatTensor:$weight_hh,
                       MM_FloatTensor:$bias_ih, MM_FloatTensor:$bias_hh,
                       MM_FloatTensor:$initial_state, MM_FloatTensor:$sequence,
                       MM_FloatTensor:$grad_sequence, MM_FloatTensor:$grad_last);
  let results = (outs MM_FloatTensor:$grad_input, MM_FloatTensor:$grad_weight_ih,
                      MM_FloatTensor:$grad_weight_hh, MM_FloatTensor:$grad_bias_ih,
                      MM_FloatTensor:$grad_bias_hh, MM_FloatTensor:$grad_initial_state);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
}

#endif // MM_GRADIENT_OPS_TD
