//===- epilogue.cuh - elementwise epilogue after a library GEMM (cuBLAS) ---===//
//
// cuBLAS writes acc = x W^T; a generated kernel then applies whatever the graph
// does next in one pass: y[i] = epi(acc[i], i). The functor sees the flat
// index so it can derive (row, col) for a row-major [rows, N] result itself.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_EPILOGUE_CUH
#define MM_CUDA_EPILOGUE_CUH

#include "activation.cuh"

/// y[i] = epi(acc[i], i) for i < n; acc == y allowed (in place).
/// Epi: `__device__ float operator()(float acc, mm_i64 i) const`.
/// Launch: block kElementwiseThreads, grid elementwiseBlocks(n).
template <class Epi>
__device__ __forceinline__ void mm_epilogue_kernel(const float *acc, float *y, mm_i64 n, Epi epi) {
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (mm_i64)gridDim.x * blockDim.x)
    y[i] = epi(acc[i], i);
}

/// acc + bias[i % N] (a linear layer's bias).
template <int N> struct MmBiasEpilogue {
  const float *bias;
  __device__ float operator()(float acc, mm_i64 i) const { return acc + bias[i % N]; }
};

/// residual[i] * alpha + acc * beta (the DeepNorm residual of a decoder block).
struct MmResidualEpilogue {
  const float *residual;
  float alpha, beta;
  __device__ float operator()(float acc, mm_i64 i) const {
    return residual[i] * alpha + acc * beta;
  }
};

/// Op()(acc): an activation straight after the GEMM (e.g. MmSiluOp for the
/// lightning qkv projection).
template <class Op> struct MmActivationEpilogue {
  __device__ float operator()(float acc, mm_i64) const { return Op()(acc); }
};

#endif // MM_CUDA_EPILOGUE_CUH
