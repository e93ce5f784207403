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

Tensor policyLoss(PolicyLossKind kind, const Tensor &logprobs, const Tensor &oldLogprobs,
                  const Tensor &advantages, const Tensor &mask, double epsLow, double epsHigh,
                  double logRatioClamp) {
  const char *op = "mm.policy_loss";
  expectRank(logprobs, 2, op, "logprobs");
  if (oldLogprobs.shape() != logprobs.shape() || mask.shape() != logprobs.shape())
    throw makeError(op, ": logprobs, old_logprobs and mask must share one shape");
  int64_t B = logprobs.dim(0), T = logprobs.dim(1);
  bool perSequence = advantages.rank() == 1;
  if (perSequence ? advantages.dim(0) != B : advantages.shape() != logprobs.shape())
    throw makeError(op, ": advantages ", formatShape(advantages.shape()),
                    " must be [batch] or [batch, seq]");
  return withFloat(logprobs, op, [&](auto tag) {
    using F = decltype(tag);
    const F *lp = logprobs.data<F>(), *old = oldLogprobs.data<F>(), *adv = advantages.data<F>(),
            *m = mask.data<F>();
    F total = 0, tokens = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        int64_t i = b * T + t;
        F a = perSequence ? adv[b] : adv[i];
        F logRatio = std::clamp(lp[i] - old[i], F(-logRatioClamp), F(logRatioClamp));
        F r = std::exp(logRatio);
        F c = std::clamp(r, F(1 - epsLow), F(1 + epsHigh));
        // CISPO: the clipped ratio is a constant weight on log pi (value shown;
        // the gradient is c * A * grad log pi). PPO-clip: pessimistic surrogate.
        F term = kind == PolicyLossKind::CISPO ? c * a * lp[i] : std::min(r * a, c * a);
        total += m[i] * term;
        tokens += m[i];
      }
    F loss = tokens > 0 ? -total / tokens : F(0);
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
