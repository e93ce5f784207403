//===- activation.cuh - elementwise activations and flat elementwise kernels -===//
//
// Scalar functions matching reference/kernels/Elementwise.cpp (applyUnary,
// swiglu) in float32, as functor types so fused kernels can take them as
// template parameters. Accuracy: expf / erff / tanhf / logf / sqrtf without
// fast-math are within 2 ulp of the correctly rounded value, so each function
// differs from the float CPU reference by a few ulp (relative 1e-6 for
// |x| < 80); x / sqrt(2) is computed as x * (1 / sqrt(2)) (one more rounding).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_ACTIVATION_CUH
#define MM_CUDA_ACTIVATION_CUH

#include "common.cuh"

/// x * sigmoid(x), written as x / (1 + e^-x) like the reference.
__device__ __forceinline__ float mm_silu(float x) { return x / (1.0f + expf(-x)); }
__device__ __forceinline__ float mm_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }
__device__ __forceinline__ float mm_relu(float x) { return x > 0.f ? x : 0.f; }
/// Exact GELU: 0.5 x (1 + erf(x / sqrt 2)).
__device__ __forceinline__ float mm_gelu(float x) {
  return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
}
/// Tanh-approximated GELU: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
__device__ __forceinline__ float mm_gelu_tanh(float x) {
  return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

struct MmIdentityOp {
  __device__ float operator()(float x) const { return x; }
};
struct MmSiluOp {
  __device__ float operator()(float x) const { return mm_silu(x); }
};
struct MmSigmoidOp {
  __device__ float operator()(float x) const { return mm_sigmoid(x); }
};
struct MmReluOp {
  __device__ float operator()(float x) const { return mm_relu(x); }
};
struct MmTanhOp {
  __device__ float operator()(float x) const { return tanhf(x); }
};
struct MmExpOp {
  __device__ float operator()(float x) const { return expf(x); }
};
struct MmLogOp {
  __device__ float operator()(float x) const { return logf(x); }
};
struct MmSqrtOp {
  __device__ float operator()(float x) const { return sqrtf(x); }
};
struct MmRsqrtOp {
  __device__ float operator()(float x) const { return 1.0f / sqrtf(x); }
};
struct MmNegOp {
  __device__ float operator()(float x) const { return -x; }
};
struct MmGeluOp {
  __device__ float operator()(float x) const { return mm_gelu(x); }
};
struct MmGeluTanhOp {
  __device__ float operator()(float x) const { return mm_gelu_tanh(x); }
};

/// y[i] = Op()(x[i]) for i < n (x == y allowed).
/// Launch: block kElementwiseThreads, grid elementwiseBlocks(n).
template <class Op>
__device__ __forceinline__ void mm_unary_kernel(const float *x, float *y, mm_i64 n) {
  Op op;
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (mm_i64)gridDim.x * blockDim.x)
    y[i] = op(x[i]);
}

/// y[i] = silu(gate[i]) * up[i], as ref::swiglu. Launch as mm_unary_kernel.
__device__ __forceinline__ void mm_swiglu_kernel(const float *gate, const float *up, float *y,
                                                 mm_i64 n) {
  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < n;
       i += (mm_i64)gridDim.x * blockDim.x)
    y[i] = mm_silu(gate[i]) * up[i];
}

#endif // MM_CUDA_ACTIVATION_CUH
