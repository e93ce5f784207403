//===- recsys.cuh - pooling, target attention, Hadamard interaction, GRU ----===//
//
// The recommender supernets' ops (AMER, /work/shared/spec/amer.md) as in
// codegen/host/HostKernels.h, with the same double accumulators. One thread
// per independent output lane (a GRU: one block per sequence): correct for
// every shape, not tuned. Weights may be stored f32 or bf16 (mm_widen).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_RECSYS_CUH
#define MM_CUDA_RECSYS_CUH

#include "weights.cuh"

/// mm.pool: sum, mean (KIND 0, 1) or max (2) of [outer, len, inner] over len
/// where mask[outer, len] (if any) is non-zero; a fully masked lane is 0.
/// Launch: elementwise over outer * inner.
template <int KIND>
__device__ __forceinline__ void mm_pool_kernel(const float *x, const float *mask, float *out,
                                               mm_i64 outer, mm_i64 len, mm_i64 inner) {
  const mm_i64 lanes = outer * inner;
  for (mm_i64 l = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; l < lanes;
       l += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 o = l / inner, i = l % inner;
    double acc = 0;
    mm_i64 count = 0;
    for (mm_i64 j = 0; j < len; ++j) {
      if (mask && mask[o * len + j] == 0.0f)
        continue;
      const double v = x[(o * len + j) * inner + i];
      acc = KIND == 2 ? (count ? (acc < v ? v : acc) : v) : acc + v;
      ++count;
    }
    out[l] = count == 0 ? 0.0f : (float)(KIND == 1 ? acc / (double)count : acc);
  }
}

/// mm.hadamard_interaction: out[b, g, d] = prod over the fields f of group g
/// (members[starts[g] .. starts[g + 1])) of fields[b, f, d]; fields [B, F, D].
/// Launch: elementwise over B * G * D.
__device__ __forceinline__ void mm_hadamard_kernel(const float *fields, const mm_i64 *members,
                                                   const mm_i64 *starts, float *out, mm_i64 B,
                                                   mm_i64 F, mm_i64 D, mm_i64 G) {
  const mm_i64 n = B * G * D;
  for (mm_i64 e = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; e < n;
       e += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 d = e % D, g = (e / D) % G, b = e / (D * G);
    float acc = 1.0f;
    for (mm_i64 m = starts[g]; m < starts[g + 1]; ++m)
      acc *= fields[(b * F + members[m]) * D + d];
    out[e] = acc;
  }
}

/// mm.target_attention: per sequence b, softmax over t of scale * (seq[b, t]
/// . target[b]) (masked positions out; a fully masked row gives 0), then the
/// weighted sum of seq[b, t]; seq [B, T, D], target [B, D]. Scores and sums in
/// double; one thread per b holds the D accumulators.
/// Launch: elementwise over B.
template <int D>
__device__ __forceinline__ void mm_target_attention_kernel(const float *seq, const float *target,
                                                           const float *mask, float *out, mm_i64 B,
                                                           mm_i64 T, float scale) {
  for (mm_i64 b = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; b < B;
       b += (mm_i64)gridDim.x * blockDim.x) {
    auto score = [&](mm_i64 t) -> double {
      float dot = 0.f;
      for (int d = 0; d < D; ++d)
        dot += seq[(b * T + t) * D + d] * target[b * D + d];
      return (double)scale * (double)dot;
    };
    auto on = [&](mm_i64 t) { return !mask || mask[b * T + t] != 0.0f; };
    double max = (double)mm_neg_inf();
    for (mm_i64 t = 0; t < T; ++t)
      if (on(t)) {
        const double s = score(t);
        max = max < s ? s : max;
      }
    double acc[D], sum = 0;
    for (int d = 0; d < D; ++d)
      acc[d] = 0;
    if (max != (double)mm_neg_inf())
      for (mm_i64 t = 0; t < T; ++t) {
        if (!on(t))
          continue;
        const double w = exp(score(t) - max);
        sum += w;
        for (int d = 0; d < D; ++d)
          acc[d] += w * seq[(b * T + t) * D + d];
      }
    for (int d = 0; d < D; ++d)
      out[b * D + d] = sum > 0 ? (float)(acc[d] / sum) : 0.0f;
  }
}

/// mm.gru (PyTorch gate order r, z, n) over x [B, T, I] from h0 [B, HD] (null:
/// zeros): one block per sequence, thread j owns hidden unit j. seq [B, T, HD]
/// and last [B, HD] are written when not null.
/// Launch: grid up to B, block THREADS >= HD (a multiple of 32).
template <int HD, int THREADS, typename W>
__device__ __forceinline__ void
mm_gru_kernel(const float *x, const W *wih, const W *whh, const W *bih, const W *bhh,
              const float *h0, float *seq, float *last, mm_i64 B, mm_i64 T, mm_i64 I) {
  static_assert(THREADS >= HD, "one thread per hidden unit");
  __shared__ float h[HD];
  const int j = threadIdx.x;
  for (mm_i64 b = blockIdx.x; b < B; b += gridDim.x) {
    if (j < HD)
      h[j] = h0 ? h0[b * HD + j] : 0.0f;
    __syncthreads();
    for (mm_i64 t = 0; t < T; ++t) {
      float next = 0.f;
      if (j < HD) {
        const float *xt = x + (b * T + t) * I;
        float gi[3], gh[3];
        for (int g = 0; g < 3; ++g) {
          const mm_i64 row = (mm_i64)g * HD + j;
          float a = 0.f, c = 0.f;
          for (mm_i64 i = 0; i < I; ++i)
            a += xt[i] * mm_widen(wih[row * I + i]);
          for (int k = 0; k < HD; ++k)
            c += h[k] * mm_widen(whh[row * HD + k]);
          gi[g] = a + mm_widen(bih[row]);
          gh[g] = c + mm_widen(bhh[row]);
        }
        const float r = 1.0f / (1.0f + expf(-(gi[0] + gh[0])));
        const float z = 1.0f / (1.0f + expf(-(gi[1] + gh[1])));
        const float n = tanhf(gi[2] + r * gh[2]);
        next = (1.0f - z) * n + z * h[j];
      }
      __syncthreads(); // every thread has read h
      if (j < HD) {
        h[j] = next;
        if (seq)
          seq[(b * T + t) * HD + j] = next;
      }
      __syncthreads();
    }
    if (last && j < HD)
      last[b * HD + j] = h[j];
    __syncthreads();
  }
}

#endif // MM_CUDA_RECSYS_CUH
