//===- LaunchShapes.h - how the runtime launches the CUDA kernel library -*- C++ -*-===//
//
// The runtime side of the device interface: launch shapes computed from
// interface.cuh (the constants the device code is written against) and the
// meaning of the error codes kernels report. The code generator includes
// these from here; the runtime includes nothing from the compiler.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_LAUNCHSHAPES_H
#define MM_RUNTIME_CUDA_LAUNCHSHAPES_H

#include "runtime/cuda/interface.cuh"

#include <cstdint>

namespace mm::cuda {

/// Human-readable meaning of an mmk::ErrorCode read back from a kernel's error flag.
const char *kernelErrorMessage(int code);

/// Grid, block and dynamic shared memory of one launch.
struct LaunchShape {
  unsigned grid[3] = {1, 1, 1};
  unsigned block = 1;
  unsigned sharedBytes = 0;
};

/// Launch shapes of the library kernels; each matches the "Launch:" line of
/// the kernel's documentation. Row counts are capped where the kernel
/// grid-strides over rows.
namespace launch {
/// Block-per-row kernels (rms_norm, softmax rows, embedding, gather rows, rope,
/// kv-cache write, MoE gather / combine) with `threads` threads.
LaunchShape rows(int64_t rows, int threads);
/// Flat elementwise kernels (unary, swiglu, epilogue, conversions, invert order).
LaunchShape elementwise(int64_t n);

LaunchShape attentionPrefill(int64_t batch, int64_t tokens, int qHeads, int kvHeads, int headDim);
/// Flash-decoding split count: enough CTAs for the GPU's `multiprocessors`,
/// no split shorter than one key tile.
int attentionDecodeSplits(int64_t batch, int kvHeads, int64_t capacity, int multiprocessors);
LaunchShape attentionDecode(int64_t batch, int qHeads, int kvHeads, int headDim, int splits);
LaunchShape attentionDecodeCombine(int64_t batch, int qHeads, int headDim);

LaunchShape lightningState(int64_t batch, int64_t tokens, int heads, int blockSize);
LaunchShape lightningScan(int64_t batch, int heads, int headDim);
LaunchShape lightningOutput(int64_t batch, int64_t tokens, int heads, int headDim, int blockSize);
LaunchShape lightningDecode(int64_t batch, int heads, int headDim);

LaunchShape moeRouter(int64_t tokens);
LaunchShape moeSort();
LaunchShape groupedGemm(int64_t rows, int outFeatures, int experts);
LaunchShape groupedSwiglu(int64_t rows, int outFeatures, int experts);
/// mm_moe_grouped_gemv_kernel (either form), for up to kGroupedGemvMaxRows
/// rows, with weights of `weightBytes` bytes (4 f32, 2 bf16, 1 int8).
LaunchShape groupedGemv(int outFeatures, int experts, int weightBytes = 4);
/// mm_gemv_kernel (a dense weight's few-row product).
LaunchShape gemv(int outFeatures, int weightBytes = 4);
} // namespace launch

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_LAUNCHSHAPES_H
