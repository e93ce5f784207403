//===- Loss.cpp - cross-entropy, CISPO / PPO-clip, sigmoid BCE ------------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <algorithm>
#include <cmath>

namespace mm::ref {

template <typename F>
static Tensor reduceLoss(const std::vector<F> &losses, int64_t count, LossReduction reduction,
                         DType dtype, const Shape &shape) {
  if (reduction == LossReduction::None)
    return Tensor::fromVector<F>(shape, losses).to(dtype);
  F sum = 0;
  for (F l : losses)
    sum += l;
  // A mean over nothing (every label ignored) is 0, not NaN: it adds no gradient.
  F value = reduction == LossReduction::Sum ? sum : (count ? sum / F(count) : F(0));
  return Tensor::fromVector<F>({}, {value});
}

Tensor crossEntropy(const Tensor &logits, const Tensor &labels, int64_t ignoreIndex,
                    LossReduction reduction) {
  const char *op = "mm.cross_entropy";
  if (logits.rank() < 1)
    throw makeError(op, ": logits need a class dimension");
  int64_t C = logits.dim(-1), N = labels.numel();
  if (logits.numel() != N * C)
    throw makeError(op, ": labels ", formatShape(labels.shape()), " do not match logits ",
                    formatShape(logits.shape()));
  return withFloat(logits, op, [&](auto tag) {
    using F = decltype(tag);
    const F *l = logits.data<F>();
    const int64_t *y = labels.data<int64_t>();
    std::vector<F> losses(N, F(0));
    int64_t count = 0;
    for (int64_t i = 0; i < N; ++i) {
      if (y[i] == ignoreIndex)
        continue;
      if (y[i] < 0 || y[i] >= C)
        throw makeError(op, ": label ", y[i], " outside [0, ", C, ")");
      const F *row = l + i * C;
      F mx = *std::max_element(row, row + C), sum = 0;
      for (int64_t c = 0; c < C; ++c)
        sum += std::exp(row[c] - mx);
      losses[i] = mx + std::log(sum) - row[y[i]];
      ++count;
    }
    return reduceLoss<F>(losses, count, reduction, logits.dtype(), labels.shape());
  });
}

Tensor policyLoss(const PolicyLossParams &params, const Tensor &logprobs,
                  const Tensor &oldLogprobs, const Tensor &advantages, const Tensor &mask,
                  const Tensor *normalizer) {
  const char *op = "mm.policy_loss";
  expectRank(logprobs, 2, op, "logprobs");
  if (oldLogprobs.shape() != logprobs.shape() || mask.shape() != logprobs.shape())
    throw makeError(op, ": logprobs, old_logprobs and mask must share one shape");
  int64_t B = logprobs.dim(0), T = logprobs.dim(1);
  bool perSequence = advantages.rank() == 1;
  if (perSequence ? advantages.dim(0) != B : advantages.shape() != logprobs.shape())
    throw makeError(op, ": advantages ", formatShape(advantages.shape()),
                    " must be [batch] or [batch, seq]");
  if (normalizer && normalizer->numel() != 1)
    throw makeError(op, ": the normalizer must be one number, got ",
                    formatShape(normalizer->shape()));
  return withFloat(logprobs, op, [&](auto tag) {
    using F = decltype(tag);
    const F *lp = logprobs.data<F>(), *old = oldLogprobs.data<F>(), *adv = advantages.data<F>(),
            *m = mask.data<F>();
    F total = 0, tokens = 0;
    for (int64_t b = 0; b < B; ++b) {
      F rowTotal = 0, rowTokens = 0;
      for (int64_t t = 0; t < T; ++t) {
        int64_t i = b * T + t;
        F a = perSequence ? adv[b] : adv[i];
        F logRatio = std::clamp(lp[i] - old[i], F(-params.logRatioClamp), F(params.logRatioClamp));
        F r = std::exp(logRatio);
        F c = std::clamp(r, F(1 - params.epsLow), F(1 + params.epsHigh));
        F loss;
        if (params.kind == PolicyLossKind::CISPO) {
          // The weight is a constant on log pi (value shown; the gradient is
          // w * A * grad log pi).
          F w = params.ratioCap > 0 ? std::min(r, F(params.ratioCap)) : c;
          loss = -w * a * lp[i];
        } else {
          loss = -std::min(r * a, c * a); // the pessimistic surrogate
          if (params.dualClip > 0 && a < 0)
            loss = std::min(loss, -F(params.dualClip) * a);
        }
        rowTotal += m[i] * loss;
        rowTokens += m[i];
      }
      total += params.perSequence ? (rowTokens > 0 ? rowTotal / rowTokens : F(0)) : rowTotal;
      tokens += rowTokens;
    }
    F count = normalizer ? F(normalizer->to(DType::F64).data<double>()[0])
                         : params.perSequence ? F(B) : tokens;
    F loss = count > 0 ? total / count : F(0);
    return Tensor::fromVector<F>({}, {loss});
  });
}

Tensor sigmoidBce(const Tensor &logits, const Tensor &labels, LossReduction reduction) {
  const char *op = "mm.sigmoid_bce";
  if (logits.shape() != labels.shape())
    throw makeError(op, ": logits and labels differ in shape");
  expectSameType(logits, labels, op);
  return withFloat(logits, op, [&](auto tag) {
    using F = decltype(tag);
    const F *x = logits.data<F>(), *y = labels.data<F>();
    std::vector<F> losses(logits.numel());
    for (int64_t i = 0, n = logits.numel(); i < n; ++i)
      losses[i] = std::max(x[i], F(0)) - x[i] * y[i] + std::log1p(std::exp(-std::abs(x[i])));
    return reduceLoss<F>(losses, logits.numel(), reduction, logits.dtype(), logits.shape());
  });
}

} // namespace mm::ref
