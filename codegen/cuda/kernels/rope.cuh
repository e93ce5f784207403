//===- rope.cuh - rotary position embedding (partial, rotate-half) --------===//
#ifndef MM_CUDA_ROPE_CUH
#define MM_CUDA_ROPE_CUH

#include "common.cuh"

__device__ __forceinline__ float mm_rope_pow(float a, float b) { return powf(a, b); }
__device__ __forceinline__ double mm_rope_pow(double a, double b) { return pow(a, b); }
__device__ __forceinline__ void mm_rope_sincos(float a, float *s, float *c) { sincosf(a, s, c); }
__device__ __forceinline__ void mm_rope_sincos(double a, float *s, float *c) {
  double sd, cd;
  sincos(a, &sd, &cd);
  *s = (float)sd;
  *c = (float)cd;
}

/// ref::rope (reference/kernels/Attention.cpp) on rows of HEADS heads of HEAD_DIM:
/// for token t at position p = positions[t] and i < ROTARY_DIM / 2 = half,
///   a = p * theta^(-2i / ROTARY_DIM),  x1 = x[h, i],  x2 = x[h, i + half]
///   y[h, i] = x1 cos a - x2 sin a,   y[h, i + half] = x2 cos a + x1 sin a
/// and dims [ROTARY_DIM, HEAD_DIM) are copied unchanged. Token t's row starts at
/// x + t * xTokenStride (so q/k can be read from a fused projection) and is
/// written at y + t * yTokenStride; y may alias x.
/// Launch: block THREADS (e.g. mmk::rowThreads(HEADS * HEAD_DIM / 2)), grid up to tokens.
///
/// ANGLE is the type angles are computed in. double matches the reference
/// (float64 angles, rounded cos / sin) to an ulp of the output: the
/// standalone mm.rope uses it. With float, as the fused attention does: powf is within
/// 4 ulp and the product adds half an ulp, so |angle error| <= 5 ulp(a) ~
/// |p| * theta^(-2i/R) * 2^-21; each output is off by at most that times
/// |(x1, x2)|, plus sincosf's 2 ulp. At p = 4096 that is ~2e-3 |x| for i = 0:
/// float32 RoPE, as in the models' own float32 implementations.
template <int HEADS, int HEAD_DIM, int ROTARY_DIM, int THREADS, typename ANGLE = float>
__device__ __forceinline__ void mm_rope_kernel(const float *x, mm_i64 xTokenStride, float *y,
                                               mm_i64 yTokenStride, const mm_i64 *positions,
                                               mm_i64 tokens, ANGLE theta) {
  static_assert(ROTARY_DIM % 2 == 0 && ROTARY_DIM > 0 && ROTARY_DIM <= HEAD_DIM, "rotary_dim");
  constexpr int HALF = ROTARY_DIM / 2, PASS = HEAD_DIM - ROTARY_DIM, ITEMS = HALF + PASS;
  __shared__ float cosA[HALF], sinA[HALF];
  for (mm_i64 t = blockIdx.x; t < tokens; t += gridDim.x) {
    const ANGLE pos = (ANGLE)positions[t];
    for (int i = threadIdx.x; i < HALF; i += THREADS)
      mm_rope_sincos(pos * mm_rope_pow(theta, -(ANGLE)(2 * i) / (ANGLE)ROTARY_DIM), &sinA[i],
                     &cosA[i]);
    __syncthreads();
    const float *xt = x + t * xTokenStride;
    float *yt = y + t * yTokenStride;
    for (int u = threadIdx.x; u < HEADS * ITEMS; u += THREADS) {
      int base = (u / ITEMS) * HEAD_DIM, w = u % ITEMS;
      if (w < HALF) {
        float x1 = xt[base + w], x2 = xt[base + w + HALF];
        yt[base + w] = x1 * cosA[w] - x2 * sinA[w];
        yt[base + w + HALF] = x2 * cosA[w] + x1 * sinA[w];
      } else {
        int d = ROTARY_DIM + (w - HALF);
        yt[base + d] = xt[base + d];
      }
    }
    __syncthreads(); // cosA / sinA are rewritten for the next token
  }
}

#endif // MM_CUDA_ROPE_CUH
