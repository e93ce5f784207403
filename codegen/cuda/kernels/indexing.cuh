//===- indexing.cuh - softmax along any dim, argmax, top-k, gather, scatter-add -===//
//
// The training and recommender graphs' indexing ops, over the [outer, len,
// inner] view of a tensor around one dim (inner = 1 for the last dim). One
// thread per independent lane, grid-stride loops: correct for every shape,
// not tuned (the MiniMax decode and prefill paths use none of them), and
// each computes what codegen/host/HostKernels.h computes, in the same order
// where the order changes the result.
// Launch: block kElementwiseThreads, grid elementwiseBlocks(lanes).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_INDEXING_CUH
#define MM_CUDA_INDEXING_CUH

#include "weights.cuh"

/// A stored element as another type: bf16 widens to float, others convert.
template <typename Out, typename In> __device__ __forceinline__ Out mm_convert(In v) {
  return (Out)v;
}
template <> __device__ __forceinline__ float mm_convert<float, mm_bf16>(mm_bf16 v) {
  return mm_widen(v);
}

/// (log_)softmax along the middle axis of [outer, len, inner]: one thread per
/// (outer, inner) lane; max, a double sum of exp(x - max), then as the host's
/// softmax_row: log: x - max - log(sum), else exp(x - max) / sum.
template <bool LOG>
__device__ __forceinline__ void mm_softmax_lanes_kernel(const float *x, float *y, mm_i64 outer,
                                                        mm_i64 len, mm_i64 inner) {
  const mm_i64 lanes = outer * inner;
  for (mm_i64 l = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; l < lanes;
       l += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 base = (l / inner) * len * inner + l % inner;
    float m = mm_neg_inf();
    for (mm_i64 j = 0; j < len; ++j)
      m = fmaxf(m, x[base + j * inner]);
    double sum = 0;
    for (mm_i64 j = 0; j < len; ++j)
      sum += (double)expf(x[base + j * inner] - m);
    const float logSum = (float)log(sum), inv = (float)(1.0 / sum);
    for (mm_i64 j = 0; j < len; ++j) {
      const float v = x[base + j * inner] - m;
      y[base + j * inner] = LOG ? v - logSum : expf(v) * inv;
    }
  }
}

/// The index of the first maximum along the middle axis of [outer, len,
/// inner], for each (outer, inner) lane: out [outer, inner].
template <typename T>
__device__ __forceinline__ void mm_argmax_kernel(const T *x, mm_i64 *out, mm_i64 outer, mm_i64 len,
                                                 mm_i64 inner) {
  const mm_i64 lanes = outer * inner;
  for (mm_i64 l = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; l < lanes;
       l += (mm_i64)gridDim.x * blockDim.x) {
    const T *row = x + (l / inner) * len * inner + l % inner;
    mm_i64 best = 0;
    for (mm_i64 j = 1; j < len; ++j)
      if (row[j * inner] > row[best * inner])
        best = j;
    out[l] = best;
  }
}

/// The k largest of each row of n, descending; ties keep the lower index (as
/// the host's partial_sort with that order). One thread per row selects them
/// in k passes: each takes the best element ordered after the last one taken
/// (with NaNs, which order nowhere, the lowest index not yet taken).
template <typename T>
__device__ __forceinline__ void mm_top_k_kernel(const T *x, T *values, mm_i64 *indices, mm_i64 rows,
                                                mm_i64 n, mm_i64 k) {
  for (mm_i64 r = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; r < rows;
       r += (mm_i64)gridDim.x * blockDim.x) {
    const T *row = x + r * n;
    mm_i64 last = -1;
    for (mm_i64 s = 0; s < k; ++s) {
      mm_i64 best = -1;
      for (mm_i64 j = 0; j < n; ++j) {
        // j comes after `last` in (value descending, index ascending) order ...
        const bool after = last < 0 || row[j] < row[last] || (row[j] == row[last] && j > last);
        // ... and before the best candidate so far.
        if (after && (best < 0 || row[j] > row[best] || (row[j] == row[best] && j < best)))
          best = j;
      }
      if (best < 0) { // NaN compares false both ways: the lowest index not yet taken
        for (mm_i64 j = 0; j < n && best < 0; ++j) {
          bool taken = false;
          for (mm_i64 t = 0; t < s; ++t)
            taken = taken || indices[r * k + t] == j;
          best = taken ? -1 : j;
        }
      }
      values[r * k + s] = row[best];
      indices[r * k + s] = best;
      last = best;
    }
  }
}

/// mm.gather: out[o, j, c] = in[o, index[o / between, j], c] over input rows
/// [outer, D, inner] and J indices per batch entry; one thread per output
/// element. An index outside [0, D) sets kIndexOutOfRange (the element is 0).
template <typename In, typename T>
__device__ __forceinline__ void mm_gather_kernel(const In *in, const mm_i64 *index, T *out,
                                                 mm_i64 outer, mm_i64 between, mm_i64 D,
                                                 mm_i64 inner, mm_i64 J, int *error) {
  const mm_i64 n = outer * J * inner;
  for (mm_i64 e = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; e < n;
       e += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 c = e % inner, j = (e / inner) % J, o = e / (inner * J);
    const mm_i64 row = index[(o / between) * J + j];
    if (row < 0 || row >= D) {
      mm_report_error(error, mmk::kIndexOutOfRange);
      out[e] = (T)0;
      continue;
    }
    out[e] = mm_convert<T>(in[(o * D + row) * inner + c]);
  }
}

/// mm.scatter_add: out = dest, then out[o, index[o / perBatch, m], c] +=
/// updates[o, m, c] over [outer, D, inner] and M indices per batch entry.
/// One thread per (o, c) lane owns its column, so repeated indices add in
/// order (as on the host) without atomics. An index outside [0, D) sets
/// kIndexOutOfRange and its update is skipped.
template <typename T>
__device__ __forceinline__ void
mm_scatter_add_kernel(const T *dest, const mm_i64 *index, const T *updates, T *out, mm_i64 outer,
                      mm_i64 D, mm_i64 inner, mm_i64 M, mm_i64 perBatch, int *error) {
  const mm_i64 lanes = outer * inner;
  for (mm_i64 l = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; l < lanes;
       l += (mm_i64)gridDim.x * blockDim.x) {
    const mm_i64 o = l / inner, c = l % inner;
    if (out != dest)
      for (mm_i64 d = 0; d < D; ++d)
        out[(o * D + d) * inner + c] = dest[(o * D + d) * inner + c];
    const mm_i64 *rows = index + (o / perBatch) * M;
    for (mm_i64 m = 0; m < M; ++m) {
      if (rows[m] < 0 || rows[m] >= D) {
        mm_report_error(error, mmk::kIndexOutOfRange);
        continue;
      }
      out[(o * D + rows[m]) * inner + c] += updates[(o * M + m) * inner + c];
    }
  }
}

#endif // MM_CUDA_INDEXING_CUH
