//===- MoE.cpp - router, dispatch, grouped matmul, combine ----------------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mm::ref {

RouterResult moeRouter(const Tensor &logits, int64_t topK, bool renormalize) {
  const char *op = "mm.moe_router";
  if (logits.rank() < 1)
    throw makeError(op, ": logits need an expert dimension");
  int64_t E = logits.dim(-1), N = logits.numel() / std::max<int64_t>(E, 1);
  if (topK < 1 || topK > E)
    throw makeError(op, ": top_k ", topK, " for ", E, " experts");
  Shape outShape = logits.shape();
  outShape.back() = topK;
  return withFloat(logits, op, [&](auto tag) {
    using F = decltype(tag);
    RouterResult r{Tensor::empty(logits.dtype(), outShape), Tensor::empty(DType::I64, outShape)};
    const F *l = logits.data<F>();
    F *w = r.weights.template data<F>();
    int64_t *idx = r.indices.template data<int64_t>();
    std::vector<F> p(E);
    std::vector<int64_t> order(E);
    for (int64_t t = 0; t < N; ++t) {
      const F *row = l + t * E;
      F mx = *std::max_element(row, row + E), sum = 0;
      for (int64_t e = 0; e < E; ++e)
        sum += p[e] = std::exp(row[e] - mx);
      for (int64_t e = 0; e < E; ++e)
        p[e] /= sum;
      std::iota(order.begin(), order.end(), 0);
      // Descending probability; ties keep the lower expert index first.
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return p[a] > p[b]; });
      F chosen = 0;
      for (int64_t j = 0; j < topK; ++j)
        chosen += p[order[j]];
      for (int64_t j = 0; j < topK; ++j) {
        idx[t * topK + j] = order[j];
        w[t * topK + j] = renormalize ? p[order[j]] / chosen : p[order[j]];
      }
    }
    return r;
  });
}

DispatchResult moeDispatch(const Tensor &x, const Tensor &indices, int64_t numExperts) {
  const char *op = "mm.moe_dispatch";
  if (x.rank() < 1 || indices.rank() != x.rank())
    throw makeError(op, ": input ", formatShape(x.shape()), " and expert indices ",
                    formatShape(indices.shape()), " do not match");
  int64_t D = x.dim(-1), k = indices.dim(-1);
  int64_t N = x.numel() / std::max<int64_t>(D, 1);
  if (indices.numel() != N * k)
    throw makeError(op, ": ", indices.numel() / std::max<int64_t>(k, 1), " routed tokens for ", N,
                    " input tokens");
  const int64_t *idx = indices.data<int64_t>();
  std::vector<int64_t> counts(numExperts, 0);
  for (int64_t s = 0; s < N * k; ++s) {
    if (idx[s] < 0 || idx[s] >= numExperts)
      throw makeError(op, ": expert index ", idx[s], " outside [0, ", numExperts, ")");
    ++counts[idx[s]];
  }
  DispatchResult r;
  r.groupOffsets = Tensor::empty(DType::I64, {numExperts + 1});
  int64_t *off = r.groupOffsets.data<int64_t>();
  off[0] = 0;
  for (int64_t e = 0; e < numExperts; ++e)
    off[e + 1] = off[e] + counts[e];
  r.tokenOrder = Tensor::empty(DType::I64, {N * k});
  int64_t *order = r.tokenOrder.data<int64_t>();
  std::vector<int64_t> next(off, off + numExperts);
  for (int64_t s = 0; s < N * k; ++s) // stable: slots in token order
    order[next[idx[s]]++] = s;
  r.dispatched = withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor out = Tensor::empty(x.dtype(), {N * k, D});
    const F *in = x.data<F>();
    F *o = out.data<F>();
    for (int64_t row = 0; row < N * k; ++row) {
      const F *src = in + (order[row] / k) * D;
      std::copy(src, src + D, o + row * D);
    }
    return out;
  });
  return r;
}

Tensor groupedMatmul(const Tensor &x, const Tensor &weight, const Tensor &groupOffsets) {
  const char *op = "mm.grouped_matmul";
  expectRank(x, 2, op, "input");
  expectRank(weight, 3, op, "weight");
  expectSameType(x, weight, op);
  int64_t M = x.dim(0), K = x.dim(1), E = weight.dim(0), N = weight.dim(1);
  if (weight.dim(2) != K || groupOffsets.numel() != E + 1)
    throw makeError(op, ": input ", formatShape(x.shape()), ", weight ",
                    formatShape(weight.shape()), " and ", groupOffsets.numel(),
                    " offsets do not agree");
  const int64_t *off = groupOffsets.data<int64_t>();
  if (off[0] < 0 || off[E] > M)
    throw makeError(op, ": group offsets must lie in [0, ", M, "]");
  for (int64_t e = 0; e < E; ++e)
    if (off[e + 1] < off[e])
      throw makeError(op, ": group offsets decrease at expert ", e);
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::zeros(x.dtype(), {M, N}); // rows of no expert here stay zero
    const F *in = x.data<F>(), *w = weight.data<F>();
    F *out = y.data<F>();
    for (int64_t e = 0; e < E; ++e) {
      const F *we = w + e * N * K;
#pragma omp parallel for schedule(static) if ((off[e + 1] - off[e]) * N * K > (1 << 16))
      for (int64_t r = off[e]; r < off[e + 1]; ++r)
        for (int64_t c = 0; c < N; ++c)
          out[r * N + c] = dot(in + r * K, we + c * K, K);
    }
    return y;
  });
}

Tensor moeCombine(const Tensor &expertOutput, const Tensor &tokenOrder, const Tensor &weights) {
  const char *op = "mm.moe_combine";
  expectRank(expertOutput, 2, op, "expert_output");
  expectSameType(expertOutput, weights, op);
  int64_t k = weights.dim(-1), rows = weights.numel(), D = expertOutput.dim(1);
  int64_t N = rows / std::max<int64_t>(k, 1);
  if (expertOutput.dim(0) != rows || tokenOrder.numel() != rows)
    throw makeError(op, ": ", expertOutput.dim(0), " expert rows and ", tokenOrder.numel(),
                    " order entries for ", rows, " routed slots");
  Shape shape = weights.shape();
  shape.back() = D;
  const int64_t *order = tokenOrder.data<int64_t>();
  return withFloat(expertOutput, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::zeros(expertOutput.dtype(), shape);
    const F *in = expertOutput.data<F>(), *w = weights.data<F>();
    F *out = y.data<F>();
    std::vector<int64_t> rowOfSlot(rows, -1);
    for (int64_t r = 0; r < rows; ++r) {
      if (order[r] < 0 || order[r] >= rows || rowOfSlot[order[r]] != -1)
        throw makeError(op, ": token_order is not a permutation of the routed slots");
      rowOfSlot[order[r]] = r;
    }
    // Sum in slot order so the result does not depend on the dispatch order.
    for (int64_t t = 0; t < N; ++t)
      for (int64_t j = 0; j < k; ++j) {
        const F *src = in + rowOfSlot[t * k + j] * D;
        F wj = w[t * k + j];
        for (int64_t d = 0; d < D; ++d)
          out[t * D + d] += wj * src[d];
      }
    return y;
  });
}

} // namespace mm::ref
