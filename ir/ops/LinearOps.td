//===- LinearOps.td - linear layers, matmul, embedding --------*- tablegen -*-===//

#ifndef MM_LINEAR_OPS_TD
#define MM_LINEAR_OPS_TD

include "ir/MMBase.td"

def MM_LinearOp : MM_InferOp<"linear", [MM_Differentiable]> {
  let summary = "fully connected layer: x W^T (+ b)";
  let description = [{
    `y[..., n] = sum_k x[..., k] * weight[n, k] (+ bias[n])`. The weight is
    `[out_features, in_features]` as PyTorch and safetensors store it; any
    number of leading dimensions of `input` pass through. Accumulates in at
    least float32.

    ```mlir
    %q = mm.linear %x, %wq : (tensor<?x?x6144xbf16>, tensor<8192x6144xbf16>) -> tensor<?x?x8192xbf16>
    %p = mm.linear %f, %w1, %b1
        : (tensor<?x1024xf32>, tensor<6144x1024xf32>, tensor<6144xf32>) -> tensor<?x6144xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight,
                       Optional<MM_FloatTensor>:$bias);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

def MM_MatmulOp : MM_InferOp<"matmul", [MM_Differentiable]> {
  let summary = "batched matrix product with broadcast batch dims";
  let description = [{
    Multiplies the last two dimensions of `lhs` ([..., M, K], or [..., K, M]
    with `transpose_lhs`) and `rhs` ([..., K, N], or [..., N, K] with
    `transpose_rhs`). Leading (batch) dimensions broadcast as in NumPy. Both
    operands are at least 2-D and have one element type.

    ```mlir
    %s = mm.matmul %q, %k {transpose_rhs}
        : (tensor<4x64x256x128xf32>, tensor<4x64x256x128xf32>) -> tensor<4x64x256x256xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$lhs, MM_FloatTensor:$rhs,
                       UnitAttr:$transpose_lhs, UnitAttr:$transpose_rhs);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

def MM_EmbeddingOp : MM_InferOp<"embedding", [MM_Differentiable]> {
  let summary = "embedding table lookup";
  let description = [{
    `y[i..., :] = table[ids[i...], :]`. The table is `[vocab, dim]`; ids are
    integers of any shape. An id outside `[0, vocab)` is an error when the
    graph runs (never a read out of bounds).

    A vocab-parallel part (Megatron's VocabParallelEmbedding) holds the rows
    `[o, o + rows)` of a `vocab_size`-row table, `o` its `rows_from` operand
    (`[1]`): an id in that range reads its row, any other id of `[0,
    vocab_size)` gives a zero row (another rank holds it; an all_reduce of
    the parts completes the lookup), and an id outside it is an error.
    shard-partition adds both when it splits the vocabulary.

    ```mlir
    %h = mm.embedding %table, %ids : (tensor<200064x6144xbf16>, tensor<?x?xi64>) -> tensor<?x?x6144xbf16>
    // rank r of 8: rows [r * 25008, (r + 1) * 25008)
    %p = mm.embedding %part, %ids rows_from(%o) {vocab_size = 200064 : i64}
        : (tensor<25008x6144xbf16>, tensor<?x?xi64>, tensor<1xi64>) -> tensor<?x?x6144xbf16>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$table, MM_IndexTensor:$ids,
                       Optional<MM_IndexTensor>:$rows_from, OptionalAttr<I64Attr>:$vocab_size);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = [{
    $table `,` $ids (`rows_from` `(` $rows_from^ `)`)? attr-dict `:` functional-type(operands, results)
  }];
  let builders = [OpBuilder<(ins "::mlir::Value":$table, "::mlir::Value":$ids), [{
    build($_builder, $_state, table, ids, ::mlir::Value(), ::mlir::IntegerAttr());
  }]>];
}

#endif // MM_LINEAR_OPS_TD
