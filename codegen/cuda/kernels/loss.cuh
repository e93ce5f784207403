//===- loss.cuh - cross-entropy, sigmoid BCE and the policy losses ---------===//
//
// The losses of codegen/host/HostKernels.h on the GPU, term by term in double
// as there: per-row (or per-element) terms go to a double buffer, and
// mm_loss_total_kernel reduces them for the `sum` and `mean` reductions (a
// tree sum in double: it differs from the host's sequential double sum by
// far less than the float result's rounding).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_LOSS_CUH
#define MM_CUDA_LOSS_CUH

#include "common.cuh"

/// std::min, std::max and std::clamp (NaN passes through as there, unlike fmin).
__device__ __forceinline__ double mm_dmin(double a, double b) { return b < a ? b : a; }
__device__ __forceinline__ double mm_dmax(double a, double b) { return a < b ? b : a; }
__device__ __forceinline__ double mm_dclamp(double v, double lo, double hi) {
  return v < lo ? lo : hi < v ? hi : v;
}

/// Block-wide sum of doubles for THREADS (a power of two) threads; every
/// thread gets the result. A shared-memory tree: the order is fixed.
template <int THREADS> __device__ __forceinline__ double mm_block_sum_double(double v) {
  static_assert((THREADS & (THREADS - 1)) == 0 && THREADS <= 1024, "power-of-two block");
  __shared__ double partial[THREADS];
  partial[threadIdx.x] = v;
  __syncthreads();
  for (int half = THREADS / 2; half > 0; half /= 2) {
    if ((int)threadIdx.x < half)
      partial[threadIdx.x] += partial[threadIdx.x + half];
    __syncthreads();
  }
  const double total = partial[0];
  __syncthreads(); // partial[] may be reused by the next call
  return total;
}

/// Softmax cross-entropy of row r of [rows, classes] logits against
/// labels[r]: terms[r] = max + log(sum_j e^(x_j - max)) - x[label] (double),
/// 0 for a row labelled `ignore`; with `out` (reduction none) also out[r] =
/// (float)terms[r]. A label outside [0, classes) sets kIndexOutOfRange.
/// Launch: block THREADS, grid up to rows.
template <int THREADS>
__device__ __forceinline__ void
mm_cross_entropy_rows_kernel(const float *logits, const mm_i64 *labels, mm_i64 rows, mm_i64 classes,
                             mm_i64 ignore, double *terms, float *out, int *error) {
  for (mm_i64 r = blockIdx.x; r < rows; r += gridDim.x) {
    const mm_i64 label = labels[r];
    double term = 0;
    if (label != ignore && (label < 0 || label >= classes)) {
      if (threadIdx.x == 0)
        mm_report_error(error, mmk::kIndexOutOfRange);
    } else if (label != ignore) {
      const float *row = logits + r * classes;
      float m = mm_neg_inf();
      bool nan = false;
      for (mm_i64 j = threadIdx.x; j < classes; j += THREADS) {
        m = fmaxf(m, row[j]);
        nan |= row[j] != row[j];
      }
      m = mm_block_max<THREADS>(m);
      nan = mm_block_sum<THREADS>(nan ? 1.f : 0.f) > 0.f;
      double sum = 0;
      for (mm_i64 j = threadIdx.x; j < classes; j += THREADS)
        sum += (double)expf(row[j] - m);
      sum = mm_block_sum_double<THREADS>(sum);
      // NaN in, NaN out; all -inf: 0 / 0 (as the host's exp_sum).
      term = nan || m == mm_neg_inf() ? (double)__int_as_float(0x7fc00000) /* NaN */
                                      : (double)m + log(sum) - (double)row[label];
    }
    if (threadIdx.x == 0) {
      terms[r] = term;
      if (out)
        out[r] = (float)term;
    }
  }
}

/// Sigmoid binary cross-entropy per element, max(x, 0) - x y + log1p(e^-|x|)
/// in double: terms[i], and out[i] = (float)terms[i] when out is given.
/// Launch: elementwise over n.
__device__ __forceinline__ void mm_sigmoid_bce_kernel(const float *x, const float *y, mm_i64 n,
                                                      double *terms, float *out) {
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (mm_i64)gridDim.x * blockDim.x) {
    const double xi = x[i];
    const double loss = mm_dmax(xi, 0.0) - xi * (double)y[i] + log1p(exp(-fabs(xi)));
    terms[i] = loss;
    if (out)
      out[i] = (float)loss;
  }
}

/// out[0] = the sum of terms[0 .. n), or their mean over the counted terms:
/// every term, or with labels those whose label is not `ignore` (then a mean
/// over nothing is 0). Launch: one block of THREADS.
template <int THREADS>
__device__ __forceinline__ void mm_loss_total_kernel(const double *terms, mm_i64 n,
                                                     const mm_i64 *labels, mm_i64 ignore, int mean,
                                                     float *out) {
  double total = 0, counted = 0;
  for (mm_i64 i = threadIdx.x; i < n; i += THREADS) {
    total += terms[i];
    counted += !labels || labels[i] != ignore ? 1.0 : 0.0;
  }
  total = mm_block_sum_double<THREADS>(total);
  counted = mm_block_sum_double<THREADS>(counted);
  if (threadIdx.x == 0)
    // A mean over no counted label is 0 (cross-entropy adds no gradient then);
    // over no element at all it is 0 / 0, as the host's.
    out[0] = !mean ? (float)total : labels && counted == 0 ? 0.0f : (float)(total / counted);
}

/// mm.policy_loss over [B, T] tokens, as the host's policy_loss: CISPO
/// (weight min(r, cap) when cap > 0, else the clipped ratio, times the
/// advantage and the log-probability) or PPO-clip (dual clip when dual > 0);
/// advantages per sequence or per token; normalised per token or per
/// sequence, by *normalizer when given. Launch: one block of THREADS.
template <int THREADS>
__device__ __forceinline__ void
mm_policy_loss_kernel(int cispo, const float *lp, const float *old, const float *adv,
                      int advPerToken, const float *mask, const float *normalizer, mm_i64 B,
                      mm_i64 T, double epsLow, double epsHigh, double clampLogRatio, double cap,
                      double dual, int perSequence, float *out) {
  double total = 0, tokens = 0;
  for (mm_i64 b = threadIdx.x; b < B; b += THREADS) {
    double rowTotal = 0, rowTokens = 0;
    for (mm_i64 t = 0; t < T; ++t) {
      const mm_i64 i = b * T + t;
      const double a = advPerToken ? adv[i] : adv[b];
      const double logRatio =
          mm_dclamp((double)lp[i] - (double)old[i], -clampLogRatio, clampLogRatio);
      const double r = exp(logRatio), c = mm_dclamp(r, 1 - epsLow, 1 + epsHigh);
      double loss;
      if (cispo) {
        loss = -(cap > 0 ? mm_dmin(r, cap) : c) * a * (double)lp[i];
      } else {
        loss = -mm_dmin(r * a, c * a);
        if (dual > 0 && a < 0)
          loss = mm_dmin(loss, -dual * a);
      }
      rowTotal += (double)mask[i] * loss;
      rowTokens += mask[i];
    }
    total += perSequence ? (rowTokens > 0 ? rowTotal / rowTokens : 0.0) : rowTotal;
    tokens += rowTokens;
  }
  total = mm_block_sum_double<THREADS>(total);
  tokens = mm_block_sum_double<THREADS>(tokens);
  if (threadIdx.x == 0) {
    const double count = normalizer ? (double)normalizer[0] : perSequence ? (double)B : tokens;
    out[0] = count > 0 ? (float)(total / count) : 0.0f;
  }
}

#endif // MM_CUDA_LOSS_CUH
