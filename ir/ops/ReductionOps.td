//===- ReductionOps.td - softmax, reductions, top-k -----------*- tablegen -*-===//

#ifndef MM_REDUCTION_OPS_TD
#define MM_REDUCTION_OPS_TD

include "ir/MMBase.td"

class MM_SoftmaxLikeOp<string mnemonic, string formula>
    : MM_Op<mnemonic, [Pure, SameOperandsAndResultType, MM_Differentiable]> {
  let summary = formula # " along one dimension";
  let description = "Computes `" # formula # "` along `dim` (negative counts "
    # "from the end), max-subtracted and accumulated in float32.\n\n"
    # "```mlir\n%p = mm." # mnemonic # " %x {dim = -1 : i64} : tensor<?x32xf32>\n```";
  let arguments = (ins MM_FloatTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$dim);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def MM_SoftmaxOp : MM_SoftmaxLikeOp<"softmax", "exp(x) / sum(exp(x))">;
def MM_LogSoftmaxOp : MM_SoftmaxLikeOp<"log_softmax", "x - log(sum(exp(x)))">;

def MM_ReduceOp : MM_InferOp<"reduce", [MM_Differentiable]> {
  let summary = "sum / mean / max / min / product over dimensions";
  let description = [{
    Reduces `input` over `dims` (distinct, negative counts from the end). With
    `keep_dims` the reduced dimensions stay with size 1; otherwise they are
    removed. Floating-point sums and means accumulate in float32 (or float64).

    ```mlir
    %m = mm.reduce mean %x dims [1] : (tensor<?x?x512xf32>) -> tensor<?x512xf32>
    %s = mm.reduce sum %x dims [-1] keep_dims : (tensor<?x?x512xf32>) -> tensor<?x?x1xf32>
    ```
  }];
  let arguments = (ins MM_ReduceKind:$kind, MM_NumericTensor:$input,
                       DenseI64ArrayAttr:$dims, UnitAttr:$keep_dims);
  let results = (outs MM_NumericTensor:$result);
  let assemblyFormat = "$kind $input `dims` $dims (`keep_dims` $keep_dims^)? attr-dict `:` functional-type(operands, results)";
}

def MM_TopKOp : MM_InferOp<"top_k", [MM_Differentiable]> {
  let summary = "k largest values of the last dimension";
  let description = [{
    Along the last dimension: the `k` largest values in descending order and
    their i64 indices; equal values keep the lower index first. `k` is positive
    and at most the dimension's size.

    ```mlir
    %v, %i = mm.top_k %logits {k = 50 : i64} : (tensor<?x200064xf32>) -> (tensor<?x50xf32>, tensor<?x50xi64>)
    ```
  }];
  let arguments = (ins MM_NumericTensor:$input, I64Attr:$k);
  let results = (outs MM_NumericTensor:$values, MM_IndexTensor:$indices);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def MM_ArgmaxOp : MM_InferOp<"argmax"> {
  let summary = "index of the largest value along a dimension";
  let description = [{
    i64 index of the maximum along `dim` (the first one on ties); the
    dimension is removed unless `keep_dims`.

    ```mlir
    %tok = mm.argmax %logits {dim = -1 : i64} : (tensor<?x200064xf32>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins MM_NumericTensor:$input, DefaultValuedAttr<I64Attr, "-1">:$dim,
                       UnitAttr:$keep_dims);
  let results = (outs MM_IndexTensor:$result);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

#endif // MM_REDUCTION_OPS_TD
