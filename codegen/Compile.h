//===- Compile.h - mm modules to mmc executables ----------------*- C++ -*-===//
//
// The compiler in one call: run mm-inference-pipeline (fusion, memory
// planning) on one function of an mm module, generate its kernels for the
// target, compile them, and package everything as an exe::Executable
// (runtime/executable/Executable.proto) that declares the function's
// interface. `compileFunction` takes any module; `compileMiniMax` is one
// client of it (config -> builder -> module -> the same compile).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_COMPILE_H
#define MM_CODEGEN_COMPILE_H

#include "frontends/Checkpoint.h"
#include "frontends/ModelConfig.h"
#include "passes/Pipelines.h"
#include "runtime/executable/ExecutableFile.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mm {

/// Where the compile of `function` stops: after a phase of
/// mm-inference-pipeline (its IR is then in `finalIR` and no code is made),
/// after generating the kernel sources (`kernelSources`, nothing compiled),
/// or at the end.
enum class CompilePhase { Input, Cleanup, Fusion, MemoryPlan, Sources, End };
/// "input", "cleanup", "fusion", "memory-plan", "sources" or "end"; nullopt
/// otherwise.
std::optional<CompilePhase> parseCompilePhase(const std::string &name);

struct CompileOptions {
  enum class Target { CPU, CUDA } target = Target::CPU;
  /// The largest value of each shape symbol (the arguments' mm.dims names);
  /// the memory plan is sized for them. MiniMax: B, T and S from the three
  /// fields below unless given here.
  std::map<std::string, int64_t> symbolMax;
  int64_t maxBatch = 8;
  int64_t maxTokens = 512;
  int64_t maxContext = 4096;
  /// Weight storage (codegen/WeightStorage.h): "auto" (bf16 if the
  /// checkpoint is bf16, else f32), "f32", "bf16", or "int8" (the gemm
  /// matrices int8 with per-row scales, the other weights as "auto").
  std::string weightDType = "auto";
  /// Weights stored otherwise ("f32", "bf16" or "int8"), by name: the LM head
  /// with --lm-head-dtype, or in float32 with mm-train rl --lm-head-fp32, as
  /// MiniMax-M1 computes it.
  std::map<std::string, std::string> weightDTypeOf;
  bool allLogits = false;
  /// MiniMax-VL-01: @forward merges image features at this token id; they
  /// are planned for up to `maxImageTokens` rows per step (symbol I).
  std::optional<int64_t> imageTokenId;
  int64_t maxImageTokens = 4096;
  /// CUDA: the architecture NVRTC compiles for ahead of time ("sm_90"), or
  /// "jit" to leave compilation to the runtime on the GPU it finds.
  std::string cudaArch = "sm_90";
  /// Apply MLIR's pass-manager command-line options (--mlir-print-ir-after-all,
  /// --mlir-timing, crash reproducers) to the pipeline; the tool must have
  /// registered and parsed them.
  bool passManagerCLOptions = false;
  /// MiniMax @forward: this rank's program of tensor (and expert)
  /// parallelism (buildModelParallelPipeline before the inference pipeline).
  ModelParallelism parallelism;
  /// --compile-to: stop after this phase and return its IR.
  CompilePhase stopAt = CompilePhase::End;
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

/// `--max NAME=VALUE` entries as CompileOptions::symbolMax; throws mm::Error
/// naming a malformed entry.
std::map<std::string, int64_t> parseSymbolMaxima(const std::vector<std::string> &entries);

/// Compiles `function` of `module` (other functions are dropped from the
/// module). `weightSources` names the checkpoint tensors each weight is read
/// from, for the manifest (may be null). Throws mm::Error with the MLIR
/// diagnostics, each with its location.
CompileResult compileFunction(
    mlir::ModuleOp module, const std::string &function, const CompileOptions &options,
    const std::function<std::vector<std::string>(const std::string &)> &weightSources = nullptr,
    bool bf16CheckpointWeights = false);

/// MiniMax: builds @forward from `config` and compiles it; the executable
/// records the config and the model folder.
CompileResult compileMiniMax(const MiniMaxConfig &config, const std::string &configJson,
                             const std::string &modelDir, const Checkpoint *checkpoint,
                             const CompileOptions &options);

} // namespace mm

#endif // MM_CODEGEN_COMPILE_H
