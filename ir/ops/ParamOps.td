//===- ParamOps.td - named model weights ----------------------*- tablegen -*-===//

#ifndef MM_PARAM_OPS_TD
#define MM_PARAM_OPS_TD

include "ir/MMBase.td"

def MM_ParamOp : MM_Op<"param", [Pure]> {
  let summary = "a named model weight";
  let description = [{
    A weight of the model, identified by its checkpoint-independent name. The
    runtime binds it from the weight manifest (for Hugging Face checkpoints,
    the safetensors tensor of that name, or the per-expert tensors it stacks).
    The type is fully static: a weight's shape never varies.

    ```mlir
    %w = mm.param "model.layers.0.self_attn.q_proj.weight" : tensor<8192x6144xbf16>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs MM_AnyTensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

#endif // MM_PARAM_OPS_TD
