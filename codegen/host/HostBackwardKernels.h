//===- HostBackwardKernels.h - generated host kernels of the backward ops -*- C++ -*-===//
//
// The backward ops of ir/ops/GradientOps.td for generated host code, copied
// verbatim after HostKernels.h (whose helpers they use). Each mirrors its
// reference kernel (reference/kernels/Backward.cpp) and is tested against it
// through `mm-run eval --backend cpu` of @F_grad functions
// (test/autodiff/check_gradients.py). Data are float32; sums of a row
// accumulate in double where a row can be long (softmax denominators).
//
//===----------------------------------------------------------------------===//
#ifndef MM_HOST_BACKWARD_KERNELS_H
#define MM_HOST_BACKWARD_KERNELS_H

namespace mmh {

/// mm.cross_entropy_grad over [rows, classes]: (softmax - onehot) * g per
/// counted row; g is grad[0] (sum), grad[0] / count (mean) or grad[r] (none).
inline int cross_entropy_grad(const mm_kernel_ctx *c, const float *logits, int64_t rows,
                              int64_t classes, const int64_t *labels, int64_t ignore,
                              loss_reduction reduction, const float *grad, float *out) {
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (labels[r] == ignore)
      continue;
    if (labels[r] < 0 || labels[r] >= classes)
      return fail(c, "mm.cross_entropy_grad: a label is outside [0, classes)");
    ++counted;
  }
#pragma omp parallel for schedule(static) if (rows * classes > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    float *d = out + r * classes;
    if (labels[r] == ignore) {
      std::fill(d, d + classes, 0.0f);
      continue;
    }
    float scale = reduction == loss_none  ? grad[r]
                  : reduction == loss_sum ? grad[0]
                                          : grad[0] / float(counted);
    const float *row = logits + r * classes;
    exp_sum_parts lse = exp_sum(row, classes);
    float inv = float(1.0 / lse.sum);
    for (int64_t j = 0; j < classes; ++j)
      d[j] = scale * (std::exp(row[j] - lse.max) * inv - (j == labels[r] ? 1.0f : 0.0f));
  }
  return 0;
}

/// mm.grouped_matmul_weight_grad: dw[e] = sum over rows r of group e of
/// g[r]^T x[r], g [rows, N], x [rows, K], dw [E, N, K].
inline int grouped_gemm_weight_grad(const mm_kernel_ctx *c, const float *g, const float *x,
                                    const int64_t *offsets, int64_t rows, int64_t E, int64_t N,
                                    int64_t K, float *dw) {
  // (A rank's block of the experts under ep: its groups lie anywhere in
  // [0, rows]; rows outside them belong to other ranks' experts.)
  if (offsets[0] < 0 || offsets[E] > rows)
    return fail(c, "mm.grouped_matmul_weight_grad: group offsets must lie in [0, rows]");
  for (int64_t e = 0; e < E; ++e)
    if (offsets[e] > offsets[e + 1])
      return fail(c, "mm.grouped_matmul_weight_grad: group offsets must not decrease");
#pragma omp parallel for collapse(2) schedule(static) if (rows * N * K > (1 << 16))
  for (int64_t e = 0; e < E; ++e)
    for (int64_t n = 0; n < N; ++n) {
      float *w = dw + (e * N + n) * K;
      std::fill(w, w + K, 0.0f);
      for (int64_t r = offsets[e]; r < offsets[e + 1]; ++r) {
        float gn = g[r * N + n];
        const float *xr = x + r * K;
        for (int64_t k = 0; k < K; ++k)
          w[k] += gn * xr[k];
      }
    }
  return 0;
}

/// mm.attention_grad without a cache: per query row the probabilities are
/// recomputed, then ds = p (do . v - do . o) scale flows to dq and dk, p do to
/// dv. One thread owns a (batch, kv head) pair, so the dk / dv sums of its
/// query heads never race. Query i sits at key position start + i; keys where
/// `key_mask` (when given) is zero take no part.
inline void attention_grad(const float *q, const float *k, const float *v, const float *o,
                           const float *dout, int64_t B, int64_t Tq, int64_t Tk, int64_t Hq,
                           int64_t Hk, int64_t D, int64_t Dv, bool causal, int64_t start,
                           const float *key_mask, float scale, float *dq, float *dk, float *dv) {
  // A gradient nothing reads (null) still takes part in the sums: scratch.
  std::vector<float> scratch_q(dq ? 0 : B * Tq * Hq * D), scratch_k(dk ? 0 : B * Tk * Hk * D),
      scratch_v(dv ? 0 : B * Tk * Hk * Dv);
  dq = dq ? dq : scratch_q.data();
  dk = dk ? dk : scratch_k.data();
  dv = dv ? dv : scratch_v.data();
  int64_t group = Hq / Hk;
  std::fill(dk, dk + B * Tk * Hk * D, 0.0f);
  std::fill(dv, dv + B * Tk * Hk * Dv, 0.0f);
#pragma omp parallel if (B * Hk > 1)
  {
    std::vector<float> p(Tk);
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t kh = 0; kh < Hk; ++kh)
        for (int64_t h = kh * group; h < (kh + 1) * group; ++h)
          for (int64_t i = 0; i < Tq; ++i) {
            const float *qi = q + ((b * Tq + i) * Hq + h) * D;
            const float *oi = o + ((b * Tq + i) * Hq + h) * Dv;
            const float *gi = dout + ((b * Tq + i) * Hq + h) * Dv;
            float *dqi = dq + ((b * Tq + i) * Hq + h) * D;
            std::fill(dqi, dqi + D, 0.0f);
            int64_t visible = causal ? std::min(start + i + 1, Tk) : Tk;
            const float *seen = key_mask ? key_mask + b * Tk : nullptr;
            float mx = -INFINITY;
            for (int64_t j = 0; j < visible; ++j) {
              p[j] = !seen || seen[j] != 0.0f ? scale * dot(qi, k + ((b * Tk + j) * Hk + kh) * D, D)
                                              : -INFINITY;
              mx = std::max(mx, p[j]);
            }
            if (mx == -INFINITY) // no key seen: a zero row whatever q, k and v
              continue;
            double sum = 0;
            for (int64_t j = 0; j < visible; ++j)
              sum += p[j] = std::exp(p[j] - mx);
            float inv = float(1.0 / sum), rowD = dot(gi, oi, Dv);
            for (int64_t j = 0; j < visible; ++j) {
              if (p[j] == 0.0f)
                continue; // (a hidden key, or one whose weight underflowed)
              const float *kj = k + ((b * Tk + j) * Hk + kh) * D;
              const float *vj = v + ((b * Tk + j) * Hk + kh) * Dv;
              float pj = p[j] * inv, ds = pj * (dot(gi, vj, Dv) - rowD) * scale;
              float *dkj = dk + ((b * Tk + j) * Hk + kh) * D;
              float *dvj = dv + ((b * Tk + j) * Hk + kh) * Dv;
              for (int64_t e = 0; e < D; ++e) {
                dqi[e] += ds * kj[e];
                dkj[e] += ds * qi[e];
              }
              for (int64_t e = 0; e < Dv; ++e)
                dvj[e] += pj * gi[e];
            }
          }
  }
}

/// mm.lightning_attention_grad for [B, T, H, D] q/k/v/do: per (batch, head)
/// the states before each block are recomputed forwards, then the blocks run
/// backwards carrying H = lambda G (the state gradient from after the block).
inline int lightning_grad(const mm_kernel_ctx *c, const float *q, const float *k, const float *v,
                          const float *dout, const float *dfinal, const float *s0,
                          const int64_t *lengths, int64_t B, int64_t T, int64_t H, int64_t D,
                          int64_t block, const double *slopes, float *dq, float *dk, float *dv,
                          float *ds0) {
  for (int64_t b = 0; b < B; ++b)
    if (lengths && (lengths[b] < 0 || lengths[b] > T))
      return fail(c, "mm.lightning_attention_grad: a sequence length is outside [0, T]");
  // A gradient nothing reads (null) is still formed: scratch.
  std::vector<float> scratch_q(dq ? 0 : B * T * H * D), scratch_k(dk ? 0 : B * T * H * D),
      scratch_v(dv ? 0 : B * T * H * D);
  dq = dq ? dq : scratch_q.data();
  dk = dk ? dk : scratch_k.data();
  dv = dv ? dv : scratch_v.data();
  std::fill(dq, dq + B * T * H * D, 0.0f);
  std::fill(dk, dk + B * T * H * D, 0.0f);
  std::fill(dv, dv + B * T * H * D, 0.0f);
#pragma omp parallel if (B * H > 1 && B * H * T * D * D > (1 << 15)) // (as lightning's)
  {
    std::vector<float> decay(block + 2), S(D * D), G(D * D), before;
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        int64_t len = lengths ? lengths[b] : T, blocks = (len + block - 1) / block;
        for (int64_t n = 0; n <= block + 1; ++n)
          decay[n] = float(std::exp(-slopes[h] * double(n)));
        auto at = [&](int64_t t) { return ((b * T + t) * H + h) * D; };
        const int64_t state = (b * H + h) * D * D;
        before.assign(size_t(std::max<int64_t>(blocks, 1) * D * D), 0.0f);
        if (s0)
          std::copy(s0 + state, s0 + state + D * D, S.begin());
        else
          std::fill(S.begin(), S.end(), 0.0f);
        for (int64_t blk = 0; blk < blocks; ++blk) {
          std::copy(S.begin(), S.end(), before.begin() + blk * D * D);
          int64_t start = blk * block, m = std::min(block, len - start);
          for (float &s : S)
            s *= decay[m];
          for (int64_t j = 0; j < m; ++j) {
            const float *kj = k + at(start + j), *vj = v + at(start + j);
            for (int64_t a = 0; a < D; ++a) {
              float w = decay[m - 1 - j] * kj[a];
              for (int64_t e = 0; e < D; ++e)
                S[a * D + e] += w * vj[e];
            }
          }
        }
        std::copy(dfinal + state, dfinal + state + D * D, G.begin());
        for (int64_t blk = blocks - 1; blk >= 0; --blk) {
          int64_t start = blk * block, m = std::min(block, len - start), last = m - 1;
          const float *Sb = before.data() + blk * D * D;
          for (int64_t i = 0; i < m; ++i) {
            const float *ki = k + at(start + i), *vi = v + at(start + i), *gi = dout + at(start + i);
            float *dqi = dq + at(start + i), *dki = dk + at(start + i), *dvi = dv + at(start + i);
            for (int64_t a = 0; a < D; ++a) {
              dqi[a] = decay[i + 1] * dot(Sb + a * D, gi, D);
              dki[a] = decay[last - i] * dot(G.data() + a * D, vi, D);
            }
            for (int64_t e = 0; e < D; ++e) {
              float acc = 0;
              for (int64_t a = 0; a < D; ++a)
                acc += G[a * D + e] * ki[a];
              dvi[e] = decay[last - i] * acc;
            }
            for (int64_t j = 0; j <= i; ++j) { // intra: lambda^(i-j) (v_j . do_i) k_j
              float w = decay[i - j] * dot(v + at(start + j), gi, D);
              const float *kj = k + at(start + j);
              for (int64_t a = 0; a < D; ++a)
                dqi[a] += w * kj[a];
            }
            for (int64_t s = i; s < m; ++s) {
              const float *qs = q + at(start + s), *gs = dout + at(start + s);
              float wk = decay[s - i] * dot(gs, vi, D), wv = decay[s - i] * dot(qs, ki, D);
              for (int64_t a = 0; a < D; ++a) {
                dki[a] += wk * qs[a];
                dvi[a] += wv * gs[a];
              }
            }
          }
          for (float &g : G)
            g *= decay[m];
          for (int64_t s = 0; s < m; ++s) {
            const float *qs = q + at(start + s), *gs = dout + at(start + s);
            for (int64_t a = 0; a < D; ++a) {
              float w = decay[s + 1] * qs[a];
              for (int64_t e = 0; e < D; ++e)
                G[a * D + e] += w * gs[e];
            }
          }
        }
        if (ds0)
          std::copy(G.begin(), G.end(), ds0 + state);
      }
  }
  return 0;
}

/// mm.conv1d_grad for x [N, L, Ci], w [Co, Ci, K], gy [N, Lo, Co] (stride,
/// dilation, `before` zero padding as the forward). The input gradient is
/// gathered per input position (the output positions whose window read it),
/// the weight gradient summed per weight element over (n, o): no two threads
/// write one value and each sum has one fixed order, so the result is the same
/// at any thread count. A null output is a gradient nothing reads.
inline void conv1d_grad(const float *x, int64_t N, int64_t L, int64_t Ci, const float *w,
                        int64_t Co, int64_t K, const float *gy, int64_t Lo, int64_t stride,
                        int64_t dilation, int64_t before, float *gx, float *gw) {
  if (gx) {
#pragma omp parallel for collapse(2) schedule(static) if (N * L * Ci > (1 << 12))
    for (int64_t n = 0; n < N; ++n)
      for (int64_t t = 0; t < L; ++t)
        for (int64_t ci = 0; ci < Ci; ++ci) {
          float acc = 0.0f;
          for (int64_t k = 0; k < K; ++k) {
            int64_t shifted = t + before - k * dilation; // = o * stride
            if (shifted < 0 || shifted % stride != 0 || shifted / stride >= Lo)
              continue;
            const float *g = gy + (n * Lo + shifted / stride) * Co;
            for (int64_t co = 0; co < Co; ++co)
              acc += g[co] * w[(co * Ci + ci) * K + k];
          }
          gx[(n * L + t) * Ci + ci] = acc;
        }
  }
  if (gw) {
#pragma omp parallel for collapse(2) schedule(static) if (Co * Ci * N * Lo > (1 << 12))
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t ci = 0; ci < Ci; ++ci)
        for (int64_t k = 0; k < K; ++k) {
          float acc = 0.0f;
          for (int64_t n = 0; n < N; ++n)
            for (int64_t o = 0; o < Lo; ++o) {
              int64_t at = o * stride - before + k * dilation;
              if (at >= 0 && at < L)
                acc += gy[(n * Lo + o) * Co + co] * x[(n * L + at) * Ci + ci];
            }
          gw[(co * Ci + ci) * K + k] = acc;
        }
  }
}

/// mm.conv2d_grad for NCHW x [N, Ci, H, Wd], OIHW w [Co, Ci, KH, KW] and gy
/// [N, Co, Ho, Wo] (strides, symmetric padding, dilation as the forward), as
/// two GEMMs per image over its patch matrix (im2col, as the forward gathers
/// patches), K = Ci * KH * KW and P = Ho * Wo:
///   the weight gradient  gw [Co, K] += gy_n [Co, P] . patches_n^T [P, K];
///   the input gradient   d patches_n [P, K] = gy_n^T [P, Co] . w [Co, K],
///   spread back onto the image (col2im), one channel per thread.
/// Each value is summed in one fixed order (images in turn; gemm's dot
/// products; positions in turn): the same at any thread count. A null output
/// is a gradient nothing reads.
inline void conv2d_grad(const float *x, int64_t N, int64_t Ci, int64_t H, int64_t Wd,
                        const float *w, int64_t Co, int64_t KH, int64_t KW, const float *gy,
                        int64_t Ho, int64_t Wo, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                        int64_t dh, int64_t dw, float *gx, float *gw) {
  const int64_t K = Ci * KH * KW, P = Ho * Wo;
  // The input element tap kk of output position p reads, or -1 in the padding.
  auto tapOf = [&](int64_t p, int64_t kk) -> int64_t {
    int64_t ci = kk / (KH * KW), kh = kk / KW % KH, kw = kk % KW;
    int64_t ih = p / Wo * sh - ph + kh * dh, iw = p % Wo * sw - pw + kw * dw;
    return ih >= 0 && ih < H && iw >= 0 && iw < Wd ? (ci * H + ih) * Wd + iw : -1;
  };
  if (gw) {
    std::fill(gw, gw + Co * K, 0.0f);
    std::vector<float> patchesT(size_t(K * P)); // [K, P]: contiguous along the positions
    for (int64_t n = 0; n < N; ++n) {
      const float *image = x + n * Ci * H * Wd;
#pragma omp parallel for schedule(static) if (K * P > (1 << 15))
      for (int64_t kk = 0; kk < K; ++kk)
        for (int64_t p = 0; p < P; ++p) {
          int64_t at = tapOf(p, kk);
          patchesT[kk * P + p] = at < 0 ? 0.0f : image[at];
        }
      gemm(gy + n * Co * P, Co, P, patchesT.data(), K,
           [&](int64_t co, int64_t kk, float v) { gw[co * K + kk] += v; });
    }
  }
  if (gx) {
    std::vector<float> wT(size_t(K * Co)), gyT(size_t(P * Co)), dPatches(size_t(P * K));
    for (int64_t co = 0; co < Co; ++co)
      for (int64_t kk = 0; kk < K; ++kk)
        wT[kk * Co + co] = w[co * K + kk];
    for (int64_t n = 0; n < N; ++n) {
      const float *g = gy + n * Co * P;
      for (int64_t co = 0; co < Co; ++co)
        for (int64_t p = 0; p < P; ++p)
          gyT[p * Co + co] = g[co * P + p];
      gemm(gyT.data(), P, Co, wT.data(), K,
           [&](int64_t p, int64_t kk, float v) { dPatches[p * K + kk] = v; });
      float *image = gx + n * Ci * H * Wd;
#pragma omp parallel for schedule(static) if (Ci * H * Wd > (1 << 14))
      for (int64_t ci = 0; ci < Ci; ++ci) {
        std::fill(image + ci * H * Wd, image + (ci + 1) * H * Wd, 0.0f);
        for (int64_t p = 0; p < P; ++p)
          for (int64_t kk = ci * KH * KW; kk < (ci + 1) * KH * KW; ++kk) {
            int64_t at = tapOf(p, kk);
            if (at >= 0)
              image[at] += dPatches[p * K + kk];
          }
      }
    }
  }
}

/// mm.gru_grad: backpropagation through time for x [B, T, I], weights
/// [3H, I] and [3H, H], biases [3H], initial state h0 [B, H], the forward
/// states seq [B, T, H] and the result gradients gseq [B, T, H], glast [B, H].
/// Phase 1 runs each batch row backwards in time (rows in parallel),
/// recomputing the gates, and keeps the gate gradients; phase 2 forms the
/// weight and bias gradients from them row by row of the weights (each
/// output summed in one fixed order: deterministic at any thread count).
/// A null output is a gradient nothing reads: not written.
inline void gru_grad(const float *x, int64_t B, int64_t T, int64_t I, int64_t H,
                     const float *wih, const float *whh, const float *bih, const float *bhh,
                     const float *h0, const float *seq, const float *gseq, const float *glast,
                     float *dx, float *dwih, float *dwhh, float *dbih, float *dbhh, float *dh0) {
  std::vector<float> dGi(size_t(B * T * 3 * H)), dGh(size_t(B * T * 3 * H));
  auto prevOf = [&](int64_t b, int64_t t) { return t > 0 ? seq + (b * T + t - 1) * H : h0 + b * H; };
#pragma omp parallel if (B * T * H * (I + H) > (1 << 16))
  {
    std::vector<float> gi(3 * H), gh(3 * H), dh(H), dhPrev(H);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t j = 0; j < H; ++j)
        dh[j] = glast[b * H + j] + gseq[(b * T + T - 1) * H + j];
      for (int64_t t = T - 1; t >= 0; --t) {
        const float *xt = x + (b * T + t) * I, *hPrev = prevOf(b, t);
        for (int64_t g = 0; g < 3 * H; ++g) {
          gi[g] = dot(xt, wih + g * I, I) + bih[g];
          gh[g] = dot(hPrev, whh + g * H, H) + bhh[g];
        }
        float *dgi = dGi.data() + (b * T + t) * 3 * H, *dgh = dGh.data() + (b * T + t) * 3 * H;
        for (int64_t j = 0; j < H; ++j) {
          float r = 1.0f / (1.0f + std::exp(-(gi[j] + gh[j])));
          float z = 1.0f / (1.0f + std::exp(-(gi[H + j] + gh[H + j])));
          float n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
          float dn = dh[j] * (1.0f - z), dz = dh[j] * (hPrev[j] - n);
          float dan = dn * (1.0f - n * n);
          dgi[j] = dgh[j] = dan * gh[2 * H + j] * r * (1.0f - r);
          dgi[H + j] = dgh[H + j] = dz * z * (1.0f - z);
          dgi[2 * H + j] = dan;
          dgh[2 * H + j] = dan * r;
          dhPrev[j] = dh[j] * z;
        }
        float *dxt = dx ? dx + (b * T + t) * I : nullptr;
        for (int64_t k = 0; dxt && k < I; ++k)
          dxt[k] = 0.0f;
        for (int64_t g = 0; g < 3 * H; ++g) {
          for (int64_t k = 0; dxt && k < I; ++k)
            dxt[k] += dgi[g] * wih[g * I + k];
          for (int64_t k = 0; k < H; ++k)
            dhPrev[k] += dgh[g] * whh[g * H + k];
        }
        for (int64_t j = 0; j < H; ++j)
          dh[j] = dhPrev[j] + (t > 0 ? gseq[(b * T + t - 1) * H + j] : 0.0f);
      }
      for (int64_t j = 0; dh0 && j < H; ++j)
        dh0[b * H + j] = dh[j];
    }
  }
  if (!dwih && !dwhh && !dbih && !dbhh)
    return;
#pragma omp parallel for schedule(static) if (B * T * H * (I + H) > (1 << 16))
  for (int64_t g = 0; g < 3 * H; ++g) {
    std::vector<float> wi(size_t(I), 0.0f), wh(size_t(H), 0.0f);
    float bi = 0, bh = 0;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        float gI = dGi[size_t((b * T + t) * 3 * H + g)], gH = dGh[size_t((b * T + t) * 3 * H + g)];
        const float *xt = x + (b * T + t) * I, *hPrev = prevOf(b, t);
        bi += gI;
        bh += gH;
        for (int64_t k = 0; k < I; ++k)
          wi[k] += gI * xt[k];
        for (int64_t k = 0; k < H; ++k)
          wh[k] += gH * hPrev[k];
      }
    if (dwih)
      std::copy(wi.begin(), wi.end(), dwih + g * I);
    if (dwhh)
      std::copy(wh.begin(), wh.end(), dwhh + g * H);
    if (dbih)
      dbih[g] = bi;
    if (dbhh)
      dbhh[g] = bh;
  }
}

} // namespace mmh

#endif // MM_HOST_BACKWARD_KERNELS_H
