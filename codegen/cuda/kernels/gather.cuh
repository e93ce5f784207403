//===- gather.cuh - embedding lookup and batched row gather ---------------===//
#ifndef MM_CUDA_GATHER_CUH
#define MM_CUDA_GATHER_CUH

#include "common.cuh"
#include "weights.cuh"

/// dst[0, ROW) = src[0, ROW) (float32, or bf16 weights widened) by the threads
/// of one block (4 at a time when ROW % 4 == 0), or zeros when src is null.
template <int ROW, int THREADS, typename S>
__device__ __forceinline__ void mm_copy_row(const S *src, float *dst) {
  if (ROW % 4 == 0) {
    for (int i = threadIdx.x; i < ROW / 4; i += THREADS)
      mm_store4(dst + 4 * i, src ? mm_load_w4(src + 4 * i) : mm_zero4());
  } else {
    for (int i = threadIdx.x; i < ROW; i += THREADS)
      dst[i] = src ? mm_widen(src[i]) : 0.f;
  }
}

/// out[r, :] = table[ids[r], :] for r < count (ref::embedding; a bf16 table
/// widened); an id outside [0, vocab) sets kIndexOutOfRange and writes a zero
/// row. Launch: block THREADS (e.g. mmk::rowThreads(HIDDEN / 4)), grid up to count.
template <int HIDDEN, int THREADS, typename W>
__device__ __forceinline__ void mm_embedding_kernel(const W *table, const mm_i64 *ids, float *out,
                                                    mm_i64 count, mm_i64 vocab, int *error) {
  for (mm_i64 r = blockIdx.x; r < count; r += gridDim.x) {
    mm_i64 id = ids[r];
    bool ok = id >= 0 && id < vocab;
    if (!ok && threadIdx.x == 0)
      mm_report_error(error, mmk::kIndexOutOfRange);
    mm_copy_row<HIDDEN, THREADS>(ok ? table + id * HIDDEN : nullptr, out + r * HIDDEN);
  }
}

/// mm.gather with batch_dims = 1 on dim 1 (ref::gather): x [batch, n, ROW],
/// indices [batch, perBatch] -> out [batch, perBatch, ROW],
/// out[b, j, :] = x[b, indices[b, j], :]. Used to take the last token of each
/// sequence. An index outside [0, n) sets kIndexOutOfRange and writes zeros.
/// Launch: block THREADS, grid up to batch * perBatch.
template <int ROW, int THREADS>
__device__ __forceinline__ void mm_gather_rows_kernel(const float *x, const mm_i64 *indices,
                                                      float *out, mm_i64 batch, mm_i64 n,
                                                      mm_i64 perBatch, int *error) {
  for (mm_i64 r = blockIdx.x; r < batch * perBatch; r += gridDim.x) {
    mm_i64 b = r / perBatch, i = indices[r];
    bool ok = i >= 0 && i < n;
    if (!ok && threadIdx.x == 0)
      mm_report_error(error, mmk::kIndexOutOfRange);
    mm_copy_row<ROW, THREADS>(ok ? x + (b * n + i) * ROW : nullptr, out + r * ROW);
  }
}

#endif // MM_CUDA_GATHER_CUH
