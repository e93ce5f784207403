//===- GenerationStep.h - a model's declared generation step ---*- C++ -*-===//
//
// A model function that an inference engine drives one prefill or decode
// step at a time declares how (models/MiniMaxBuilder.cpp does for @forward):
//
//   func.func @forward(%ids: tensor<?x?xi64> {mm.step_input = "token_ids", ...},
//                      %positions: ... {mm.step_input = "positions"},
//                      %cache_positions: ... {mm.step_input = "cache_positions"},
//                      %lengths: ... {mm.step_input = "lengths"},
//                      %k_cache: tensor<?x?x2x8xf32> {mm.dims = ["B", "S", "", ""]}, ...)
//       attributes {mm.generation_step = {batch = "B", tokens = "T",
//                   capacity = "S", logits = 0 : i64, all_logits = false}}
//
// Arguments without `mm.step_input` are the carried state (KV caches,
// lightning states): the engine allocates them zeroed for `batch` sequences
// of `capacity` tokens and the step updates them in place. The results are
// the logits and the updated state, in the state arguments' order. The compiler
// copies the declaration into the executable (Executable.generation_step),
// so neither it nor the runtime assumes a model's signature.
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_GENERATIONSTEP_H
#define MM_IR_GENERATIONSTEP_H

#include "runtime/engine/StepInput.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <optional>
#include <string>
#include <vector>

namespace mm {

/// The role named `name` ("token_ids", ...), or none.
std::optional<StepInput> parseStepInput(llvm::StringRef name);

struct GenerationStepDecl {
  /// Per function argument: its role, or none for state.
  std::vector<std::optional<StepInput>> argumentRoles;
  /// Shape symbols (as in mm.dims); imageTokens is empty without images.
  std::string batch, tokens, capacity, imageTokens;
  unsigned logitsResult = 0;
  bool allLogits = false;
};

/// The function's declaration, none if it declares no generation step, or
/// failure after an error at the function (a malformed declaration).
mlir::FailureOr<std::optional<GenerationStepDecl>> readGenerationStep(mlir::func::FuncOp fn);

} // namespace mm

#endif // MM_IR_GENERATIONSTEP_H
