//===- weights.cuh - weight storage read by the matrix kernels ------------===//
//
// The dense GEMV and the grouped GEMM / GEMV kernels take their weight matrix
// in one of the executable's three float storages (Executable.proto):
//   float    DTYPE_F32
//   mm_bf16  DTYPE_BF16, the upper 16 bits of a float32
//   mm_q8    DTYPE_I8_ROWS: rows * K int8 values, then one float32 scale per
//            row from the next 64-byte boundary
//            (runtime/compiled/WeightQuantization.h)
// Kernels widen the stored values to float32, which is exact for all three. An
// int8 output takes its row's scale once, after the dot product:
// y = scale_n * (x . q_n), the order of the host kernels (mmh::scaled).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_WEIGHTS_CUH
#define MM_CUDA_WEIGHTS_CUH

#include "common.cuh"

typedef unsigned short mm_bf16;
typedef signed char mm_q8;

__device__ __forceinline__ float mm_bf16_low(unsigned u) { return __uint_as_float(u << 16); }
__device__ __forceinline__ float mm_bf16_high(unsigned u) {
  return __uint_as_float(u & 0xffff0000u);
}
__device__ __forceinline__ float mm_q8_byte(unsigned u, int b) {
  return (float)(int)(signed char)(u >> (8 * b));
}

/// A weight read one at a time (norms, biases, fused elementwise code); int8
/// has no overload: int8 weights are matrices only.
__device__ __forceinline__ float mm_widen(float v) { return v; }
__device__ __forceinline__ float mm_widen(mm_bf16 v) { return __uint_as_float((unsigned)v << 16); }

/// One weight, widened (int8 without its row scale, as mm_load_w4).
__device__ __forceinline__ float mm_load_w1(const float *p) { return *p; }
__device__ __forceinline__ float mm_load_w1(const mm_bf16 *p) { return mm_widen(*p); }
__device__ __forceinline__ float mm_load_w1(const mm_q8 *p) { return (float)(int)*p; }

/// The first n (>= 1) of four consecutive weights from p, widened one at a
/// time, the rest zero: rows whose K is not a multiple of 4 are not aligned
/// for the vector loads below.
template <typename W> __device__ __forceinline__ float4 mm_load_w4_upto(const W *p, int n) {
  return make_float4(mm_load_w1(p), n > 1 ? mm_load_w1(p + 1) : 0.f,
                     n > 2 ? mm_load_w1(p + 2) : 0.f, n > 3 ? mm_load_w1(p + 3) : 0.f);
}

/// Four consecutive weights from p, widened; p is aligned to 4 elements.
__device__ __forceinline__ float4 mm_load_w4(const float *p) { return mm_load4(p); }
__device__ __forceinline__ float4 mm_load_w4(const mm_bf16 *p) {
  const uint2 u = *reinterpret_cast<const uint2 *>(p);
  return make_float4(mm_bf16_low(u.x), mm_bf16_high(u.x), mm_bf16_low(u.y), mm_bf16_high(u.y));
}
__device__ __forceinline__ float4 mm_load_w4(const mm_q8 *p) {
  const unsigned u = *reinterpret_cast<const unsigned *>(p);
  return make_float4(mm_q8_byte(u, 0), mm_q8_byte(u, 1), mm_q8_byte(u, 2), mm_q8_byte(u, 3));
}

/// Weights per 16-byte load.
template <typename W> struct MmWeightVector { static constexpr int VEC = 16 / (int)sizeof(W); };

/// The factor of each output row: 1 for float and bf16 weights, the stored
/// scale for int8 ones (`rows` rows of K values, so the scales start at the
/// first 64-byte boundary after rows * K bytes).
template <typename W> struct MmRowScales {
  __device__ MmRowScales(const W *, mm_i64, mm_i64) {}
  __device__ float operator[](mm_i64) const { return 1.f; }
};
template <> struct MmRowScales<mm_q8> {
  const float *scale;
  __device__ MmRowScales(const mm_q8 *q, mm_i64 rows, mm_i64 K)
      : scale(reinterpret_cast<const float *>(reinterpret_cast<const char *>(q) +
                                              (rows * K + 63) / 64 * 64)) {}
  __device__ float operator[](mm_i64 row) const { return scale[row]; }
};

#endif // MM_CUDA_WEIGHTS_CUH
