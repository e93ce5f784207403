//===- NormOps.td - RMSNorm and LayerNorm ---------------------*- tablegen -*-===//

#ifndef MM_NORM_OPS_TD
#define MM_NORM_OPS_TD

include "ir/MMBase.td"

def MM_RmsNormOp : MM_InferOp<"rms_norm", [MM_Differentiable]> {
  let summary = "RMSNorm over the last dimension";
  let description = [{
    `y = weight * (x / sqrt(mean(x^2, last dim) + epsilon))`, accumulated in
    float32 and cast back to the input's element type (MiniMax-Text-01 section
    2). `weight` is 1-D with the size of the input's last dimension.

    ```mlir
    %y = mm.rms_norm %x, %g {epsilon = 1.0e-05 : f64}
        : (tensor<?x?x6144xbf16>, tensor<6144xbf16>) -> tensor<?x?x6144xbf16>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` functional-type(operands, results)";
}

def MM_LayerNormOp : MM_InferOp<"layer_norm", [MM_Differentiable]> {
  let summary = "LayerNorm over the last dimension";
  let description = [{
    `y = (x - mean) / sqrt(var + epsilon) * weight + bias` over the last
    dimension, with the biased variance, accumulated in float32 (ViT layers,
    AMER behaviour blocks). `weight` and `bias` are 1-D of the last dimension's
    size.

    ```mlir
    %y = mm.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64}
        : (tensor<?x577x1024xf32>, tensor<1024xf32>, tensor<1024xf32>) -> tensor<?x577x1024xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight, MM_FloatTensor:$bias,
                       DefaultValuedAttr<F64Attr, "1.0e-5">:$epsilon);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight `,` $bias attr-dict `:` functional-type(operands, results)";
}

#endif // MM_NORM_OPS_TD
