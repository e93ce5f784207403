//===- LossOps.td - training objectives -----------------------*- tablegen -*-===//

#ifndef MM_LOSS_OPS_TD
#define MM_LOSS_OPS_TD

include "ir/MMBase.td"

def MM_CrossEntropyOp : MM_InferOp<"cross_entropy", [MM_Differentiable]> {
  let summary = "softmax cross-entropy against integer labels";
  let description = [{
    `loss = logsumexp(logits) - logits[label]` over the last dimension of
    `logits` (`[..., classes]`), with integer `labels` of shape `[...]`.
    Positions whose label equals `ignore_index` contribute nothing; `mean`
    divides by the number of other positions (a mean over none is 0: it adds
    no gradient). `none` returns the per-position
    losses (0 where ignored); `sum` and `mean` a scalar. Float32 accumulation;
    the loss is float32, or float64 for float64 logits.

    ```mlir
    %l = mm.cross_entropy mean %logits, %labels
        : (tensor<?x?x200064xf32>, tensor<?x?xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins MM_LossReduction:$reduction, MM_FloatTensor:$logits,
                       MM_IndexTensor:$labels, DefaultValuedAttr<I64Attr, "-100">:$ignore_index);
  let results = (outs MM_FloatTensor:$loss);
  let assemblyFormat = "$reduction $logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

def MM_PolicyLossOp : MM_InferOp<"policy_loss", [MM_Differentiable]> {
  let summary = "token-level policy-gradient loss: CISPO or PPO-clip";
  let description = [{
    For token log-probabilities `logprobs` under the current policy,
    `old_logprobs` under the sampling policy (both `[batch, seq]`),
    `advantages` (`[batch]`, one per response, or `[batch, seq]`) and a float
    `mask` (`[batch, seq]`, 1 on response tokens):

        r = exp(clamp(logprobs - old_logprobs, -log_ratio_clamp, log_ratio_clamp))
        c = clamp(r, 1 - eps_low, 1 + eps_high)

    * `cispo` (MiniMax-M1): `loss = -sum(mask * sg(c) * A * logprobs) / sum(mask)`,
      where `sg` stops the gradient, so every token keeps a bounded weight;
    * `ppo_clip`: `loss = -sum(mask * min(r * A, c * A)) / sum(mask)`, which
      drops the gradient of tokens outside the trust region.

    The normaliser is the total number of response tokens in the batch
    (token-level). An absolute cap `min(r, cap)` is `eps_low` large and
    `eps_high = cap - 1`. Both epsilons are non-negative. The result is a
    float32 scalar (float64 for float64 operands).

    ```mlir
    %l = mm.policy_loss cispo %lp, %old, %adv, %mask {eps_low = 10.0 : f64, eps_high = 0.2 : f64}
        : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins MM_PolicyLossKind:$kind, MM_FloatTensor:$logprobs,
                       MM_FloatTensor:$old_logprobs, MM_FloatTensor:$advantages,
                       MM_FloatTensor:$mask,
                       DefaultValuedAttr<F64Attr, "0.2">:$eps_low,
                       DefaultValuedAttr<F64Attr, "0.2">:$eps_high,
                       DefaultValuedAttr<F64Attr, "20.0">:$log_ratio_clamp);
  let results = (outs MM_FloatTensor:$loss);
  let assemblyFormat = [{
    $kind $logprobs `,` $old_logprobs `,` $advantages `,` $mask attr-dict `:` functional-type(operands, results)
  }];
}

def MM_SigmoidBceOp : MM_InferOp<"sigmoid_bce", [MM_Differentiable]> {
  let summary = "binary cross-entropy on logits";
  let description = [{
    `loss = max(x, 0) - x * y + log(1 + exp(-|x|))` for logits `x` and float
    labels `y` in [0, 1] of the same shape (the numerically stable form of
    `-(y log sigmoid(x) + (1 - y) log(1 - sigmoid(x)))`, the CTR objective).
    The loss is float32, or float64 for float64 logits.

    ```mlir
    %l = mm.sigmoid_bce mean %logit, %click : (tensor<?xf32>, tensor<?xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins MM_LossReduction:$reduction, MM_FloatTensor:$logits, MM_FloatTensor:$labels);
  let results = (outs MM_FloatTensor:$loss);
  let assemblyFormat = "$reduction $logits `,` $labels attr-dict `:` functional-type(operands, results)";
}

#endif // MM_LOSS_OPS_TD
