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
  let summary = "token-level policy-gradient loss: CISPO, PPO-clip / GRPO, DAPO";
  let description = [{
    For token log-probabilities `logprobs` under the current policy,
    `old_logprobs` under the sampling policy (both `[batch, seq]`),
    `advantages` (`[batch]`, one per response, or `[batch, seq]`) and a float
    `mask` (`[batch, seq]`, 1 on response tokens), each token's loss `l` is

        r = exp(clamp(logprobs - old_logprobs, -log_ratio_clamp, log_ratio_clamp))
        c = clamp(r, 1 - eps_low, 1 + eps_high)

    * `cispo` (MiniMax-M1): `l = -sg(w) * A * logprobs` with `w = c`, or
      `w = min(r, ratio_cap)` when `ratio_cap` is set (the absolute-cap
      convention). `sg` stops the gradient: every token keeps a bounded weight.
    * `ppo_clip` (PPO, GRPO, DAPO): `l = -min(r * A, c * A)`, which drops the
      gradient of tokens outside the trust region. With `dual_clip = k`
      (k > 1), a token with `A < 0` has `l = min(l, -k * A)`.

    `per token` (the default; DAPO, CISPO) returns
    `sum(mask * l) / N` with `N` the `normalizer` operand when given (the
    response-token count of the whole batch, over micro-batches and ranks)
    and `sum(mask)` otherwise. `sequence` (GRPO) averages each row over its
    own tokens, then the rows: `sum_b (sum_t mask * l / sum_t mask) / S`, with
    `S` the `normalizer` when given and `batch` otherwise; a row without
    tokens adds 0. A zero normaliser gives 0.

    Only `logprobs` receives a gradient: `old_logprobs`, `advantages`, `mask`
    and `normalizer` are data of the rollout, constants to -mm-autodiff.
    Both epsilons are non-negative; `ratio_cap` applies to `cispo` and
    `dual_clip` to `ppo_clip`. No log-ratio clamp is a large
    `log_ratio_clamp`. The result is a float32 scalar (float64 for float64
    operands).

    ```mlir
    %l = mm.policy_loss cispo %lp, %old, %adv, %mask {eps_low = 10.0 : f64, eps_high = 0.2 : f64}
        : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
    %g = mm.policy_loss ppo_clip per sequence %lp, %old, %adv, %mask
        : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>) -> tensor<f32>
    %d = mm.policy_loss ppo_clip %lp, %old, %adv, %mask normalized_by %tokens
        {eps_high = 0.28 : f64, dual_clip = 3.0 : f64}
        : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?x?xf32>, tensor<f32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins MM_PolicyLossKind:$kind, MM_FloatTensor:$logprobs,
                       MM_FloatTensor:$old_logprobs, MM_FloatTensor:$advantages,
                       MM_FloatTensor:$mask, Optional<MM_FloatTensor>:$normalizer,
                       DefaultValuedAttr<F64Attr, "0.2">:$eps_low,
                       DefaultValuedAttr<F64Attr, "0.2">:$eps_high,
                       DefaultValuedAttr<F64Attr, "20.0">:$log_ratio_clamp,
                       OptionalAttr<F64Attr>:$ratio_cap,
                       OptionalAttr<F64Attr>:$dual_clip,
                       DefaultValuedAttr<MM_PolicyLossNormalization,
                                         "::mm::PolicyLossNormalization::Token">:$normalization);
  let results = (outs MM_FloatTensor:$loss);
  let assemblyFormat = [{
    $kind (`per` $normalization^)? $logprobs `,` $old_logprobs `,` $advantages `,` $mask
    (`normalized_by` $normalizer^)?
    attr-dict `:` functional-type(operands, results)
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
