//===- convert.cuh - float32 <-> bfloat16 conversion ----------------------===//
//
// Activations are converted to bf16 in front of a cuBLAS bf16 x bf16 -> fp32
// GEMM (mm::cuda::Cublas::gemmRowMajorBf16). Round to nearest even; NaN stays
// NaN (quiet); infinities and signed zeros are preserved.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_CONVERT_CUH
#define MM_CUDA_CONVERT_CUH

#include "weights.cuh"

__device__ __forceinline__ unsigned short mm_f32_to_bf16(float f) {
  unsigned u = __float_as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (unsigned short)((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (unsigned short)(u >> 16);
}

/// y[i] = bf16(x[i]). Launch: block kElementwiseThreads, grid elementwiseBlocks(n).
__device__ __forceinline__ void mm_f32_to_bf16_kernel(const float *x, unsigned short *y, mm_i64 n) {
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (mm_i64)gridDim.x * blockDim.x)
    y[i] = mm_f32_to_bf16(x[i]);
}
/// y[i] = float(x[i]). Launch as mm_f32_to_bf16_kernel.
__device__ __forceinline__ void mm_bf16_to_f32_kernel(const unsigned short *x, float *y, mm_i64 n) {
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (mm_i64)gridDim.x * blockDim.x)
    y[i] = mm_widen(x[i]);
}

#endif // MM_CUDA_CONVERT_CUH
