//===- WeightStorage.h - how each weight of a compiled function is stored -===//
//
// --weight-dtype picks the storage of a function's float weights: f32, bf16
// (widened inside the kernels) or int8 (weight-only, one float32 scale per
// output row). int8 applies to the matrices that gemm and the grouped kinds
// read, except the MoE router's gate; every other weight (embeddings, norms,
// biases, anything an elementwise body reads) keeps f32, or bf16 when the checkpoint is bf16, as
// vLLM's weight-only schemes keep the model dtype. Per-weight overrides hold
// one weight apart (the LM head with --lm-head-dtype). The host and CUDA
// targets store alike.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_WEIGHTSTORAGE_H
#define MM_CODEGEN_WEIGHTSTORAGE_H

#include "codegen/host/HostCodegen.h"
#include "runtime/executable/ExecutableFile.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <map>
#include <set>
#include <string>

namespace mm {

/// The f32/bf16/int8 choice of every float weight of one function.
class WeightStorage {
public:
  /// Resolves `dtype` ("auto", "f32", "bf16" or "int8") and `overrides`
  /// (weight name -> "f32", "bf16" or "int8") for `fn` after the inference
  /// pipeline (it reads the kernels). Throws mm::Error naming the flag or the
  /// weight: an unknown type, an override of no weight, or int8 for a
  /// weight that is read otherwise than as a gemm's matrix.
  static WeightStorage resolve(mlir::func::FuncOp fn, const std::string &dtype,
                               const std::map<std::string, std::string> &overrides,
                               bool bf16Checkpoint);

  /// "f32", "bf16" or "int8" for the float weight `name`.
  std::string of(llvm::StringRef name) const;
  /// The executable's dtype of a weight of element type `element`.
  exe::DType dtype(mlir::Type element, llvm::StringRef name) const;
  /// The code generators' view of the same choice (host and CUDA).
  WeightTypes generatorTypes() const;

private:
  std::map<std::string, std::string> stored_; // float weights not stored as f32
};

/// The float weights of `fn` whose every use is the matrix of a gemm,
/// grouped_gemm or grouped_gemm_swiglu kernel: those int8 can hold. A gemm
/// that feeds a moe_router kernel is left out (the MoE gate).
std::set<std::string> int8WeightCandidates(mlir::func::FuncOp fn);

} // namespace mm

#endif // MM_CODEGEN_WEIGHTSTORAGE_H
