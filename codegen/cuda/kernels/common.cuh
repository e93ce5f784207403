//===- common.cuh - types, constants and reductions of the kernel library -===//
//
// Every kernel header includes this one. The library is compiled by NVRTC
// (no host standard headers: INFINITY, int64_t and friends are defined here)
// and, for CPU tests, by a host compiler behind a CUDA emulation header that
// defines MM_CUDA_EMULATION.
//
// Conventions of the whole library:
//  - FP32 data and FP32 accumulation; integer tensors (ids, positions,
//    lengths, expert indices, offsets) are int64 (`mm_i64`).
//  - Model dimensions are template constants; runtime sizes (batch, tokens,
//    cache capacity, rows) are arguments.
//  - Kernel bodies are `__device__` functions named mm_*_kernel, meant to be
//    the whole body of an `extern "C" __global__` wrapper written by the code
//    generator; each header states the launch shape (see interface.cuh).
//  - Bad runtime input sets `*error` (mmk::ErrorCode) and skips the work.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_COMMON_CUH
#define MM_CUDA_COMMON_CUH

#include "runtime/cuda/interface.cuh"

typedef long long mm_i64;
typedef unsigned long long mm_u64;

#define MM_FULL_MASK 0xffffffffu

__device__ __forceinline__ float mm_inf() { return __int_as_float(0x7f800000); }
__device__ __forceinline__ float mm_neg_inf() { return __int_as_float((int)0xff800000u); }

__device__ __forceinline__ int mm_min(int a, int b) { return a < b ? a : b; }
__device__ __forceinline__ int mm_max(int a, int b) { return a > b ? a : b; }
__device__ __forceinline__ mm_i64 mm_min64(mm_i64 a, mm_i64 b) { return a < b ? a : b; }
__device__ __forceinline__ mm_i64 mm_max64(mm_i64 a, mm_i64 b) { return a > b ? a : b; }

/// Records the first error of a launch; later ones are dropped.
__device__ __forceinline__ void mm_report_error(int *error, int code) {
  if (error)
    atomicCAS(error, 0, code);
}

//===--- vector access (callers guarantee 16-byte alignment) --------------===//

__device__ __forceinline__ float4 mm_load4(const float *p) {
  return *reinterpret_cast<const float4 *>(p);
}
__device__ __forceinline__ void mm_store4(float *p, float4 v) {
  *reinterpret_cast<float4 *>(p) = v;
}
__device__ __forceinline__ float4 mm_zero4() { return make_float4(0.f, 0.f, 0.f, 0.f); }

//===--- dynamic shared memory -------------------------------------------===//

#ifdef MM_CUDA_EMULATION
__device__ __forceinline__ float *mm_dynamic_smem() {
  return reinterpret_cast<float *>(mm_emu_dynamic_smem());
}
__device__ __forceinline__ unsigned mm_dynamic_smem_size() { return mm_emu_dynamic_smem_size(); }
#else
extern __shared__ __align__(16) float mm_dynamic_smem_floats[];
__device__ __forceinline__ float *mm_dynamic_smem() { return mm_dynamic_smem_floats; }
__device__ __forceinline__ unsigned mm_dynamic_smem_size() {
  unsigned bytes;
  asm volatile("mov.u32 %0, %%dynamic_smem_size;" : "=r"(bytes));
  return bytes;
}
#endif

/// True (for every thread) when the launch has at least `bytes` of dynamic
/// shared memory; otherwise thread 0 reports kSharedMemoryTooSmall.
__device__ __forceinline__ bool mm_has_dynamic_smem(unsigned bytes, int *error) {
  if (mm_dynamic_smem_size() >= bytes)
    return true;
  if (threadIdx.x == 0)
    mm_report_error(error, mmk::kSharedMemoryTooSmall);
  return false;
}

//===--- reductions -------------------------------------------------------===//

__device__ __forceinline__ float mm_warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v += __shfl_xor_sync(MM_FULL_MASK, v, o);
  return v;
}
__device__ __forceinline__ float mm_warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(MM_FULL_MASK, v, o));
  return v;
}
/// Sum / max over the WIDTH lanes of an aligned lane group (WIDTH a power of two <= 32).
template <int WIDTH> __device__ __forceinline__ float mm_group_sum(float v) {
  for (int o = WIDTH / 2; o > 0; o >>= 1)
    v += __shfl_xor_sync(MM_FULL_MASK, v, o);
  return v;
}
template <int WIDTH> __device__ __forceinline__ float mm_group_max(float v) {
  for (int o = WIDTH / 2; o > 0; o >>= 1)
    v = fmaxf(v, __shfl_xor_sync(MM_FULL_MASK, v, o));
  return v;
}

/// Block-wide sum for THREADS (a multiple of 32) threads; every thread gets the
/// result. Uses 33 floats of static shared memory; safe to call repeatedly.
template <int THREADS> __device__ __forceinline__ float mm_block_sum(float v) {
  static_assert(THREADS % 32 == 0 && THREADS <= 1024, "block of whole warps");
  __shared__ float partial[33];
  v = mm_warp_sum(v);
  if (THREADS == 32)
    return v;
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float w = lane < THREADS / 32 ? partial[lane] : 0.f;
    w = mm_warp_sum(w);
    if (lane == 0)
      partial[32] = w;
  }
  __syncthreads();
  float total = partial[32];
  __syncthreads(); // partial[] may be reused by the next call
  return total;
}

template <int THREADS> __device__ __forceinline__ float mm_block_max(float v) {
  static_assert(THREADS % 32 == 0 && THREADS <= 1024, "block of whole warps");
  __shared__ float partial[33];
  v = mm_warp_max(v);
  if (THREADS == 32)
    return v;
  int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  if (lane == 0)
    partial[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float w = lane < THREADS / 32 ? partial[lane] : mm_neg_inf();
    w = mm_warp_max(w);
    if (lane == 0)
      partial[32] = w;
  }
  __syncthreads();
  float total = partial[32];
  __syncthreads();
  return total;
}

#endif // MM_CUDA_COMMON_CUH
