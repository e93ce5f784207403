//===- KernelOps.td - fused kernels, the unit of code generation -*- tablegen -*-===//

#ifndef MM_KERNEL_OPS_TD
#define MM_KERNEL_OPS_TD

include "ir/MMBase.td"

def MM_KernelOp : MM_Op<"kernel", [IsolatedFromAbove, RecursiveMemoryEffects,
                                   SingleBlock]> {
  let summary = "a fused kernel: a region of mm ops that runs as one generated kernel";
  let description = [{
    The fusion passes group graph ops into kernels; code generation then emits
    one host function or CUDA kernel per `mm.kernel`. The body is ordinary mm
    IR over block arguments (one per input) and ends with `mm.yield`, so the
    reference executor runs a kernel by running its body: fusion never changes
    what a graph computes, and every generated kernel is tested against its
    body.

    `kind` (an enum) names the code-generation kind: `gemm` (a linear layer and its
    elementwise epilogue), `norm` (RMSNorm with elementwise prologue and
    epilogue), `elementwise`, `attention` (RoPE + grouped-query attention with
    a KV cache), `lightning` (the q/k/v slices + lightning attention),
    `moe_router`, `moe_dispatch`, `grouped_gemm`, `grouped_gemm_swiglu`,
    `moe_combine` (with an elementwise epilogue), `embedding`, `gather`,
    `copy` (transpose, slice, concat), `reduce`, `softmax` (and log-softmax),
    `matmul` (batched), `layer_norm`, `scatter_add`, `argmax`, `loss`
    (cross-entropy, sigmoid BCE, policy loss), `top_k`, `conv` (conv1d,
    conv2d), `pool`, `rope`, `merge_image_features`, `gru`,
    `target_attention`, `hadamard_interaction`.
    `in_place`, when present, gives for each result the input whose buffer it
    may overwrite (-1: none): KV caches and lightning states update in place.

    ```mlir
    %y = mm.kernel gemm (%x, %w, %u) : (tensor<?x?x64xf32>, tensor<64x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
    ^bb0(%a: tensor<?x?x64xf32>, %b: tensor<64x64xf32>, %c: tensor<?x?x64xf32>):
      %0 = mm.linear %a, %b : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
      %1 = mm.add %0, %c : (tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
      mm.yield %1 : tensor<?x?x64xf32>
    }
    ```
  }];
  let arguments = (ins MM_KernelKind:$kind, Variadic<MM_AnyTensor>:$inputs,
                       OptionalAttr<DenseI64ArrayAttr>:$in_place);
  let results = (outs Variadic<MM_AnyTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $kind ` ` `(` $inputs `)` attr-dict `:` functional-type($inputs, results) $body
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::Block &getBodyBlock() { return getBody().front(); }
  }];
}

#endif // MM_KERNEL_OPS_TD
