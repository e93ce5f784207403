//===- norm.cuh - RMSNorm, LayerNorm and softmax over the last dimension ---===//
#ifndef MM_CUDA_NORM_CUH
#define MM_CUDA_NORM_CUH

#include "activation.cuh"
#include "weights.cuh"

/// Prologue / epilogue hook that changes nothing.
struct MmNormIdentity {
  __device__ float operator()(mm_i64, int, float v) const { return v; }
};

/// RMSNorm of each row of x [rows, HIDDEN] (ref::rmsNorm, reference/kernels/LinearAndNorm.cpp):
///   v_i   = pro(row, i, x[row, i])                 (prologue, default identity)
///   inv   = 1 / sqrt(sum_i v_i^2 / HIDDEN + eps)
///   y[row, i] = epi(row, i, weight[i] * (v_i * inv))   (epilogue, default identity)
/// Hooks: `__device__ float operator()(mm_i64 row, int col, float value) const`;
/// a prologue may also store its value (e.g. the new residual stream
/// residual * alpha + x * beta, see MmResidualPrologue), an epilogue may read
/// other tensors (e.g. MmSigmoidGateEpilogue). y may alias x.
/// The weight is float32 or bf16 (widened). Launch: block THREADS (a multiple
/// of 32, e.g. mmk::rowThreads(HIDDEN)), grid up to `rows` (rows are grid-strided). The row lives
/// in registers: ceil(HIDDEN / THREADS) values per thread. Accuracy: the sum of squares is
/// accumulated in a different order than the reference's 4-way dot product; |relative error of the
/// sum| <= HIDDEN * 2^-24.
template <int HIDDEN, int THREADS, class Pro = MmNormIdentity, class Epi = MmNormIdentity,
          typename W = float>
__device__ __forceinline__ void mm_rms_norm_kernel(const float *x, const W *weight, float *y,
                                                   mm_i64 rows, float eps, Pro pro = Pro(),
                                                   Epi epi = Epi()) {
  constexpr int V = (HIDDEN + THREADS - 1) / THREADS;
  for (mm_i64 row = blockIdx.x; row < rows; row += gridDim.x) {
    const float *xr = x + row * HIDDEN;
    float vals[V];
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      int col = threadIdx.x + j * THREADS;
      vals[j] = 0.f;
      if (col < HIDDEN) {
        vals[j] = pro(row, col, xr[col]);
        ss += vals[j] * vals[j];
      }
    }
    ss = mm_block_sum<THREADS>(ss);
    float inv = 1.0f / sqrtf(ss / (float)HIDDEN + eps);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      int col = threadIdx.x + j * THREADS;
      if (col < HIDDEN)
        y[row * HIDDEN + col] = epi(row, col, mm_widen(weight[col]) * (vals[j] * inv));
    }
  }
}

/// Prologue: v = residual[row, i] * alpha + x[row, i] * beta, also stored to
/// `sum` (may be null) so the block's residual stream is written in the same pass.
template <int HIDDEN> struct MmResidualPrologue {
  const float *residual;
  float *sum;
  float alpha, beta;
  __device__ float operator()(mm_i64 row, int col, float x) const {
    float v = residual[row * HIDDEN + col] * alpha + x * beta;
    if (sum)
      sum[row * HIDDEN + col] = v;
    return v;
  }
};

/// Epilogue: sigmoid(gate[row, i]) * normed (the lightning output gate).
template <int HIDDEN> struct MmSigmoidGateEpilogue {
  const float *gate;
  __device__ float operator()(mm_i64 row, int col, float normed) const {
    return mm_sigmoid(gate[row * HIDDEN + col]) * normed;
  }
};

/// LayerNorm of each row of x [rows, HIDDEN] (ref::layerNorm, mm.layer_norm):
///   mean = sum_i x_i / HIDDEN,  var = sum_i (x_i - mean)^2 / HIDDEN   (two passes, as the
///   reference, so a large mean does not cancel the variance)
///   y[row, i] = (x_i - mean) / sqrt(var + eps) * weight[i] + bias[i]
/// The weight and bias are float32 or bf16 (widened). Launch: block THREADS (a multiple of 32,
/// e.g. mmk::rowThreads(HIDDEN)), grid up to `rows`. The row lives in registers. Accuracy: float32
/// block sums, |relative error of each sum| <= HIDDEN * 2^-24 (the host sums in float64).
template <int HIDDEN, int THREADS, typename WG = float, typename WB = float>
__device__ __forceinline__ void mm_layer_norm_kernel(const float *x, const WG *weight,
                                                     const WB *bias, float *y, mm_i64 rows,
                                                     float eps) {
  constexpr int V = (HIDDEN + THREADS - 1) / THREADS;
  for (mm_i64 row = blockIdx.x; row < rows; row += gridDim.x) {
    const float *xr = x + row * HIDDEN;
    float vals[V];
    float sum = 0.f;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      int col = threadIdx.x + j * THREADS;
      vals[j] = col < HIDDEN ? xr[col] : 0.f;
      sum += vals[j];
    }
    const float mean = mm_block_sum<THREADS>(sum) / (float)HIDDEN;
    float ss = 0.f;
#pragma unroll
    for (int j = 0; j < V; ++j) {
      int col = threadIdx.x + j * THREADS;
      float d = col < HIDDEN ? vals[j] - mean : 0.f;
      ss += d * d;
    }
    const float inv = 1.0f / sqrtf(mm_block_sum<THREADS>(ss) / (float)HIDDEN + eps);
#pragma unroll
    for (int j = 0; j < V; ++j) {
      int col = threadIdx.x + j * THREADS;
      if (col < HIDDEN)
        y[row * HIDDEN + col] =
            (vals[j] - mean) * inv * mm_widen(weight[col]) + mm_widen(bias[col]);
    }
  }
}

/// Softmax (or log-softmax with LOG) of each row of x [rows, n] (ref::softmax
/// on the last dim): y = exp(x - max) / sum, or x - max - log(sum). Streams the
/// row twice (online max and sum, then the output), so any n works (vocab-size
/// rows included). Launch: block THREADS (multiple of 32), grid up to rows.
/// Accuracy: the online sum rescales partial sums; relative error of sum
/// <= 2 n 2^-24 (against the reference's sequential sum).
template <int THREADS, bool LOG>
__device__ __forceinline__ void mm_softmax_rows_kernel(const float *x, float *y, mm_i64 rows,
                                                       mm_i64 n) {
  for (mm_i64 row = blockIdx.x; row < rows; row += gridDim.x) {
    const float *xr = x + row * n;
    float m = mm_neg_inf(), s = 0.f;
    for (mm_i64 i = threadIdx.x; i < n; i += THREADS) {
      float v = xr[i];
      if (v > m) {
        s = s * expf(m - v) + 1.0f;
        m = v;
      } else {
        s += expf(v - m);
      }
    }
    float mx = mm_block_max<THREADS>(m);
    float part = m == mm_neg_inf() ? 0.f : s * expf(m - mx);
    float sum = mm_block_sum<THREADS>(part);
    float logSum = logf(sum);
    for (mm_i64 i = threadIdx.x; i < n; i += THREADS)
      y[row * n + i] = LOG ? xr[i] - mx - logSum : expf(xr[i] - mx) / sum;
  }
}

#endif // MM_CUDA_NORM_CUH
