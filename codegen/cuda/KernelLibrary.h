//===- KernelLibrary.h - the CUDA kernel library as text, and how to launch it -===//
//
// The device kernels live in codegen/cuda/kernels/*.cuh (documented there).
// They are embedded into the binary so that a generated CUDA source is simply
//
//     kernelLibrarySource() + "extern \"C\" __global__ void mm_k7(...) { ... }"
//
// compiled by mm::cuda::Nvrtc. The launch shapes (runtime/cuda/LaunchShapes.h)
// are computed from runtime/cuda/interface.cuh, the same constants the device
// code is written against. No MLIR, no CUDA toolkit needed to build.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_CUDA_KERNELLIBRARY_H
#define MM_CODEGEN_CUDA_KERNELLIBRARY_H

#include "runtime/cuda/LaunchShapes.h"

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

} // namespace mm::cuda

#endif // MM_CODEGEN_CUDA_KERNELLIBRARY_H
