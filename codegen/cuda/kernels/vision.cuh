//===- vision.cuh - convolutions and the merge of image features -----------===//
//
// The vision tower's patch embedding (conv2d), the recommenders' conv1d and
// MiniMax-VL-01's merge of image features into the text embeddings, as in
// codegen/host/HostKernels.h. One thread per output element: correct for every
// shape, not tuned (cuDNN-class convolutions are future work). Weights may be
// stored f32 or bf16 (mm_widen).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_VISION_CUH
#define MM_CUDA_VISION_CUH

#include "weights.cuh"

/// NCHW cross-correlation with an OIHW weight [CO, CI, KH, KW], strides,
/// symmetric padding and dilation: out [N, CO, Ho, Wo] (+ bias[co]).
/// Launch: elementwise over N * CO * Ho * Wo.
template <int CI, int CO, int KH, int KW, typename W, typename B>
__device__ __forceinline__ void
mm_conv2d_kernel(const float *x, const W *w, const B *bias, float *out, mm_i64 N, mm_i64 H,
                 mm_i64 Wd, mm_i64 Ho, mm_i64 Wo, int sh, int sw, int ph, int pw, int dh, int dw) {
  const mm_i64 n = N * CO * Ho * Wo;
  for (mm_i64 e = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; e < n;
       e += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 ow = e % Wo, oh = (e / Wo) % Ho, co = (e / (Wo * Ho)) % CO, b = e / (Wo * Ho * CO);
    float acc = 0.f;
    for (int ci = 0; ci < CI; ++ci)
      for (int kh = 0; kh < KH; ++kh) {
        const mm_i64 ih = oh * sh - ph + (mm_i64)kh * dh;
        if (ih < 0 || ih >= H)
          continue;
        for (int kw = 0; kw < KW; ++kw) {
          const mm_i64 iw = ow * sw - pw + (mm_i64)kw * dw;
          if (iw < 0 || iw >= Wd)
            continue;
          acc += x[((b * CI + ci) * H + ih) * Wd + iw] *
                 mm_widen(w[((co * CI + ci) * KH + kh) * KW + kw]);
        }
      }
    out[e] = acc + (bias ? mm_widen(bias[co]) : 0.0f);
  }
}

/// Channels-last 1-D convolution: x [N, L, CI], w [CO, CI, K], zero padding
/// `before` (and after, through Lo), stride and dilation: out [N, Lo, CO].
/// Launch: elementwise over N * Lo * CO.
template <int CI, int CO, int K, typename W, typename B>
__device__ __forceinline__ void mm_conv1d_kernel(const float *x, const W *w, const B *bias,
                                                 float *out, mm_i64 N, mm_i64 L, mm_i64 Lo,
                                                 int stride, int dilation, int before) {
  const mm_i64 n = N * Lo * CO;
  for (mm_i64 e = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; e < n;
       e += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 co = e % CO, o = (e / CO) % Lo, b = e / (CO * Lo);
    float acc = bias ? mm_widen(bias[co]) : 0.0f;
    for (int k = 0; k < K; ++k) {
      const mm_i64 at = o * stride - before + (mm_i64)k * dilation;
      if (at < 0 || at >= L)
        continue;
      for (int ci = 0; ci < CI; ++ci)
        acc += x[(b * L + at) * CI + ci] * mm_widen(w[(co * CI + ci) * K + k]);
    }
    out[e] = acc;
  }
}

/// source[r] = the image-feature row that replaces text row r (the count of
/// placeholders `token` before it), or -1 for a text row. One thread scans
/// the ids in order; a placeholder count other than `features` sets
/// kPlaceholderCount. Launch: one thread.
__device__ __forceinline__ void mm_image_rows_kernel(const mm_i64 *ids, mm_i64 rows,
                                                     mm_i64 features, mm_i64 token, mm_i64 *source,
                                                     int *error) {
  if (blockIdx.x != 0 || threadIdx.x != 0)
    return;
  mm_i64 next = 0;
  for (mm_i64 r = 0; r < rows; ++r)
    source[r] = ids[r] == token ? next++ : -1;
  if (next != features)
    mm_report_error(error, mmk::kPlaceholderCount);
}

/// mm.merge_image_features (GRAD false): out [rows, D] is emb with each
/// placeholder row replaced by its feature row. Its gradient (GRAD true): out
/// [features, D] gathers the placeholder rows of the incoming gradient `emb`.
/// Nothing is written after kPlaceholderCount. Launch: elementwise over rows * D.
template <bool GRAD>
__device__ __forceinline__ void
mm_merge_image_features_kernel(const float *emb, const float *features, const mm_i64 *source,
                               float *out, mm_i64 rows, mm_i64 D, const int *error) {
  if (*error != 0)
    return;
  const mm_i64 n = rows * D;
  for (mm_i64 e = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; e < n;
       e += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 r = e / D, d = e % D, f = source[r];
    if (GRAD) {
      if (f >= 0)
        out[f * D + d] = emb[e];
    } else {
      out[e] = f >= 0 ? features[f * D + d] : emb[e];
    }
  }
}

#endif // MM_CUDA_VISION_CUH
