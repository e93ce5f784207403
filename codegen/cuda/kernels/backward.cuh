//===- backward.cuh - backward kernels of the training step ----------------===//
//
// The backward ops of ir/ops/GradientOps.td as codegen/host/HostBackwardKernels.h
// computes them: cross-entropy, the grouped GEMM's weight gradient, the
// convolutions' input and weight gradients, and softmax attention's. Every
// output element is written by one thread that sums its terms in a fixed
// order (no atomics: the result does not depend on scheduling). Correct for
// every shape, not tuned. A null output is a gradient nothing reads.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_BACKWARD_CUH
#define MM_CUDA_BACKWARD_CUH

#include "loss.cuh"

/// The rows of [rows] labels that are not `ignore`, as a double in *count, and
/// kIndexOutOfRange for a label outside [0, classes). Launch: one block of THREADS.
template <int THREADS>
__device__ __forceinline__ void mm_count_labels_kernel(const mm_i64 *labels, mm_i64 rows,
                                                       mm_i64 classes, mm_i64 ignore, double *count,
                                                       int *error) {
  double counted = 0;
  for (mm_i64 r = threadIdx.x; r < rows; r += THREADS) {
    if (labels[r] == ignore)
      continue;
    if (labels[r] < 0 || labels[r] >= classes)
      mm_report_error(error, mmk::kIndexOutOfRange);
    counted += 1.0;
  }
  counted = mm_block_sum_double<THREADS>(counted);
  if (threadIdx.x == 0)
    *count = counted;
}

/// mm.cross_entropy_grad, row r of [rows, classes]: (softmax - onehot) * g,
/// g = grad[r * gradStride] (REDUCTION 0, none; a splat gradient has stride
/// 0), grad[0] (1, sum) or grad[0] / count (2, mean); zeros for an ignored row
/// or after kIndexOutOfRange.
/// Launch: block THREADS, grid up to rows.
template <int THREADS, int REDUCTION>
__device__ __forceinline__ void
mm_cross_entropy_grad_kernel(const float *logits, const mm_i64 *labels, mm_i64 rows, mm_i64 classes,
                             mm_i64 ignore, const float *grad, mm_i64 gradStride,
                             const double *count, float *out, const int *error) {
  for (mm_i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    float *d = out + r * classes;
    const mm_i64 label = labels[r];
    if (label == ignore || *error != 0) {
      for (mm_i64 j = threadIdx.x; j < classes; j += THREADS)
        d[j] = 0.0f;
      continue;
    }
    const float scale = REDUCTION == 0   ? grad[r * gradStride]
                        : REDUCTION == 1 ? grad[0]
                                         : grad[0] / (float)*count;
    const float *row = logits + r * classes;
    float m = mm_neg_inf();
    for (mm_i64 j = threadIdx.x; j < classes; j += THREADS)
      m = fmaxf(m, row[j]);
    m = mm_block_max<THREADS>(m);
    double sum = 0;
    for (mm_i64 j = threadIdx.x; j < classes; j += THREADS)
      sum += (double)expf(row[j] - m);
    sum = mm_block_sum_double<THREADS>(sum);
    const float inv = (float)(1.0 / sum);
    for (mm_i64 j = threadIdx.x; j < classes; j += THREADS)
      d[j] = scale * (expf(row[j] - m) * inv - (j == label ? 1.0f : 0.0f));
  }
}

/// mm.grouped_matmul_weight_grad: dw[e, n, k] = sum over the rows r of group e
/// (offsets[e] <= r < offsets[e + 1]) of g[r, n] x[r, k]; g [rows, N], x [rows,
/// K]. Offsets outside [0, rows] or decreasing set kBadGroupOffsets (dw is
/// then zero). Launch: elementwise over E * N * K.
__device__ __forceinline__ void mm_grouped_weight_grad_kernel(const float *g, const float *x,
                                                              const mm_i64 *offsets, float *dw,
                                                              mm_i64 rows, mm_i64 E, mm_i64 N,
                                                              mm_i64 K, int *error) {
  bool valid = offsets[0] >= 0 && offsets[E] <= rows;
  for (mm_i64 e = 0; e < E; ++e)
    valid = valid && offsets[e] <= offsets[e + 1];
  const mm_i64 n = E * N * K;
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (mm_i64)gridDim.x * blockDim.x) {
    if (!valid) {
      if (i == 0)
        mm_report_error(error, mmk::kBadGroupOffsets);
      dw[i] = 0.0f;
      continue;
    }
    const mm_i64 k = i % K, c = (i / K) % N, e = i / (K * N);
    float acc = 0.0f;
    for (mm_i64 r = offsets[e]; r < offsets[e + 1]; ++r)
      acc += g[r * N + c] * x[r * K + k];
    dw[i] = acc;
  }
}

/// mm.conv1d_grad, channels-last: gx [N, L, CI] (when not null) and gw [CO,
/// CI, K] (when not null) of the forward mm_conv1d_kernel, from gy [N, Lo, CO].
/// Launch: elementwise over max(N * L * CI, CO * CI * K).
template <int CI, int CO, int K>
__device__ __forceinline__ void
mm_conv1d_grad_kernel(const float *x, const float *w, const float *gy, float *gx, float *gw,
                      mm_i64 N, mm_i64 L, mm_i64 Lo, int stride, int dilation, int before) {
  const mm_i64 nx = gx ? N * L * CI : 0, nw = gw ? (mm_i64)CO * CI * K : 0;
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < nx;
       i += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 ci = i % CI, t = (i / CI) % L, b = i / (CI * L);
    float acc = 0.0f;
    for (int k = 0; k < K; ++k) {
      const mm_i64 shifted = t + before - (mm_i64)k * dilation; // = o * stride
      if (shifted < 0 || shifted % stride != 0 || shifted / stride >= Lo)
        continue;
      const float *g = gy + (b * Lo + shifted / stride) * CO;
      for (int co = 0; co < CO; ++co)
        acc += g[co] * w[(co * CI + ci) * K + k];
    }
    gx[i] = acc;
  }
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < nw;
       i += (mm_i64)gridDim.x * blockDim.x) {
    const int k = (int)(i % K), ci = (int)((i / K) % CI), co = (int)(i / (K * CI));
    float acc = 0.0f;
    for (mm_i64 b = 0; b < N; ++b)
      for (mm_i64 o = 0; o < Lo; ++o) {
        const mm_i64 at = o * stride - before + (mm_i64)k * dilation;
        if (at >= 0 && at < L)
          acc += gy[(b * Lo + o) * CO + co] * x[(b * L + at) * CI + ci];
      }
    gw[i] = acc;
  }
}

/// mm.conv2d_grad, NCHW / OIHW: gx [N, CI, H, W] and gw [CO, CI, KH, KW] (each
/// when not null) of the forward mm_conv2d_kernel, from gy [N, CO, Ho, Wo].
/// Launch: elementwise over max(N * CI * H * W, CO * CI * KH * KW).
template <int CI, int CO, int KH, int KW>
__device__ __forceinline__ void
mm_conv2d_grad_kernel(const float *x, const float *w, const float *gy, float *gx, float *gw,
                      mm_i64 N, mm_i64 H, mm_i64 Wd, mm_i64 Ho, mm_i64 Wo, int sh, int sw, int ph,
                      int pw, int dh, int dw) {
  const mm_i64 nx = gx ? N * CI * H * Wd : 0, nw = gw ? (mm_i64)CO * CI * KH * KW : 0;
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < nx;
       i += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 iw = i % Wd, ih = (i / Wd) % H, ci = (i / (Wd * H)) % CI, b = i / (Wd * H * CI);
    float acc = 0.0f;
    for (int co = 0; co < CO; ++co)
      for (int kh = 0; kh < KH; ++kh) {
        const mm_i64 sy = ih + ph - (mm_i64)kh * dh; // = oh * sh
        if (sy < 0 || sy % sh != 0 || sy / sh >= Ho)
          continue;
        for (int kw = 0; kw < KW; ++kw) {
          const mm_i64 sx = iw + pw - (mm_i64)kw * dw; // = ow * sw
          if (sx < 0 || sx % sw != 0 || sx / sw >= Wo)
            continue;
          acc += gy[((b * CO + co) * Ho + sy / sh) * Wo + sx / sw] *
                 w[((co * CI + ci) * KH + kh) * KW + kw];
        }
      }
    gx[i] = acc;
  }
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < nw;
       i += (mm_i64)gridDim.x * blockDim.x) {
    const int kw = (int)(i % KW), kh = (int)((i / KW) % KH), ci = (int)((i / (KW * KH)) % CI),
              co = (int)(i / (KW * KH * CI));
    float acc = 0.0f;
    for (mm_i64 b = 0; b < N; ++b)
      for (mm_i64 oh = 0; oh < Ho; ++oh) {
        const mm_i64 ih = oh * sh - ph + (mm_i64)kh * dh;
        if (ih < 0 || ih >= H)
          continue;
        for (mm_i64 ow = 0; ow < Wo; ++ow) {
          const mm_i64 iw = ow * sw - pw + (mm_i64)kw * dw;
          if (iw >= 0 && iw < Wd)
            acc += gy[((b * CO + co) * Ho + oh) * Wo + ow] * x[((b * CI + ci) * H + ih) * Wd + iw];
        }
      }
    gw[i] = acc;
  }
}

/// Query i of mm.attention_grad (no cache) sits at key position start + i and
/// sees keys j < visible: all Tk, or start + i + 1 when causal.
__device__ __forceinline__ mm_i64 mm_attention_grad_visible(mm_i64 i, mm_i64 Tk, mm_i64 start,
                                                            int causal) {
  return causal ? (start + i + 1 < Tk ? start + i + 1 : Tk) : Tk;
}

/// The softmax statistics of each query row (b, i, h) of mm.attention_grad:
/// stats[row] = (max of the scaled scores, 1 / sum of e^(score - max), do . o).
/// q [B, Tq, HQ, D], k [B, Tk, HKV, D], o and dout [B, Tq, HQ, DV]. A start
/// that puts a query past the last key sets kQueryStartOutOfRange. keyMask
/// (null, or [B, Tk]) hides the keys where it is zero in all three kernels; a
/// row that sees no key gets 1 / sum = 0.
/// Launch: elementwise over B * Tq * HQ.
template <int HQ, int HKV, int D, int DV>
__device__ __forceinline__ void
mm_attention_grad_stats_kernel(const float *q, const float *k, const float *o, const float *dout,
                               double *stats, mm_i64 B, mm_i64 Tq, mm_i64 Tk, const mm_i64 *start,
                               const float *keyMask, int causal, float scale, int *error) {
  const mm_i64 n = B * Tq * HQ;
  if (start && (*start < 0 || *start + Tq > Tk)) { // queries placed past the last key
    if (blockIdx.x == 0 && threadIdx.x == 0)
      mm_report_error(error, mmk::kQueryStartOutOfRange);
    return;
  }
  for (mm_i64 row = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; row < n;
       row += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 h = row % HQ, i = (row / HQ) % Tq, b = row / (HQ * Tq), kh = h / (HQ / HKV);
    const mm_i64 visible = mm_attention_grad_visible(i, Tk, start ? *start : 0, causal);
    const float *qi = q + row * D;
    auto score = [&](mm_i64 j) {
      const float *kj = k + ((b * Tk + j) * HKV + kh) * D;
      float s = 0.f;
      for (int e = 0; e < D; ++e)
        s += qi[e] * kj[e];
      return scale * s;
    };
    auto seen = [&](mm_i64 j) { return !keyMask || keyMask[b * Tk + j] != 0.f; };
    float m = mm_neg_inf();
    for (mm_i64 j = 0; j < visible; ++j)
      if (seen(j))
        m = fmaxf(m, score(j));
    double sum = 0;
    for (mm_i64 j = 0; j < visible; ++j)
      if (seen(j))
        sum += (double)expf(score(j) - m);
    float rowD = 0.f;
    for (int e = 0; e < DV; ++e)
      rowD += dout[row * DV + e] * o[row * DV + e];
    stats[3 * row] = m;
    stats[3 * row + 1] = sum > 0 ? 1.0 / sum : 0.0;
    stats[3 * row + 2] = rowD;
  }
}

/// dq of mm.attention_grad: dq[b, i, h] = scale sum_j p_ij (do . v_j - D_i) k_j.
/// Launch: elementwise over B * Tq * HQ.
template <int HQ, int HKV, int D, int DV>
__device__ __forceinline__ void
mm_attention_grad_dq_kernel(const float *q, const float *k, const float *v, const float *dout,
                            const double *stats, float *dq, mm_i64 B, mm_i64 Tq, mm_i64 Tk,
                            const mm_i64 *start, const float *keyMask, int causal, float scale) {
  const mm_i64 n = B * Tq * HQ;
  for (mm_i64 row = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; row < n;
       row += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 h = row % HQ, i = (row / HQ) % Tq, b = row / (HQ * Tq), kh = h / (HQ / HKV);
    const mm_i64 visible = mm_attention_grad_visible(i, Tk, start ? *start : 0, causal);
    const float *qi = q + row * D, *gi = dout + row * DV;
    const float m = (float)stats[3 * row], inv = (float)stats[3 * row + 1],
                rowD = (float)stats[3 * row + 2];
    float acc[D];
    for (int e = 0; e < D; ++e)
      acc[e] = 0.f;
    for (mm_i64 j = 0; j < visible; ++j) {
      if (keyMask && keyMask[b * Tk + j] == 0.f)
        continue;
      const float *kj = k + ((b * Tk + j) * HKV + kh) * D;
      const float *vj = v + ((b * Tk + j) * HKV + kh) * DV;
      float s = 0.f, gv = 0.f;
      for (int e = 0; e < D; ++e)
        s += qi[e] * kj[e];
      for (int e = 0; e < DV; ++e)
        gv += gi[e] * vj[e];
      const float ds = expf(scale * s - m) * inv * (gv - rowD) * scale;
      for (int e = 0; e < D; ++e)
        acc[e] += ds * kj[e];
    }
    for (int e = 0; e < D; ++e)
      dq[row * D + e] = acc[e];
  }
}

/// dk and dv of mm.attention_grad, key row (b, j, kh) summed over the query
/// heads of kv head kh and the queries that see key j:
///   dk_j = scale sum p_ij (do_i . v_j - D_i) q_i,   dv_j = sum p_ij do_i.
/// Launch: elementwise over B * Tk * HKV.
template <int HQ, int HKV, int D, int DV>
__device__ __forceinline__ void
mm_attention_grad_dkv_kernel(const float *q, const float *k, const float *v, const float *dout,
                             const double *stats, float *dk, float *dv, mm_i64 B, mm_i64 Tq,
                             mm_i64 Tk, const mm_i64 *start, const float *keyMask, int causal,
                             float scale) {
  constexpr int G = HQ / HKV;
  const mm_i64 n = B * Tk * HKV;
  const mm_i64 offset = start ? *start : 0;
  for (mm_i64 key = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; key < n;
       key += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 kh = key % HKV, j = (key / HKV) % Tk, b = key / (HKV * Tk);
    const float *kj = k + key * D, *vj = v + key * DV;
    float ak[D], av[DV];
    for (int e = 0; e < D; ++e)
      ak[e] = 0.f;
    for (int e = 0; e < DV; ++e)
      av[e] = 0.f;
    const bool hidden = keyMask && keyMask[b * Tk + j] == 0.f; // (then dk = dv = 0)
    for (mm_i64 h = kh * G; h < (kh + 1) * G && !hidden; ++h)
      for (mm_i64 i = 0; i < Tq; ++i) {
        if (j >= mm_attention_grad_visible(i, Tk, offset, causal))
          continue;
        const mm_i64 row = (b * Tq + i) * HQ + h;
        const float *qi = q + row * D, *gi = dout + row * DV;
        float s = 0.f, gv = 0.f;
        for (int e = 0; e < D; ++e)
          s += qi[e] * kj[e];
        for (int e = 0; e < DV; ++e)
          gv += gi[e] * vj[e];
        const float p = expf(scale * s - (float)stats[3 * row]) * (float)stats[3 * row + 1];
        const float ds = p * (gv - (float)stats[3 * row + 2]) * scale;
        for (int e = 0; e < D; ++e)
          ak[e] += ds * qi[e];
        for (int e = 0; e < DV; ++e)
          av[e] += p * gi[e];
      }
    if (dk)
      for (int e = 0; e < D; ++e)
        dk[key * D + e] = ak[e];
    if (dv)
      for (int e = 0; e < DV; ++e)
        dv[key * DV + e] = av[e];
  }
}

/// mm.gru_grad, phase 1: backpropagation through time for sequence b (one
/// block, thread j owns hidden unit j), recomputing the gates from x, the
/// forward states seq [B, T, HD] and h0 [B, HD]; writes the gate gradients
/// dGi, dGh [B, T, 3 HD] (for phase 2), dx [B, T, I] and dh0 [B, HD] (each when
/// not null). Sums run in the host's order (gates ascending).
/// Launch: grid up to B, block THREADS >= HD (a multiple of 32).
template <int HD, int THREADS>
__device__ __forceinline__ void
mm_gru_grad_time_kernel(const float *x, const float *wih, const float *whh, const float *bih,
                        const float *bhh, const float *h0, const float *seq, const float *gseq,
                        const float *glast, float *dGi, float *dGh, float *dx, float *dh0, mm_i64 B,
                        mm_i64 T, mm_i64 I) {
  static_assert(THREADS >= HD, "one thread per hidden unit");
  __shared__ float dh[HD], dgi[3 * HD], dgh[3 * HD];
  const int j = threadIdx.x;
  for (mm_i64 b = blockIdx.x; b < B; b += gridDim.x) {
    if (j < HD)
      dh[j] = glast[b * HD + j] + gseq[(b * T + T - 1) * HD + j];
    __syncthreads();
    for (mm_i64 t = T - 1; t >= 0; --t) {
      const float *xt = x + (b * T + t) * I;
      const float *hPrev = t > 0 ? seq + (b * T + t - 1) * HD : h0 + b * HD;
      float dhPrev = 0.f;
      if (j < HD) {
        float gi[3], gh[3];
        for (int g = 0; g < 3; ++g) {
          const mm_i64 row = (mm_i64)g * HD + j;
          float a = 0.f, c = 0.f;
          for (mm_i64 i = 0; i < I; ++i)
            a += xt[i] * wih[row * I + i];
          for (int k = 0; k < HD; ++k)
            c += hPrev[k] * whh[row * HD + k];
          gi[g] = a + bih[row];
          gh[g] = c + bhh[row];
        }
        const float r = 1.0f / (1.0f + expf(-(gi[0] + gh[0])));
        const float z = 1.0f / (1.0f + expf(-(gi[1] + gh[1])));
        const float n = tanhf(gi[2] + r * gh[2]);
        const float dn = dh[j] * (1.0f - z), dz = dh[j] * (hPrev[j] - n);
        const float dan = dn * (1.0f - n * n);
        dgi[j] = dgh[j] = dan * gh[2] * r * (1.0f - r);
        dgi[HD + j] = dgh[HD + j] = dz * z * (1.0f - z);
        dgi[2 * HD + j] = dan;
        dgh[2 * HD + j] = dan * r;
        dhPrev = dh[j] * z;
      }
      __syncthreads(); // the gate gradients of every unit are in shared memory
      float *gI = dGi + (b * T + t) * 3 * HD, *gH = dGh + (b * T + t) * 3 * HD;
      for (int g = j; g < 3 * HD; g += THREADS) {
        gI[g] = dgi[g];
        gH[g] = dgh[g];
      }
      if (dx)
        for (mm_i64 k = j; k < I; k += THREADS) {
          float acc = 0.f;
          for (int g = 0; g < 3 * HD; ++g)
            acc += dgi[g] * wih[g * I + k];
          dx[(b * T + t) * I + k] = acc;
        }
      if (j < HD)
        for (int g = 0; g < 3 * HD; ++g)
          dhPrev += dgh[g] * whh[(mm_i64)g * HD + j];
      __syncthreads(); // every thread has read dh and the gate gradients
      if (j < HD)
        dh[j] = dhPrev + (t > 0 ? gseq[(b * T + t - 1) * HD + j] : 0.0f);
      __syncthreads();
    }
    if (dh0 && j < HD)
      dh0[b * HD + j] = dh[j];
    __syncthreads();
  }
}

/// mm.gru_grad, phase 2: dwih [3 HD, I], dwhh [3 HD, HD], dbih and dbhh [3 HD]
/// (each when not null) summed over (b, t) in order from phase 1's gate
/// gradients. Launch: elementwise over 3 HD (I + HD + 2).
template <int HD>
__device__ __forceinline__ void
mm_gru_grad_weights_kernel(const float *x, const float *h0, const float *seq, const float *dGi,
                           const float *dGh, float *dwih, float *dwhh, float *dbih, float *dbhh,
                           mm_i64 B, mm_i64 T, mm_i64 I) {
  const mm_i64 G = 3 * HD, n = G * (I + HD + 2);
  for (mm_i64 e = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; e < n;
       e += (mm_i64)gridDim.x * blockDim.x) {
    // e: [dwih (G x I) | dwhh (G x HD) | dbih (G) | dbhh (G)]
    const int part = e < G * I ? 0 : e < G * (I + HD) ? 1 : e < G * (I + HD + 1) ? 2 : 3;
    const mm_i64 local = part == 0   ? e
                         : part == 1 ? e - G * I
                         : part == 2 ? e - G * (I + HD)
                                     : e - G * (I + HD + 1);
    const mm_i64 width = part == 0 ? I : part == 1 ? HD : 1;
    const mm_i64 g = local / width, k = local % width;
    float *out = part == 0 ? dwih : part == 1 ? dwhh : part == 2 ? dbih : dbhh;
    if (!out)
      continue;
    float acc = 0.f;
    for (mm_i64 b = 0; b < B; ++b)
      for (mm_i64 t = 0; t < T; ++t) {
        const float gate = (part == 0 || part == 2 ? dGi : dGh)[(b * T + t) * G + g];
        const float in = part == 0   ? x[(b * T + t) * I + k]
                         : part == 1 ? (t > 0 ? seq[(b * T + t - 1) * HD + k] : h0[b * HD + k])
                                     : 1.0f;
        acc += gate * in;
      }
    out[local] = acc;
  }
}

/// mm.lightning_attention_grad for one (sequence b, head h) per block, as the
/// host's lightning_grad: the states before each block are recomputed
/// forwards into work (blocks x D x D), then the blocks run backwards carrying
/// G, the state gradient from after the block (a D x D tile after them in
/// work), from dfinal. q, k, v, dout [B, T, HEADS, D]; states [B, HEADS, D,
/// D]; s0 null is zero. Outputs at positions >= lengths[b] are zero; a length
/// outside [0, T] sets kLengthOutOfRange. Decays lambda^n = exp(-slope n) in
/// double, rounded to float, as the host. Every output element is one
/// thread's sum in a fixed order.
/// Launch: grid B * HEADS, block THREADS; work holds B * HEADS * (ceilDiv(T,
/// BS) + 1) * D * D floats.
template <int HEADS, int D, int BS, int THREADS>
__device__ __forceinline__ void
mm_lightning_grad_kernel(const float *q, const float *k, const float *v, const float *dout,
                         const float *dfinal, const float *s0, const mm_i64 *lengths,
                         const float *slopes, float *work, float *dq, float *dk, float *dv,
                         float *ds0, mm_i64 B, mm_i64 T, int *error) {
  constexpr int DD = D * D;
  __shared__ float decay[BS + 2];
  const mm_i64 maxBlocks = mmk::ceilDiv(T, BS);
  for (mm_i64 bh = blockIdx.x; bh < B * HEADS; bh += gridDim.x) {
    const mm_i64 b = bh / HEADS;
    const int h = (int)(bh % HEADS);
    const mm_i64 len = lengths ? lengths[b] : T;
    if (len < 0 || len > T) {
      if (h == 0 && threadIdx.x == 0)
        mm_report_error(error, mmk::kLengthOutOfRange);
      continue;
    }
    const mm_i64 blocks = mmk::ceilDiv(len, BS);
    float *before = work + bh * (maxBlocks + 1) * DD, *G = before + maxBlocks * DD;
    auto at = [&](mm_i64 t) { return ((b * T + t) * HEADS + h) * D; };
    for (int n = threadIdx.x; n < BS + 2; n += THREADS)
      decay[n] = (float)exp(-(double)slopes[h] * (double)n);
    // Positions past the length get zero gradients.
    for (mm_i64 f = threadIdx.x; f < (T - len) * D; f += THREADS) {
      const mm_i64 o = at(len + f / D) + f % D;
      if (dq)
        dq[o] = 0.f;
      if (dk)
        dk[o] = 0.f;
      if (dv)
        dv[o] = 0.f;
    }
    __syncthreads();
    // Forward: the state before each block (S in registers, one element per pass).
    for (int e = threadIdx.x; e < DD; e += THREADS) {
      const int a = e / D, c = e % D;
      float S = s0 ? s0[bh * DD + e] : 0.f;
      for (mm_i64 blk = 0; blk < blocks; ++blk) {
        before[blk * DD + e] = S;
        const mm_i64 start = blk * BS;
        const int m = (int)mm_min64(BS, len - start);
        S *= decay[m];
        for (int j = 0; j < m; ++j)
          S += decay[m - 1 - j] * k[at(start + j) + a] * v[at(start + j) + c];
      }
      G[e] = dfinal[bh * DD + e];
    }
    __syncthreads();
    for (mm_i64 blk = blocks - 1; blk >= 0; --blk) {
      const mm_i64 start = blk * BS;
      const int m = (int)mm_min64(BS, len - start), last = m - 1;
      const float *Sb = before + blk * DD;
      // Token i, component a: dq, dk, dv of the block's tokens.
      for (int f = threadIdx.x; f < m * D; f += THREADS) {
        const int i = f / D, a = f % D;
        const float *gi = dout + at(start + i), *ki = k + at(start + i), *vi = v + at(start + i);
        float sq = 0.f, sk = 0.f, sv = 0.f;
        for (int c = 0; c < D; ++c) {
          sq += Sb[a * D + c] * gi[c];
          sk += G[a * D + c] * vi[c];
          sv += G[c * D + a] * ki[c];
        }
        float gq = decay[i + 1] * sq, gk = decay[last - i] * sk, gv = decay[last - i] * sv;
        for (int j = 0; j <= i; ++j) { // intra: lambda^(i-j) (v_j . do_i) k_j
          float w = 0.f;
          for (int c = 0; c < D; ++c)
            w += v[at(start + j) + c] * gi[c];
          gq += decay[i - j] * w * k[at(start + j) + a];
        }
        for (int s2 = i; s2 < m; ++s2) {
          const float *qs = q + at(start + s2), *gs = dout + at(start + s2);
          float wk = 0.f, wv = 0.f;
          for (int c = 0; c < D; ++c) {
            wk += gs[c] * vi[c];
            wv += qs[c] * ki[c];
          }
          gk += decay[s2 - i] * wk * qs[a];
          gv += decay[s2 - i] * wv * gs[a];
        }
        const mm_i64 o = at(start + i) + a;
        if (dq)
          dq[o] = gq;
        if (dk)
          dk[o] = gk;
        if (dv)
          dv[o] = gv;
      }
      __syncthreads(); // G is read above and updated below
      for (int e = threadIdx.x; e < DD; e += THREADS) {
        const int a = e / D, c = e % D;
        float g = G[e] * decay[m];
        for (int s2 = 0; s2 < m; ++s2)
          g += decay[s2 + 1] * q[at(start + s2) + a] * dout[at(start + s2) + c];
        G[e] = g;
      }
      __syncthreads();
    }
    if (ds0)
      for (int e = threadIdx.x; e < DD; e += THREADS)
        ds0[bh * DD + e] = G[e];
    __syncthreads();
  }
}

#endif // MM_CUDA_BACKWARD_CUH
