//===- ShapeOps.td - reshape, transpose, concat, slice, gather -*- tablegen -*-===//
//
// Graph-level data-movement ops. The tensor dialect's equivalents need the
// dynamic sizes as SSA values (tensor.dim) and separate expand/collapse forms;
// these carry their shape rule as attributes so a model builder can write
// `[0, 0, 64, 128]` over dynamic batch and sequence dims, and result types are
// inferred. docs/design.md says more.
//
//===----------------------------------------------------------------------===//

#ifndef MM_SHAPE_OPS_TD
#define MM_SHAPE_OPS_TD

include "ir/MMBase.td"

def MM_ReshapeOp : MM_InferOp<"reshape", [MM_Differentiable]> {
  let summary = "reshape with copy (0) and infer (-1) entries";
  let description = [{
    Reinterprets `input` with the same elements in row-major order under
    `shape`. Each entry is a size, `0` (keep the input's size at the same
    index: the way to keep a dynamic batch or sequence dimension) or `-1`
    (inferred from the element count; at most one). The element count must be
    preserved.

    ```mlir
    %h = mm.reshape %x [0, 0, 64, 128] : (tensor<?x?x8192xf32>) -> tensor<?x?x64x128xf32>
    %f = mm.reshape %h [0, -1, 128] : (tensor<2x16x64x128xf32>) -> tensor<2x1024x128xf32>
    ```
  }];
  let arguments = (ins MM_AnyTensor:$input, DenseI64ArrayAttr:$shape);
  let results = (outs MM_AnyTensor:$result);
  let assemblyFormat = "$input $shape attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def MM_TransposeOp : MM_InferOp<"transpose", [MM_Differentiable]> {
  let summary = "permute dimensions";
  let description = [{
    `result.shape[i] = input.shape[permutation[i]]`; `permutation` is a
    permutation of `[0, rank)`.

    ```mlir
    %t = mm.transpose %x [0, 2, 1, 3] : (tensor<?x?x64x128xf32>) -> tensor<?x64x?x128xf32>
    ```
  }];
  let arguments = (ins MM_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs MM_AnyTensor:$result);
  let assemblyFormat = "$input $permutation attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def MM_ConcatOp : MM_InferOp<"concat", [MM_Differentiable]> {
  let summary = "join tensors along a dimension";
  let description = [{
    Concatenates one or more tensors of equal rank and element type along
    `dim` (negative counts from the end); all other dimensions agree.

    ```mlir
    %c = mm.concat %cls, %patches dim 1 : (tensor<?x1x1024xf32>, tensor<?x576x1024xf32>) -> tensor<?x577x1024xf32>
    ```
  }];
  let arguments = (ins Variadic<MM_AnyTensor>:$inputs, I64Attr:$dim);
  let results = (outs MM_AnyTensor:$result);
  let assemblyFormat = "$inputs `dim` $dim attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def MM_SliceOp : MM_InferOp<"slice", [MM_Differentiable]> {
  let summary = "strided slice of one dimension (Python semantics)";
  let description = [{
    `input[..., start:end:step, ...]` on dimension `dim`, with Python's rules:
    negative `start` / `end` count from the end, both clamp to the dimension,
    an absent `end` means the end. `step` is positive.

    ```mlir
    // The last position of every sequence.
    %last = mm.slice %h dim 1 [-1 :] : (tensor<?x?x6144xf32>) -> tensor<?x1x6144xf32>
    %even = mm.slice %x dim 0 [0 : 8 : 2] : (tensor<8x4xf32>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins MM_AnyTensor:$input, I64Attr:$dim, I64Attr:$start,
                       OptionalAttr<I64Attr>:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs MM_AnyTensor:$result);
  let assemblyFormat = [{
    $input `dim` $dim ` ` `[` $start `:` ($end^)? (`:` $step^)? `]` attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def MM_GatherOp : MM_InferOp<"gather", [MM_Differentiable]> {
  let summary = "select entries of one dimension by index (take with batch dims)";
  let description = [{
    With `b = batch_dims`, the first `b` dimensions of `input` and `indices`
    correspond, and `dim >= b`:

        result.shape = input.shape[:dim] + indices.shape[b:] + input.shape[dim + 1:]
        result[i.., j.., k..] = input[i.., indices[i[:b].., j..], k..]

    `batch_dims = 0` is NumPy `take`; the log-probability of each label is
    `gather %logp, %labels {dim = 2, batch_dims = 2}`. An index outside the
    dimension is an error when the graph runs.

    ```mlir
    %last = mm.gather %h, %lastpos {dim = 1 : i64, batch_dims = 1 : i64}
        : (tensor<?x?x6144xf32>, tensor<?xi64>) -> tensor<?x6144xf32>
    ```
  }];
  let arguments = (ins MM_AnyTensor:$input, MM_IndexTensor:$indices, I64Attr:$dim,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs MM_AnyTensor:$result);
  let assemblyFormat = "$input `,` $indices attr-dict `:` functional-type(operands, results)";
}

def MM_ScatterAddOp : MM_InferOp<"scatter_add", [MM_Differentiable]> {
  let summary = "accumulate slices into a tensor at indices of one dimension";
  let description = [{
    `result = dest`, then for every `m`, `result[..., indices[m], ...] +=
    updates[..., m, ...]` along `dim`. `indices` is 1-D; `updates` has
    `dest`'s shape with `dim` replaced by the number of indices. Repeated
    indices accumulate (the gradient of `embedding` and `gather`).

    With `b = batch_dims`, the first `b` dimensions of `dest`, `indices` and
    `updates` correspond (`dim >= b`): `indices` is `[batch..., m]` and row
    `i..` of it scatters into slice `i..` of `dest` (the gradient of a batched
    `gather`, or of `top_k` values):

        result[i.., ..., indices[i.., m], ...] += updates[i.., ..., m, ...]

    ```mlir
    %g = mm.scatter_add %zeros, %ids, %rows {dim = 0 : i64}
        : (tensor<200064x6144xf32>, tensor<?xi64>, tensor<?x6144xf32>) -> tensor<200064x6144xf32>
    %d = mm.scatter_add %zeros2, %top, %dv {dim = 1 : i64, batch_dims = 1 : i64}
        : (tensor<?x32xf32>, tensor<?x2xi64>, tensor<?x2xf32>) -> tensor<?x32xf32>
    ```
  }];
  let arguments = (ins MM_NumericTensor:$dest, MM_IndexTensor:$indices,
                       MM_NumericTensor:$updates, I64Attr:$dim,
                       DefaultValuedAttr<I64Attr, "0">:$batch_dims);
  let results = (outs MM_NumericTensor:$result);
  let assemblyFormat = "$dest `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

#endif // MM_SHAPE_OPS_TD
