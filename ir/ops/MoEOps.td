//===- MoEOps.td - mixture-of-experts routing and experts -----*- tablegen -*-===//

#ifndef MM_MOE_OPS_TD
#define MM_MOE_OPS_TD

include "ir/MMBase.td"

def MM_MoeRouterOp : MM_InferOp<"moe_router", [DeclareOpInterfaceMethods<
    MM_DifferentiableOpInterface, ["integerResultsAreConstantSelections"]>]> {
  let summary = "softmax router with top-k selection";
  let description = [{
    From router logits `[..., experts]` (any leading token dims):
    `p = softmax(logits)` in float32, the `top_k` largest (ties to the lower
    expert index), and with `renormalize` (the default) weights
    `p_i / sum of the chosen p`. Results: float32 weights `[..., top_k]` and
    i64 expert indices `[..., top_k]`, in descending weight order.

    ```mlir
    %w, %e = mm.moe_router %logits {top_k = 2 : i64}
        : (tensor<?x?x32xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xi64>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$logits, I64Attr:$top_k,
                       DefaultValuedAttr<BoolAttr, "true">:$renormalize);
  let results = (outs MM_FloatTensor:$weights, MM_IndexTensor:$indices);
  let assemblyFormat = "$logits attr-dict `:` functional-type(operands, results)";
}

def MM_MoeDispatchOp : MM_InferOp<"moe_dispatch", [DeclareOpInterfaceMethods<
    MM_DifferentiableOpInterface, ["integerResultsAreConstantSelections"]>]> {
  let summary = "group token copies by expert";
  let description = [{
    `input` is `[..., dim]` and `expert_indices` `[..., k]` with the same
    leading token dims (flattened row-major into `tokens`). Every (token, slot)
    pair becomes one row of `dispatched` (`[tokens * k, dim]`),
    rows sorted by expert, stable in token order. `group_offsets`
    (`[num_experts + 1]`, i64) delimits expert `e`'s rows as
    `[offsets[e], offsets[e + 1])`; `token_order[r]` (`[tokens * k]`, i64) is
    the flat slot `token * k + slot` that row `r` came from. An index outside
    `[0, num_experts)` is an error when the graph runs.

    ```mlir
    %x2, %off, %ord = mm.moe_dispatch %x, %e {num_experts = 32 : i64}
        : (tensor<?x?x6144xbf16>, tensor<?x?x2xi64>) -> (tensor<?x6144xbf16>, tensor<33xi64>, tensor<?xi64>)
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_IndexTensor:$expert_indices, I64Attr:$num_experts);
  let results = (outs MM_FloatTensor:$dispatched, MM_IndexTensor:$group_offsets,
                      MM_IndexTensor:$token_order);
  let assemblyFormat = "$input `,` $expert_indices attr-dict `:` functional-type(operands, results)";
}

def MM_GroupedMatmulOp : MM_InferOp<"grouped_matmul", [MM_Differentiable]> {
  let summary = "per-expert linear layer over expert-sorted rows";
  let description = [{
    `input` `[rows, in]` holds rows grouped by expert as `moe_dispatch` leaves
    them; `weight` is `[experts, out, in]` (each expert's `[out, in]` linear
    weight); `group_offsets` `[experts + 1]`. Row `r` in group `e` becomes
    `input[r] W_e^T`. One op, so a backend runs all experts in one grouped GEMM.
    Rows before `group_offsets[0]` or from `group_offsets[experts]` on belong
    to no expert here and are zero: under expert parallelism a rank holds a
    block of the experts and the offsets of their groups only.

    ```mlir
    %h = mm.grouped_matmul %x2, %w1, %off
        : (tensor<?x6144xbf16>, tensor<32x9216x6144xbf16>, tensor<33xi64>) -> tensor<?x9216xbf16>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight, MM_IndexTensor:$group_offsets);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $group_offsets attr-dict `:` functional-type(operands, results)";
}

def MM_MoeCombineOp : MM_InferOp<"moe_combine", [MM_Differentiable]> {
  let summary = "weighted sum of expert outputs back into token order";
  let description = [{
    Inverse of `moe_dispatch`: with `expert_output` `[tokens * k, dim]` in
    dispatched order, `token_order` from the dispatch and routing `weights`
    `[..., k]`, `y[t] = sum_j weights[t, j] * expert_output[row of slot
    t * k + j]`. The result is `[..., dim]`: the token dims of `weights`.

    ```mlir
    %y = mm.moe_combine %h, %ord, %w
        : (tensor<?x6144xbf16>, tensor<?xi64>, tensor<?x?x2xf32>) -> tensor<?x?x6144xbf16>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$expert_output, MM_IndexTensor:$token_order,
                       MM_FloatTensor:$weights);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$expert_output `,` $token_order `,` $weights attr-dict `:` functional-type(operands, results)";
}

#endif // MM_MOE_OPS_TD
