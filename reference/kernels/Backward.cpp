//===- Backward.cpp - reference kernels of the backward ops ---------------===//
//
// The gradient ops of ir/ops/GradientOps.td, written from their formulas as
// plainly as the forward kernels. They are checked against central finite
// differences of the forward kernels (test/autodiff/check_gradients.py).
//
//===----------------------------------------------------------------------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace mm::ref {

AttentionGradResult attentionBackward(const Tensor &q, const Tensor &k, const Tensor &v,
                                      const Tensor &o, const Tensor &dOut, bool causal,
                                      double scale, const Tensor *queryStart,
                                      const Tensor *keyMask) {
  const char *op = "mm.attention_grad";
  expectRank(q, 4, op, "query");
  expectRank(k, 4, op, "key");
  expectRank(v, 4, op, "value");
  int64_t B = q.dim(0), Tq = q.dim(1), Hq = q.dim(2), D = q.dim(3);
  int64_t Tk = k.dim(1), Hk = k.dim(2), Dv = v.dim(3);
  if (k.dim(0) != B || v.dim(0) != B || v.dim(1) != Tk || v.dim(2) != Hk || k.dim(3) != D ||
      Hk == 0 || Hq % Hk != 0 || o.shape() != Shape{B, Tq, Hq, Dv} || dOut.shape() != o.shape())
    throw makeError(op, ": shapes q ", formatShape(q.shape()), ", k ", formatShape(k.shape()),
                    ", v ", formatShape(v.shape()), ", o ", formatShape(o.shape()), ", do ",
                    formatShape(dOut.shape()), " do not fit");
  if (queryStart && !causal)
    throw makeError(op, ": query_start is for causal attention");
  int64_t group = Hq / Hk, start = causalQueryStart(op, queryStart, Tq, Tk);
  const KeyVisibility seen(op, keyMask, B, Tk);
  return withFloat(q, op, [&](auto tag) {
    using F = decltype(tag);
    AttentionGradResult r{Tensor::zeros(q.dtype(), q.shape()), Tensor::zeros(q.dtype(), k.shape()),
                          Tensor::zeros(q.dtype(), v.shape())};
    const F *Q = q.data<F>(), *K = k.data<F>(), *V = v.data<F>(), *O = o.data<F>(),
            *G = dOut.data<F>();
    F *dQ = r.query.data<F>(), *dK = r.key.data<F>(), *dV = r.value.data<F>();
    std::vector<F> p(Tk);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < Hq; ++h) {
        int64_t kh = h / group;
        for (int64_t i = 0; i < Tq; ++i) {
          const F *qi = Q + ((b * Tq + i) * Hq + h) * D;
          const F *oi = O + ((b * Tq + i) * Hq + h) * Dv, *gi = G + ((b * Tq + i) * Hq + h) * Dv;
          int64_t visible = causal ? std::min(start + i + 1, Tk) : Tk;
          // Recompute this row's probabilities.
          F mx = -std::numeric_limits<F>::infinity();
          for (int64_t j = 0; j < visible; ++j) {
            p[j] = seen(b, j) ? F(scale) * dot(qi, K + ((b * Tk + j) * Hk + kh) * D, D)
                              : -std::numeric_limits<F>::infinity();
            mx = std::max(mx, p[j]);
          }
          if (mx == -std::numeric_limits<F>::infinity())
            continue; // no key seen: the output was zero whatever q, k and v
          F sum = 0;
          for (int64_t j = 0; j < visible; ++j)
            sum += p[j] = std::exp(p[j] - mx);
          F rowD = dot(gi, oi, Dv);
          F *dqi = dQ + ((b * Tq + i) * Hq + h) * D;
          for (int64_t j = 0; j < visible; ++j) {
            F pj = p[j] / sum;
            const F *kj = K + ((b * Tk + j) * Hk + kh) * D, *vj = V + ((b * Tk + j) * Hk + kh) * Dv;
            F ds = pj * (dot(gi, vj, Dv) - rowD) * F(scale);
            F *dkj = dK + ((b * Tk + j) * Hk + kh) * D, *dvj = dV + ((b * Tk + j) * Hk + kh) * Dv;
            for (int64_t c = 0; c < D; ++c) {
              dqi[c] += ds * kj[c];
              dkj[c] += ds * qi[c];
            }
            for (int64_t c = 0; c < Dv; ++c)
              dvj[c] += pj * gi[c];
          }
        }
      }
    return r;
  });
}

namespace {
/// One (batch, head) of lightning attention's backward; rows of q/k/v/do are
/// `stride` apart, states are dk x dv row-major.
template <typename F> struct LightningHead {
  const F *q, *k, *v, *dOut;
  F *dq, *dk, *dv;
  int64_t stride, dk_, dv_;
};

template <typename F>
void lightningHeadBackward(const LightningHead<F> &h, const F *s0, const F *dFinal, F *dS0,
                           int64_t len, double slope, int64_t block) {
  int64_t DK = h.dk_, DV = h.dv_, blocks = (len + block - 1) / block;
  std::vector<F> decay(block + 2);
  for (int64_t n = 0; n <= block + 1; ++n)
    decay[n] = F(std::exp(-slope * double(n)));
  auto row = [&](const F *base, int64_t t) { return base + t * h.stride; };
  // Forward: the state before every block.
  std::vector<F> before(std::max<int64_t>(blocks, 1) * DK * DV);
  std::vector<F> S(DK * DV, F(0));
  if (s0)
    std::copy(s0, s0 + DK * DV, S.begin());
  for (int64_t blk = 0; blk < blocks; ++blk) {
    std::copy(S.begin(), S.end(), before.begin() + blk * DK * DV);
    int64_t start = blk * block, m = std::min(block, len - start);
    for (F &s : S)
      s *= decay[m];
    for (int64_t j = 0; j < m; ++j) {
      const F *kj = row(h.k, start + j), *vj = row(h.v, start + j);
      for (int64_t a = 0; a < DK; ++a)
        for (int64_t c = 0; c < DV; ++c)
          S[a * DV + c] += decay[m - 1 - j] * kj[a] * vj[c];
    }
  }
  // Backward: H is lambda^(e - c) times the state gradient from after the block.
  std::vector<F> H(DK * DV, F(0));
  if (dFinal)
    std::copy(dFinal, dFinal + DK * DV, H.begin());
  for (int64_t blk = blocks - 1; blk >= 0; --blk) {
    int64_t start = blk * block, m = std::min(block, len - start), e = m - 1;
    const F *Sb = before.data() + blk * DK * DV;
    for (int64_t c = 0; c < m; ++c) {
      int64_t t = start + c;
      const F *kc = row(h.k, t), *vc = row(h.v, t), *gc = row(h.dOut, t);
      F *dqc = h.dq + t * h.stride, *dkc = h.dk + t * h.stride, *dvc = h.dv + t * h.stride;
      // dq_c = lambda^(c+1) S_before do_c + sum_{j<=c} lambda^(c-j) (v_j . do_c) k_j
      for (int64_t a = 0; a < DK; ++a)
        dqc[a] = decay[c + 1] * dot(Sb + a * DV, gc, DV);
      for (int64_t j = 0; j <= c; ++j) {
        F w = decay[c - j] * dot(row(h.v, start + j), gc, DV);
        const F *kj = row(h.k, start + j);
        for (int64_t a = 0; a < DK; ++a)
          dqc[a] += w * kj[a];
      }
      // dk_c = sum_{s>=c} lambda^(s-c) (do_s . v_c) q_s + lambda^(e-c) H v_c
      // dv_c = sum_{s>=c} lambda^(s-c) (q_s . k_c) do_s + lambda^(e-c) H^T k_c
      for (int64_t a = 0; a < DK; ++a)
        dkc[a] = decay[e - c] * dot(H.data() + a * DV, vc, DV);
      for (int64_t col = 0; col < DV; ++col) {
        F acc = 0;
        for (int64_t a = 0; a < DK; ++a)
          acc += H[a * DV + col] * kc[a];
        dvc[col] = decay[e - c] * acc;
      }
      for (int64_t s = c; s < m; ++s) {
        const F *qs = row(h.q, start + s), *gs = row(h.dOut, start + s);
        F wk = decay[s - c] * dot(gs, vc, DV), wv = decay[s - c] * dot(qs, kc, DK);
        for (int64_t a = 0; a < DK; ++a)
          dkc[a] += wk * qs[a];
        for (int64_t col = 0; col < DV; ++col)
          dvc[col] += wv * gs[col];
      }
    }
    // H <- lambda G_start = lambda^m H + sum_s lambda^(s+1) q_s do_s^T.
    for (F &x : H)
      x *= decay[m];
    for (int64_t s = 0; s < m; ++s) {
      const F *qs = row(h.q, start + s), *gs = row(h.dOut, start + s);
      for (int64_t a = 0; a < DK; ++a)
        for (int64_t col = 0; col < DV; ++col)
          H[a * DV + col] += decay[s + 1] * qs[a] * gs[col];
    }
  }
  std::copy(H.begin(), H.end(), dS0);
}
} // namespace

LightningGradResult lightningAttentionBackward(const Tensor &q, const Tensor &k, const Tensor &v,
                                               const Tensor &dOut, const Tensor &dFinalState,
                                               const Tensor *initialState, const Tensor *lengths,
                                               const std::vector<double> &slopes,
                                               int64_t blockSize) {
  const char *op = "mm.lightning_attention_grad";
  expectRank(q, 4, op, "query");
  int64_t B = q.dim(0), T = q.dim(1), H = q.dim(2), DK = q.dim(3), DV = v.dim(3);
  if (k.shape() != q.shape() || v.rank() != 4 || v.dim(0) != B || v.dim(1) != T ||
      v.dim(2) != H || dOut.shape() != v.shape() || dFinalState.shape() != Shape{B, H, DK, DV} ||
      (initialState && initialState->shape() != dFinalState.shape()))
    throw makeError(op, ": shapes q ", formatShape(q.shape()), ", k ", formatShape(k.shape()),
                    ", v ", formatShape(v.shape()), ", do ", formatShape(dOut.shape()),
                    ", d final state ", formatShape(dFinalState.shape()), " do not fit");
  if (static_cast<int64_t>(slopes.size()) != H || blockSize <= 0)
    throw makeError(op, ": ", slopes.size(), " decay slopes for ", H, " heads");
  if (lengths && lengths->numel() != B)
    throw makeError(op, ": lengths has ", lengths->numel(), " entries for batch ", B);
  return withFloat(q, op, [&](auto tag) {
    using F = decltype(tag);
    LightningGradResult r{Tensor::zeros(q.dtype(), q.shape()), Tensor::zeros(q.dtype(), k.shape()),
                          Tensor::zeros(q.dtype(), v.shape()),
                          Tensor::zeros(q.dtype(), dFinalState.shape())};
    Tensor state = dFinalState.to(q.dtype());
    std::optional<Tensor> s0;
    if (initialState)
      s0 = initialState->to(q.dtype());
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = lengths ? lengths->data<int64_t>()[b] : T;
      if (len < 0 || len > T)
        throw makeError(op, ": length ", len, " of sequence ", b, " outside [0, ", T, "]");
      for (int64_t h = 0; h < H; ++h) {
        int64_t off = (b * T * H + h) * DK, offV = (b * T * H + h) * DV;
        LightningHead<F> head{q.data<F>() + off,  k.data<F>() + off,     v.data<F>() + offV,
                              dOut.data<F>() + offV, r.query.data<F>() + off,
                              r.key.data<F>() + off, r.value.data<F>() + offV,
                              H * DK,             DK,                    DV};
        if (DK != DV)
          throw makeError(op, ": key dim ", DK, " and value dim ", DV, " must agree");
        int64_t st = (b * H + h) * DK * DV;
        lightningHeadBackward<F>(head, s0 ? s0->data<F>() + st : nullptr,
                                 state.data<F>() + st, r.initialState.data<F>() + st, len,
                                 slopes[h], blockSize);
      }
    }
    return r;
  });
}

Tensor groupedMatmulWeightGrad(const Tensor &g, const Tensor &x, const Tensor &offsets) {
  const char *op = "mm.grouped_matmul_weight_grad";
  expectRank(g, 2, op, "grad_output");
  expectRank(x, 2, op, "input");
  expectSameType(g, x, op);
  int64_t R = x.dim(0), N = g.dim(1), K = x.dim(1), E = offsets.numel() - 1;
  if (g.dim(0) != R || E < 1)
    throw makeError(op, ": grad_output ", formatShape(g.shape()), " and input ",
                    formatShape(x.shape()), " with ", offsets.numel(), " offsets do not fit");
  // (A rank's block of the experts under ep: its groups lie anywhere in
  // [0, R]; rows outside them belong to other ranks' experts.)
  const int64_t *off = offsets.data<int64_t>();
  if (off[0] < 0 || off[E] > R)
    throw makeError(op, ": group offsets must lie in [0, ", R, "]");
  for (int64_t e = 0; e < E; ++e)
    if (off[e + 1] < off[e])
      throw makeError(op, ": group offsets decrease at expert ", e);
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor dw = Tensor::zeros(x.dtype(), {E, N, K});
    const F *G = g.data<F>(), *X = x.data<F>();
    F *W = dw.data<F>();
    for (int64_t e = 0; e < E; ++e)
      for (int64_t r = off[e]; r < off[e + 1]; ++r)
        for (int64_t n = 0; n < N; ++n)
          for (int64_t c = 0; c < K; ++c)
            W[(e * N + n) * K + c] += G[r * N + n] * X[r * K + c];
    return dw;
  });
}

Tensor crossEntropyBackward(const Tensor &logits, const Tensor &labels, const Tensor &gradLoss,
                            int64_t ignoreIndex, LossReduction reduction) {
  const char *op = "mm.cross_entropy_grad";
  if (logits.rank() < 1)
    throw makeError(op, ": logits need a class dimension");
  int64_t C = logits.dim(-1), N = labels.numel();
  bool perPosition = reduction == LossReduction::None;
  if (logits.numel() != N * C || gradLoss.numel() != (perPosition ? N : 1))
    throw makeError(op, ": labels ", formatShape(labels.shape()), " and grad_loss ",
                    formatShape(gradLoss.shape()), " do not match logits ",
                    formatShape(logits.shape()));
  return withFloat(logits, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor out = Tensor::zeros(logits.dtype(), logits.shape());
    Tensor g = gradLoss.to(logits.dtype());
    const F *l = logits.data<F>(), *gl = g.data<F>();
    const int64_t *y = labels.data<int64_t>();
    F *d = out.data<F>();
    int64_t count = 0;
    for (int64_t i = 0; i < N; ++i) {
      if (y[i] == ignoreIndex)
        continue;
      if (y[i] < 0 || y[i] >= C)
        throw makeError(op, ": label ", y[i], " outside [0, ", C, ")");
      ++count;
    }
    for (int64_t i = 0; i < N; ++i) {
      if (y[i] == ignoreIndex)
        continue;
      F scale = perPosition ? gl[i] : reduction == LossReduction::Sum ? gl[0] : gl[0] / F(count);
      const F *row = l + i * C;
      F mx = *std::max_element(row, row + C), sum = 0;
      for (int64_t c = 0; c < C; ++c)
        sum += std::exp(row[c] - mx);
      for (int64_t c = 0; c < C; ++c)
        d[i * C + c] = scale * (std::exp(row[c] - mx) / sum - F(c == y[i]));
    }
    return out;
  });
}

std::pair<Tensor, Tensor> conv2dBackward(const Tensor &x, const Tensor &w, const Tensor &g,
                                         const std::vector<int64_t> &strides,
                                         const std::vector<int64_t> &padding,
                                         const std::vector<int64_t> &dilation) {
  const char *op = "mm.conv2d_grad";
  expectRank(x, 4, op, "input");
  expectRank(w, 4, op, "weight");
  expectRank(g, 4, op, "grad_output");
  int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  int64_t O = w.dim(0), KH = w.dim(2), KW = w.dim(3), OH = g.dim(2), OW = g.dim(3);
  if (w.dim(1) != C || g.dim(0) != N || g.dim(1) != O)
    throw makeError(op, ": input ", formatShape(x.shape()), ", weight ", formatShape(w.shape()),
                    " and grad_output ", formatShape(g.shape()), " do not fit");
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor dx = Tensor::zeros(x.dtype(), x.shape()), dw = Tensor::zeros(x.dtype(), w.shape());
    const F *in = x.data<F>(), *k = w.data<F>(), *gy = g.data<F>();
    F *dIn = dx.data<F>(), *dK = dw.data<F>();
    // The forward's loops, each product's two partial derivatives accumulated.
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            F go = gy[((n * O + o) * OH + oh) * OW + ow];
            for (int64_t c = 0; c < C; ++c)
              for (int64_t kh = 0; kh < KH; ++kh) {
                int64_t ih = oh * strides[0] - padding[0] + kh * dilation[0];
                if (ih < 0 || ih >= H)
                  continue;
                for (int64_t kw = 0; kw < KW; ++kw) {
                  int64_t iw = ow * strides[1] - padding[1] + kw * dilation[1];
                  if (iw < 0 || iw >= W)
                    continue;
                  int64_t xi = ((n * C + c) * H + ih) * W + iw, ki = ((o * C + c) * KH + kh) * KW + kw;
                  dIn[xi] += go * k[ki];
                  dK[ki] += go * in[xi];
                }
              }
          }
    return std::make_pair(dx, dw);
  });
}

std::pair<Tensor, Tensor> conv1dBackward(const Tensor &x, const Tensor &w, const Tensor &g,
                                         int64_t stride, int64_t dilation, int64_t padBefore) {
  const char *op = "mm.conv1d_grad";
  expectRank(x, 3, op, "input");
  expectRank(w, 3, op, "weight");
  expectRank(g, 3, op, "grad_output");
  int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2), O = w.dim(0), K = w.dim(2), L = g.dim(1);
  if (w.dim(1) != C || g.dim(0) != B || g.dim(2) != O)
    throw makeError(op, ": input ", formatShape(x.shape()), ", weight ", formatShape(w.shape()),
                    " and grad_output ", formatShape(g.shape()), " do not fit");
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor dx = Tensor::zeros(x.dtype(), x.shape()), dw = Tensor::zeros(x.dtype(), w.shape());
    const F *in = x.data<F>(), *k = w.data<F>(), *gy = g.data<F>();
    F *dIn = dx.data<F>(), *dK = dw.data<F>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t o = 0; o < O; ++o) {
          F go = gy[(b * L + l) * O + o];
          for (int64_t j = 0; j < K; ++j) {
            int64_t t = l * stride - padBefore + j * dilation;
            if (t < 0 || t >= T)
              continue;
            for (int64_t c = 0; c < C; ++c) {
              dIn[(b * T + t) * C + c] += go * k[(o * C + c) * K + j];
              dK[(o * C + c) * K + j] += go * in[(b * T + t) * C + c];
            }
          }
        }
    return std::make_pair(dx, dw);
  });
}

std::vector<Tensor> gruBackward(const Tensor &x, const Tensor &wih, const Tensor &whh,
                                const Tensor &bih, const Tensor &bhh, const Tensor &h0,
                                const Tensor &sequence, const Tensor &gradSequence,
                                const Tensor &gradLast) {
  const char *op = "mm.gru_grad";
  expectRank(x, 3, op, "input");
  int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), H = whh.dim(1);
  if (wih.dim(0) != 3 * H || wih.dim(1) != I || whh.dim(0) != 3 * H || bih.numel() != 3 * H ||
      bhh.numel() != 3 * H || h0.numel() != B * H || sequence.numel() != B * T * H ||
      gradSequence.numel() != B * T * H || gradLast.numel() != B * H)
    throw makeError(op, ": operands do not fit input ", formatShape(x.shape()),
                    " and hidden size ", H);
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor dx = Tensor::zeros(x.dtype(), x.shape()), dwih = Tensor::zeros(x.dtype(), wih.shape()),
           dwhh = Tensor::zeros(x.dtype(), whh.shape()), dbih = Tensor::zeros(x.dtype(), bih.shape()),
           dbhh = Tensor::zeros(x.dtype(), bhh.shape()), dh0 = Tensor::zeros(x.dtype(), h0.shape());
    const F *in = x.data<F>(), *Wi = wih.data<F>(), *Wh = whh.data<F>(), *bi = bih.data<F>(),
            *bh = bhh.data<F>(), *seq = sequence.data<F>(), *gs = gradSequence.data<F>();
    F *dIn = dx.data<F>(), *dWi = dwih.data<F>(), *dWh = dwhh.data<F>(), *dbi = dbih.data<F>(),
      *dbh = dbhh.data<F>();
    std::vector<F> gi(3 * H), gh(3 * H), dGi(3 * H), dGh(3 * H), dh(H), dhPrev(H);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t j = 0; j < H; ++j)
        dh[j] = gradLast.data<F>()[b * H + j] + gs[(b * T + T - 1) * H + j];
      for (int64_t t = T - 1; t >= 0; --t) {
        const F *xt = in + (b * T + t) * I;
        const F *hPrev = t > 0 ? seq + (b * T + t - 1) * H : h0.data<F>() + b * H;
        for (int64_t g = 0; g < 3 * H; ++g) { // the forward's gate pre-activations, again
          gi[g] = dot(Wi + g * I, xt, I) + bi[g];
          gh[g] = dot(Wh + g * H, hPrev, H) + bh[g];
        }
        for (int64_t j = 0; j < H; ++j) {
          F r = F(1) / (F(1) + std::exp(-(gi[j] + gh[j])));
          F z = F(1) / (F(1) + std::exp(-(gi[H + j] + gh[H + j])));
          F n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
          F dn = dh[j] * (F(1) - z), dz = dh[j] * (hPrev[j] - n);
          F dan = dn * (F(1) - n * n);
          F dar = dan * gh[2 * H + j] * r * (F(1) - r), daz = dz * z * (F(1) - z);
          dGi[j] = dar;
          dGi[H + j] = daz;
          dGi[2 * H + j] = dan;
          dGh[j] = dar;
          dGh[H + j] = daz;
          dGh[2 * H + j] = dan * r;
          dhPrev[j] = dh[j] * z;
        }
        for (int64_t g = 0; g < 3 * H; ++g) {
          dbi[g] += dGi[g];
          dbh[g] += dGh[g];
          for (int64_t k = 0; k < I; ++k) {
            dWi[g * I + k] += dGi[g] * xt[k];
            dIn[(b * T + t) * I + k] += dGi[g] * Wi[g * I + k];
          }
          for (int64_t k = 0; k < H; ++k) {
            dWh[g * H + k] += dGh[g] * hPrev[k];
            dhPrev[k] += dGh[g] * Wh[g * H + k];
          }
        }
        for (int64_t j = 0; j < H; ++j)
          dh[j] = dhPrev[j] + (t > 0 ? gs[(b * T + t - 1) * H + j] : F(0));
      }
      std::copy(dh.begin(), dh.end(), dh0.data<F>() + b * H);
    }
    return std::vector<Tensor>{dx, dwih, dwhh, dbih, dbhh, dh0};
  });
}

} // namespace mm::ref
