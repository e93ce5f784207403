//===- VisionOps.td - patch embedding and image token merge ---*- tablegen -*-===//

#ifndef MM_VISION_OPS_TD
#define MM_VISION_OPS_TD

include "ir/MMBase.td"

def MM_Conv2dOp : MM_InferOp<"conv2d", [MM_Differentiable]> {
  let summary = "2-D convolution, NCHW input, OIHW weight";
  let description = [{
    Cross-correlation of `input` `[n, c_in, h, w]` with `weight` `[c_out,
    c_in, kh, kw]` (+ `bias` `[c_out]`), `strides`, symmetric `padding` and
    `dilation` (each `[h, w]`); output size per spatial dim
    `(in + 2 pad - dil (k - 1) - 1) / stride + 1`. The ViT patch embedding is
    a 14x14 kernel at stride 14.

    ```mlir
    %p = mm.conv2d %img, %w {strides = array<i64: 14, 14>}
        : (tensor<?x3x336x336xf32>, tensor<1024x3x14x14xf32>) -> tensor<?x1024x24x24xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$input, MM_FloatTensor:$weight, Optional<MM_FloatTensor>:$bias,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$strides,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{0, 0}">:$padding,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{1, 1}">:$dilation);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)";
}

def MM_MergeImageFeaturesOp : MM_InferOp<"merge_image_features", [MM_Differentiable]> {
  let summary = "replace image placeholder embeddings by image features";
  let description = [{
    `embeddings` `[batch, seq, dim]` are the text embeddings of `ids`
    `[batch, seq]`. The rows of `image_features` `[n, dim]` replace, in order
    (row-major over batch then position), the embeddings at positions where
    `ids == image_token_id`. The number of placeholders must equal `n`: a
    mismatch is an error when the graph runs (VL-01 dynamic resolution makes
    `n` a function of the image sizes). The gradient of the embeddings is
    the merge of the output gradient with zero features; that of the
    features is `mm.merge_image_features_grad`.

    ```mlir
    %e2 = mm.merge_image_features %e, %ids, %feats {image_token_id = 200025 : i64}
        : (tensor<?x?x6144xf32>, tensor<?x?xi64>, tensor<?x6144xf32>) -> tensor<?x?x6144xf32>
    ```
  }];
  let arguments = (ins MM_FloatTensor:$embeddings, MM_IndexTensor:$ids,
                       MM_FloatTensor:$image_features, I64Attr:$image_token_id);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$embeddings `,` $ids `,` $image_features attr-dict `:` functional-type(operands, results)";
}

#endif // MM_VISION_OPS_TD
