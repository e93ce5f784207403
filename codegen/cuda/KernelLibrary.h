//===- KernelLibrary.h - the CUDA kernel library as text, and how to launch it -===//
//
// The device kernels live in codegen/cuda/kernels/*.cuh (documented there).
// They are embedded into the binary so that a generated CUDA source is simply
//
//     kernelLibrarySource() + "extern \"C\" __global__ void mm_k7(...) { ... }"
//
// compiled by mm::cuda::Nvrtc. The launch shapes below are computed from
// kernels/interface.cuh, the same constants the device code is written
// against. No MLIR, no CUDA toolkit needed to build.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_CUDA_KERNELLIBRARY_H
#define MM_CODEGEN_CUDA_KERNELLIBRARY_H

#include "codegen/cuda/kernels/interface.cuh"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mm::cuda {

struct KernelHeader {
  std::string name; // e.g. "lightning.cuh"
  std::string text; // with the library's own #include lines commented out
};

/// Every library header, in dependency order.
const std::vector<KernelHeader> &kernelHeaders();
/// All headers concatenated in dependency order: the prefix of a generated source.
const std::string &kernelLibrarySource();
/// `text` with every `#include "*.cuh"` line commented out, for sources that are
/// appended to kernelLibrarySource() (and include library headers for editors).
std::string stripKernelIncludes(const std::string &text);
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

LaunchShape attentionPrefill(int64_t batch, int64_t tokens, int qHeads, int kvHeads,
                             int headDim);
/// Flash-decoding split count: enough CTAs for the GPU's `multiprocessors`,
/// no split shorter than one key tile.
int attentionDecodeSplits(int64_t batch, int kvHeads, int64_t capacity, int multiprocessors);
LaunchShape attentionDecode(int64_t batch, int qHeads, int kvHeads, int headDim, int splits);
LaunchShape attentionDecodeCombine(int64_t batch, int qHeads, int headDim);

LaunchShape lightningState(int64_t batch, int64_t tokens, int heads, int blockSize);
LaunchShape lightningScan(int64_t batch, int heads, int headDim);
LaunchShape lightningOutput(int64_t batch, int64_t tokens, int heads, int headDim,
                            int blockSize);
LaunchShape lightningDecode(int64_t batch, int heads, int headDim);

LaunchShape moeRouter(int64_t tokens);
LaunchShape moeSort();
LaunchShape groupedGemm(int64_t rows, int outFeatures, int experts);
LaunchShape groupedSwiglu(int64_t rows, int outFeatures, int experts);
/// mm_moe_grouped_gemv_kernel (either form), for up to kGroupedGemvMaxRows rows.
LaunchShape groupedGemv(int outFeatures, int experts);
} // namespace launch

} // namespace mm::cuda

#endif // MM_CODEGEN_CUDA_KERNELLIBRARY_H
