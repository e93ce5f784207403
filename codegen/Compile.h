//===- Compile.h - MiniMax config to an mmc executable ----------*- C++ -*-===//
//
// The whole compiler in one call: build the graph, run mm-inference-pipeline
// (fusion, memory planning), generate the kernels, compile them, and package
// everything as an exe::Executable (runtime/executable/Executable.proto).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_COMPILE_H
#define MM_CODEGEN_COMPILE_H

#include "frontends/Checkpoint.h"
#include "frontends/ModelConfig.h"
#include "runtime/executable/ExecutableFile.h"

#include <string>
#include <vector>

namespace mm {

struct CompileOptions {
  enum class Target { CPU, CUDA } target = Target::CPU;
  int64_t maxBatch = 8;
  int64_t maxTokens = 512;
  int64_t maxContext = 4096;
  /// Weight storage: "auto" (bf16 if the checkpoint is bf16, else f32),
  /// "f32" or "bf16".
  std::string weightDType = "auto";
  bool allLogits = false;
  /// CUDA: the architecture NVRTC compiles for ahead of time ("sm_90"), or
  /// "jit" to leave compilation to the runtime on the GPU it finds.
  std::string cudaArch = "sm_90";
};

struct CompiledKernelSource {
  std::string fileName; // e.g. "k012_gemm.cpp" or "k012_gemm.cu"
  std::string source;   // self-contained
};

struct CompileResult {
  exe::Executable executable;
  std::vector<CompiledKernelSource> kernelSources;
  std::string finalIR; // the mm IR after the pipeline, for --emit-ir
};

/// Throws mm::Error naming what failed (with MLIR diagnostics).
CompileResult compileMiniMax(const MiniMaxConfig &config, const std::string &configJson,
                             const std::string &modelDir, const Checkpoint *checkpoint,
                             const CompileOptions &options);

} // namespace mm

#endif // MM_CODEGEN_COMPILE_H
