//===- CudaCodegen.h - CUDA C++ from kernel-granularity mm IR ---*- C++ -*-===//
//
// Each mm.kernel becomes one or more `extern "C" __global__` wrappers,
// mm_k<i>_<step>, that instantiate the CUDA kernel library
// (codegen/cuda/kernels/*.cuh) with the kernel's constants and with its fused
// elementwise prologue / epilogue as generated device functors. A wrapper
// takes every operand pointer of its mm.kernel (inputs, then results) and then
// the step's own arguments. Which wrappers run (prefill or decode forms), on
// which grid and with which scratch is decided here too, as typed launch
// steps (CudaLaunchBuilder.h, runtime/executable/CudaLaunch.proto) that the
// runtime evaluates per call. Dense GEMMs are cuBLAS calls whose
// epilogue runs as a generated kernel over the result in place; with bf16 or
// int8 weights they also get a GEMV wrapper (decode) and widen / scale
// wrappers around cuBLAS (prefill).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_CUDACODEGEN_H
#define MM_CODEGEN_CUDACODEGEN_H

#include "codegen/host/HostCodegen.h"
#include "passes/SymbolicShapes.h"

#include "CudaLaunch.pb.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace mm {

struct CudaKernelPlan {
  std::string kind;
  std::string location;
  std::string prefix; // mm_k<i>
  /// The wrappers it runs are <symbol>_<step>: its own prefix, or that of an
  /// earlier kernel with the same code (then the program source leaves its
  /// code out).
  std::string symbol;
  bool shared() const { return symbol != prefix; }
  exe::CudaLaunchPlan launch; // how the runtime launches it
  std::string code;     // its generated wrappers and functors
};

struct CudaProgram {
  std::vector<CudaKernelPlan> kernels;
  /// The CUDA source: the kernel library, the generated prelude, every kernel.
  std::string source() const;
  /// One kernel as a self-contained .cu file.
  std::string kernelSource(size_t index) const;
};

/// `weightTypes` names the weights stored bf16 or int8 (the matrices of gemm
/// and grouped kernels; codegen/WeightStorage.h), which the wrappers take as
/// mm_bf16 / mm_q8 pointers.
mlir::FailureOr<CudaProgram> generateCudaProgram(mlir::func::FuncOp fn,
                                                 const SymbolicShapes &shapes,
                                                 const WeightTypes &weightTypes);

} // namespace mm

#endif // MM_CODEGEN_CUDACODEGEN_H
