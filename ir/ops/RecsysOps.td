//===- RecsysOps.td - behaviour-sequence and interaction ops --*- tablegen -*-===//

#ifndef MM_RECSYS_OPS_TD
#define MM_RECSYS_OPS_TD

include "ir/MMBase.td"

def MM_Conv1dOp : MM_InferOp<"conv1d", [MM_Differentiable]> {
  let summary = "1-D convolution over a [batch, seq, channels] sequence, with dilation";
  let description = [{
    `input` is `[batch, seq, c_in]` (channels last, as behaviour sequences
    are laid out), `weight` `[c_out, c_in, k]` (PyTorch's layout), optional
    `bias` `[c_out]`. `padding = [before, after]` zero-pads the sequence, so
    `[k - 1, 0]` is causal and `[d (k - 1) / 2, d (k - 1) / 2]` keeps the
    length. Output length `(seq + before + after - dilation (k - 1) - 1) /
    stride + 1`.

    ```mlir
    // AMER candidate: dilated conv, k = 3, d = 2, length-preserving.
    %y = mm.conv1d %x, %w {dilation = 2 : i64, padding = array<i64: 2, 2>}
        : (tensor<?x50x64xf32>, tensor<64x64x3xf32>) -> tensor<?x50x64xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight, Optional<MM_FloatTensor>:$bias,
                       DefaultValuedAttr<I64Attr, "1">:$stride,
                       DefaultValuedAttr<I64Attr, "1">:$dilation,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

def MM_GruOp : MM_InferOp<"gru", [MM_Differentiable]> {
  let summary = "single-layer GRU over a sequence (PyTorch gate order r, z, n)";
  let description = [{
    `input` `[batch, seq, in]`; `weight_ih` `[3 hidden, in]`, `weight_hh`
    `[3 hidden, hidden]`, `bias_ih` and `bias_hh` `[3 hidden]`; optional
    `initial_state` `[batch, hidden]` (zero otherwise). Per step, as
    `torch.nn.GRU`:

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h = (1 - z) * n + z * h

    Results: every step's state `[batch, seq, hidden]` and the last one.

    ```mlir
    %seq, %last = mm.gru %x, %wih, %whh, %bih, %bhh
        : (tensor<?x50x64xf32>, tensor<192x64xf32>, tensor<192x64xf32>, tensor<192xf32>, tensor<192xf32>)
        -> (tensor<?x50x64xf32>, tensor<?x64xf32>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight_ih, MM_FloatTensor:$weight_hh,
                       MM_FloatTensor:$bias_ih, MM_FloatTensor:$bias_hh,
                       Optional<MM_FloatTensor>:$initial_state);
  let results = (outs MM_FloatTensor:$sequence, MM_FloatTensor:$last_state);
  let assemblyFormat = [{
    $input `,` $weight_ih `,` $weight_hh `,` $bias_ih `,` $bias_hh (`init` `(` $initial_state^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def MM_PoolOp : MM_InferOp<"pool", [MM_Differentiable]> {
  let summary = "masked sum / mean / max pooling over one dimension";
  let description = [{
    Pools `input` over `dim`, counting only positions where the optional float
    `mask` (the input's shape up to and including `dim`) is non-zero. A fully
    masked row pools to 0. The dimension is removed.

    ```mlir
    %u = mm.pool mean %seq mask(%valid) dim 1 : (tensor<?x50x64xf32>, tensor<?x50xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins MM_PoolKind:$kind, MM_FloatTensor:$input, Optional<MM_FloatTensor>:$mask,
                       I64Attr:$dim);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input (`mask` `(` $mask^ `)`)? `dim` $dim attr-dict `:` functional-type(operands, results)
  }];
}

def MM_TargetAttentionOp : MM_InferOp<"target_attention", [MM_Differentiable]> {
  let summary = "attention pooling of a behaviour sequence against a target item";
  let description = [{
    With `sequence` `[batch, seq, dim]`, `target` `[batch, dim]` and an
    optional float `mask` `[batch, seq]`: scores `s_t = scale * (seq_t .
    target)` (default `scale = 1/sqrt(dim)`), masked positions excluded,
    `w = softmax(s)` over the sequence, result `sum_t w_t seq_t` `[batch,
    dim]`; a fully masked row gives 0. The DIN activation-unit variant (an MLP
    over `[e, t, e - t, e * t]`) is built from `concat`, `linear` and `pool`.

    ```mlir
    %u = mm.target_attention %seq, %item mask(%valid)
        : (tensor<?x50x64xf32>, tensor<?x64xf32>, tensor<?x50xf32>) -> tensor<?x64xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$sequence, MM_FloatTensor:$target,
                       Optional<MM_FloatTensor>:$mask, OptionalAttr<F64Attr>:$scale);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = [{
    $sequence `,` $target (`mask` `(` $mask^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// The scale applied to seq_t . target: the attribute, or 1/sqrt(dim) (0
    /// for a dynamic dim).
    double getScaleOrDefault();
  }];
}

def MM_HadamardInteractionOp : MM_InferOp<"hadamard_interaction", [MM_Differentiable]> {
  let summary = "element-wise products of chosen groups of field embeddings";
  let description = [{
    `fields` is `[batch, num_fields, dim]`. Each entry of `groups` lists two or
    more distinct field indices; result row `g` is the element-wise product of
    those fields' embeddings: `[batch, num_groups, dim]`. AMER's interaction
    stage explores order-2..4 groups with this op.

    ```mlir
    %x = mm.hadamard_interaction %f [array<i64: 0, 1>, array<i64: 0, 2, 3>]
        : (tensor<?x8x16xf32>) -> tensor<?x2x16xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$fields,
                       TypedArrayAttrBase<DenseI64ArrayAttr, "array of field-index groups">:$groups);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$fields $groups attr-dict `:` functional-type(operands, results)";
}

#endif // MM_RECSYS_OPS_TD
