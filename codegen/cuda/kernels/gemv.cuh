//===- gemv.cuh - few-row products with stored weights (decode) -----------===//
//
// A decode step multiplies a handful of rows by each weight matrix once, so
// its time is the matrix's bytes over memory bandwidth. These kernels stream
// each weight row once, 16 bytes per lane per load, in any storage of
// weights.cuh (a warp takes 4 bytes of weights per k: 1, 2 or 4 rows), and
// apply it to up to kGroupedGemvRows rows of x per pass (more rows re-read
// the weight rows, from L2). The grouped MoE GEMV (moe.cuh)
// shares mm_gemv_warp. For prefill-sized row counts the runtime widens bf16 /
// int8 weights a chunk of rows at a time (mm_widen_rows_kernel) and calls
// cuBLAS's FP32 GEMM, then scales int8 columns (mm_scale_columns_kernel).
//
// Accuracy: an output is a K-term dot product of x and the widened weights
// (exact), summed as 32 lane partials of K / 32 sequential fma and a warp
// tree: |error| <= (K + 8) u (|x| |W|^T), and the int8 scale adds one
// rounding (u |y|).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_GEMV_CUH
#define MM_CUDA_GEMV_CUH

#include "activation.cuh"
#include "weights.cuh"

/// VEC weights of one row as loaded (one 4-, 8- or 16-byte load), widened
/// one at a time where they are used.
template <typename W, int VEC> struct MmPackedWeights {
  static constexpr int WORDS = VEC * (int)sizeof(W) / 4;
  unsigned word[WORDS];
  __device__ void load(const W *p) {
    if constexpr (WORDS == 4) {
      const uint4 u = *reinterpret_cast<const uint4 *>(p);
      word[0] = u.x, word[1] = u.y, word[2] = u.z, word[3] = u.w;
    } else if constexpr (WORDS == 2) {
      const uint2 u = *reinterpret_cast<const uint2 *>(p);
      word[0] = u.x, word[1] = u.y;
    } else {
      word[0] = *reinterpret_cast<const unsigned *>(p);
    }
  }
  __device__ float operator[](int j) const {
    if constexpr (sizeof(W) == 4)
      return __uint_as_float(word[j]);
    else if constexpr (sizeof(W) == 2)
      return j & 1 ? mm_bf16_high(word[j >> 1]) : mm_bf16_low(word[j >> 1]);
    else
      return mm_q8_byte(word[j >> 2], j & 3);
  }
};

/// Output columns per warp: a warp streams 4 bytes of weights per k whatever
/// the storage (1 f32, 2 bf16 or 4 int8 rows), so each x value it loads feeds
/// as many weight bytes as in the f32 case (x reads, not the weights, bound
/// a one-column int8 GEMV).
template <typename W> struct MmGemvColumns {
  static constexpr int C = mmk::gemvColumnsPerWarp((int)sizeof(W));
};

/// One warp's outputs y[r, n + c] for rows first <= r < last of x [*, K] and
/// columns c < cols (<= C): sa[c] * (x[r] . wa_c) or, with SWIGLU,
/// silu(sa[c] * (x[r] . wa_c)) * (sb[c] * (x[r] . wb_c)), where wa_c is row c
/// from wa (rows K apart). Rows of x start 16-byte aligned.
template <int N, int K, bool SWIGLU, typename W>
__device__ __forceinline__ void mm_gemv_warp(const float *x, const W *wa, const W *wb,
                                             const float (&sa)[MmGemvColumns<W>::C],
                                             const float (&sb)[MmGemvColumns<W>::C], int cols,
                                             mm_i64 first, mm_i64 last, int n, float *y) {
  constexpr int R = mmk::kGroupedGemvRows, C = MmGemvColumns<W>::C;
  // 16-byte loads when rows stay 16-byte aligned, 4 weights at a time otherwise.
  constexpr int WIDE = MmWeightVector<W>::VEC;
  constexpr int VEC = K % WIDE == 0 ? WIDE : 4;
  static_assert(K % 4 == 0, "K a multiple of 4");
  const int lane = threadIdx.x % 32;
  for (mm_i64 r0 = first; r0 < last; r0 += R) {
    const int count = (int)mm_min64(R, last - r0);
    float a[R][C], b[R][C];
#pragma unroll
    for (int i = 0; i < R; ++i)
#pragma unroll
      for (int c = 0; c < C; ++c)
        a[i][c] = b[i][c] = 0.f;
    for (int k = VEC * lane; k < K; k += 32 * VEC) {
      MmPackedWeights<W, VEC> u[C], v[C];
#pragma unroll
      for (int c = 0; c < C; ++c) { // columns past `cols` reread row 0, never stored
        const mm_i64 at = (mm_i64)(c < cols ? c : 0) * K + k;
        u[c].load(wa + at);
        if (SWIGLU)
          v[c].load(wb + at);
        else
          v[c] = u[c];
      }
#pragma unroll
      for (int i = 0; i < R; ++i)
        if (i < count) {
#pragma unroll
          for (int j = 0; j < VEC; j += 4) {
            const float4 xv = mm_load4(x + (r0 + i) * K + k + j);
#pragma unroll
            for (int c = 0; c < C; ++c) {
              a[i][c] = fmaf(
                  u[c][j + 3], xv.w,
                  fmaf(u[c][j + 2], xv.z, fmaf(u[c][j + 1], xv.y, fmaf(u[c][j], xv.x, a[i][c]))));
              if (SWIGLU)
                b[i][c] = fmaf(
                    v[c][j + 3], xv.w,
                    fmaf(v[c][j + 2], xv.z, fmaf(v[c][j + 1], xv.y, fmaf(v[c][j], xv.x, b[i][c]))));
            }
          }
        }
    }
#pragma unroll
    for (int i = 0; i < R; ++i) {
      if (i >= count)
        break;
#pragma unroll
      for (int c = 0; c < C; ++c) {
        const float gate = sa[c] * mm_warp_sum(a[i][c]);
        const float up = SWIGLU ? sb[c] * mm_warp_sum(b[i][c]) : 0.f;
        if (lane == 0 && c < cols)
          y[(r0 + i) * N + n + c] = SWIGLU ? mm_silu(gate) * up : gate;
      }
    }
  }
}

/// y[r, n] = x[r, :] . W[n, :] (times W's row scale) for r < rows: x [rows, K],
/// W [N, K] in storage W, y [rows, N]. One warp per MmGemvColumns<W>::C columns.
/// Launch: launch::gemv(N, sizeof(W)).
template <int N, int K, typename W>
__device__ __forceinline__ void mm_gemv_kernel(const float *x, const W *weight, float *y,
                                               mm_i64 rows) {
  constexpr int C = MmGemvColumns<W>::C;
  const int n = (blockIdx.x * (mmk::kGroupedGemvThreads / 32) + threadIdx.x / 32) * C;
  if (n >= N)
    return;
  const MmRowScales<W> scale(weight, N, K);
  float s[C], one[C];
#pragma unroll
  for (int c = 0; c < C; ++c) {
    s[c] = n + c < N ? scale[n + c] : 0.f;
    one[c] = 1.f;
  }
  mm_gemv_warp<N, K, false, W>(x, weight + (mm_i64)n * K, weight + (mm_i64)n * K, s, one,
                               mm_min(C, N - n), 0, rows, n, y);
}

/// out[r, :] = W[first + r, :] widened (int8 unscaled) for r < count: the
/// float32 rows a cuBLAS GEMM reads. Launch: block kElementwiseThreads, grid
/// elementwiseBlocks(count * K / 4).
template <int K, typename W>
__device__ __forceinline__ void mm_widen_rows_kernel(const W *weight, float *out, mm_i64 first,
                                                     mm_i64 count) {
  static_assert(K % 4 == 0, "K a multiple of 4");
  const W *src = weight + first * K;
  const mm_i64 quads = count * (K / 4);
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < quads;
       i += (mm_i64)gridDim.x * blockDim.x)
    mm_store4(out + 4 * i, mm_load_w4(src + 4 * i));
}

/// y[i] *= scale[i % N] over count = rows * N outputs of an int8 weight
/// [N, K]'s product. Launch: block kElementwiseThreads, grid elementwiseBlocks(count).
template <int N, int K>
__device__ __forceinline__ void mm_scale_columns_kernel(const mm_q8 *weight, float *y,
                                                        mm_i64 count) {
  const MmRowScales<mm_q8> scale(weight, N, K);
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < count;
       i += (mm_i64)gridDim.x * blockDim.x)
    y[i] *= scale[i % N];
}

#endif // MM_CUDA_GEMV_CUH
