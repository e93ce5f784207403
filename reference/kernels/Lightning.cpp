//===- Lightning.cpp - MiniMax lightning attention (block-wise and recurrence) ===//
//
// Both forms of ../shared/spec/minimax-text-01.md section 4, per (batch, head):
//   recurrence:  S_t = lambda S_{t-1} + k_t v_t^T,  o_t = q_t^T S_t
//   block-wise:  o[c] = lambda^(c+1) q_c^T S + sum_{j<=c} lambda^(c-j) (q_c . k_j) v_j
//                S    <- lambda^m S + sum_j lambda^(m-1-j) k_j v_j^T
//
//===----------------------------------------------------------------------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <cmath>

namespace mm::ref {

namespace {
template <typename F> struct HeadView {
  const F *q, *k, *v; // row c at q + c * rowStride
  F *o;
  int64_t rowStride, outStride, dk, dv;
};

template <typename F> void recurrence(const HeadView<F> &h, F *S, int64_t len, double slope) {
  F lambda = F(std::exp(-slope));
  for (int64_t t = 0; t < len; ++t) {
    const F *kt = h.k + t * h.rowStride, *vt = h.v + t * h.rowStride;
    const F *qt = h.q + t * h.rowStride;
    for (int64_t i = 0; i < h.dk; ++i)
      for (int64_t j = 0; j < h.dv; ++j)
        S[i * h.dv + j] = lambda * S[i * h.dv + j] + kt[i] * vt[j];
    F *ot = h.o + t * h.outStride;
    for (int64_t j = 0; j < h.dv; ++j) {
      F acc = 0;
      for (int64_t i = 0; i < h.dk; ++i)
        acc += qt[i] * S[i * h.dv + j];
      ot[j] = acc;
    }
  }
}

template <typename F>
void blockwise(const HeadView<F> &h, F *S, int64_t len, double slope, int64_t block) {
  // decay[n] = lambda^n, exactly exp(-slope * n).
  std::vector<F> decay(block + 1);
  for (int64_t n = 0; n <= block; ++n)
    decay[n] = F(std::exp(-slope * double(n)));
  std::vector<F> qk(block);
  for (int64_t start = 0; start < len; start += block) {
    int64_t m = std::min(block, len - start);
    const F *Q = h.q + start * h.rowStride, *K = h.k + start * h.rowStride,
            *V = h.v + start * h.rowStride;
    F *O = h.o + start * h.outStride;
    for (int64_t c = 0; c < m; ++c) {
      const F *qc = Q + c * h.rowStride;
      F *oc = O + c * h.outStride;
      // inter: lambda^(c+1) q_c^T S
      for (int64_t j = 0; j < h.dv; ++j) {
        F acc = 0;
        for (int64_t i = 0; i < h.dk; ++i)
          acc += qc[i] * S[i * h.dv + j];
        oc[j] = decay[c + 1] * acc;
      }
      // intra: sum_{j<=c} lambda^(c-j) (q_c . k_j) v_j
      for (int64_t j = 0; j <= c; ++j)
        qk[j] = decay[c - j] * dot(qc, K + j * h.rowStride, h.dk);
      for (int64_t j = 0; j <= c; ++j) {
        const F *vj = V + j * h.rowStride;
        for (int64_t d = 0; d < h.dv; ++d)
          oc[d] += qk[j] * vj[d];
      }
    }
    // state: S <- lambda^m S + sum_j lambda^(m-1-j) k_j v_j^T
    for (int64_t x = 0; x < h.dk * h.dv; ++x)
      S[x] *= decay[m];
    for (int64_t j = 0; j < m; ++j) {
      const F *kj = K + j * h.rowStride, *vj = V + j * h.rowStride;
      F w = decay[m - 1 - j];
      for (int64_t i = 0; i < h.dk; ++i) {
        F ki = w * kj[i];
        for (int64_t d = 0; d < h.dv; ++d)
          S[i * h.dv + d] += ki * vj[d];
      }
    }
  }
}
} // namespace

LightningResult lightningAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                                   const Tensor *initialState, const Tensor *lengths,
                                   const std::vector<double> &slopes, int64_t blockSize,
                                   LightningMode mode) {
  const char *op = "mm.lightning_attention";
  expectRank(q, 4, op, "query");
  expectRank(k, 4, op, "key");
  expectRank(v, 4, op, "value");
  expectSameType(q, k, op);
  expectSameType(q, v, op);
  int64_t B = q.dim(0), T = q.dim(1), H = q.dim(2), dk = q.dim(3), dv = v.dim(3);
  if (k.shape() != q.shape() || v.dim(0) != B || v.dim(1) != T || v.dim(2) != H)
    throw makeError(op, ": query ", formatShape(q.shape()), ", key ", formatShape(k.shape()),
                    " and value ", formatShape(v.shape()), " do not agree");
  if (static_cast<int64_t>(slopes.size()) != H)
    throw makeError(op, ": ", slopes.size(), " decay slopes for ", H, " heads");
  if (blockSize < 1)
    throw makeError(op, ": block_size must be positive");
  Shape stateShape{B, H, dk, dv};
  if (initialState && initialState->shape() != stateShape)
    throw makeError(op, ": initial state ", formatShape(initialState->shape()), " must be ",
                    formatShape(stateShape));
  // One row stride serves q, k and v below.
  if (dk != dv)
    throw makeError(op, ": key and value head dims differ (", dk, " vs ", dv,
                    "); the reference kernel needs them equal");
  if (lengths && lengths->numel() != B)
    throw makeError(op, ": lengths has ", lengths->numel(), " entries for batch ", B);
  return withFloat(q, op, [&](auto tag) {
    using F = decltype(tag);
    LightningResult r;
    r.output = Tensor::zeros(q.dtype(), {B, T, H, dv});
    r.finalState =
        initialState ? initialState->to(q.dtype()).clone() : Tensor::zeros(q.dtype(), stateShape);
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = lengths ? lengths->data<int64_t>()[b] : T;
      if (len < 0 || len > T)
        throw makeError(op, ": length ", len, " of sequence ", b, " is outside [0, ", T, "]");
      for (int64_t h = 0; h < H; ++h) {
        HeadView<F> view{q.data<F>() + (b * T * H + h) * dk,
                         k.data<F>() + (b * T * H + h) * dk,
                         v.data<F>() + (b * T * H + h) * dv,
                         r.output.template data<F>() + (b * T * H + h) * dv,
                         H * dk,
                         H * dv,
                         dk,
                         dv};
        F *S = r.finalState.template data<F>() + (b * H + h) * dk * dv;
        if (mode == LightningMode::Recurrence)
          recurrence(view, S, len, slopes[h]);
        else
          blockwise(view, S, len, slopes[h], blockSize);
      }
    }
    return r;
  });
}

} // namespace mm::ref
