//===- LibraryInstances.h - every library kernel for one model config ------===//
//
// Emits, as the code generator would, an extern "C" __global__ wrapper for
// each kernel of codegen/cuda/kernels at one model configuration, so that
// mm-cuda-compile-tests can compile all of them and report their resources.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TEST_CUDA_LIBRARYINSTANCES_H
#define MM_TEST_CUDA_LIBRARYINSTANCES_H

#include <string>
#include <vector>

namespace mm::cudatest {

struct ModelDims {
  std::string name;
  int hidden, heads, kvHeads, headDim, rotaryDim, experts, topK, intermediate, blockSize;
};

/// tiny: hidden 32, heads 4, kv heads 2, head_dim 16, rotary 8, experts 4,
/// top-k 2, intermediate 64, block 16. full: MiniMax-Text-01.
ModelDims tinyDims();
ModelDims fullDims();

struct KernelInstance {
  std::string name;    // extern "C" symbol, "<config>_<kernel>"
  std::string wrapper; // its source
};
std::vector<KernelInstance> libraryInstances(const ModelDims &dims);

} // namespace mm::cudatest

#endif // MM_TEST_CUDA_LIBRARYINSTANCES_H
