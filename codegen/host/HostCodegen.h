//===- HostCodegen.h - C++ for CPUs from kernel-granularity mm IR -*- C++ -*-===//
//
// After mm-inference-pipeline, @forward is kernels, views, weights and
// constants. Each mm.kernel becomes one `extern "C" int mm_kernel_<i>(const
// mm_kernel_ctx *)` that instantiates a template of HostKernels.h with the
// kernel's constants (dims, eps, decay slopes, RoPE parameters) and with its
// fused elementwise ops emitted as straight-line C++ in lambdas. Run-time sizes
// (B, T, S) arrive in the context; every other size is a literal.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_HOST_HOSTCODEGEN_H
#define MM_CODEGEN_HOST_HOSTCODEGEN_H

#include "passes/SymbolicShapes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace mm {

extern const char *const kHostKernelsHeader;
/// codegen/host/HostBackwardKernels.h, appended after it.
extern const char *const kHostBackwardKernelsHeader;

struct GeneratedKernel {
  std::string name;     // the exported symbol: mm_kernel_<index>, then mmk_<hash>
                        // once named by content (HostCompiler.h)
  std::string kind;     // the mm.kernel kind
  std::string location; // of the mm.kernel op, for run-time errors
  std::string code;     // the function
  /// JSON of what the runtime adds to the launch: a collective's grid,
  /// axes and reduction (empty for plain kernels).
  std::string plan;
};

struct HostProgram {
  std::vector<GeneratedKernel> kernels; // in the order of the mm.kernel ops
  /// The translation unit: the kernel library, then every kernel.
  std::string source() const;
  /// One kernel as a self-contained file (the library, then that kernel).
  std::string kernelSource(size_t index) const;
};

/// Storage type of each weight by mm.param name: "f32" (default), "bf16",
/// or "int8" (a matrix of gemm or the grouped kinds only; see
/// int8WeightCandidates in codegen/WeightStorage.h).
using WeightTypes = llvm::StringMap<std::string>;

/// Generates the host program of `fn`; emits an error at the kernel that no
/// template covers and fails.
mlir::FailureOr<HostProgram> generateHostProgram(mlir::func::FuncOp fn,
                                                 const SymbolicShapes &shapes,
                                                 const WeightTypes &weightTypes);

} // namespace mm

#endif // MM_CODEGEN_HOST_HOSTCODEGEN_H
