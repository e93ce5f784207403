//===- OpEvaluation.h - one graph op on the reference kernels ---*- C++ -*-===//
//
// The reference executor's per-op step, split by op family (one function
// each, in OpEvaluation.cpp): given the op and access to its operand values,
// each family computes the op's results with reference/kernels, or says the
// op is not one of its own. The executor (Executor.cpp) keeps what needs its
// state: constants, weights, supernet choices, kernel bodies, liveness.
//
//===----------------------------------------------------------------------===//
#ifndef MM_REFERENCE_OPEVALUATION_H
#define MM_REFERENCE_OPEVALUATION_H

#include "reference/kernels/Reference.h"
#include "runtime/Tensor.h"

#include "mlir/IR/Operation.h"
#include "llvm/ADT/SmallVector.h"

#include <functional>
#include <optional>

namespace mm {

struct OpEvaluation {
  mlir::Operation &op;
  /// An operand's value, shared with the environment.
  std::function<Tensor(mlir::Value)> in;
  /// An operand's value handed over when this op is its last use, so a
  /// kernel may update it in place (KV caches, lightning states).
  std::function<Tensor(mlir::Value)> take;
  DType precision;
  ref::LightningMode lightning;
  llvm::SmallVector<Tensor> results;

  std::optional<Tensor> opt(mlir::Value v) {
    return v ? std::optional<Tensor>(in(v)) : std::nullopt;
  }
  void unary(ref::UnaryKind k) { results.push_back(ref::unary(k, in(op.getOperand(0)))); }
  void binary(ref::BinaryKind k) {
    results.push_back(ref::binary(k, in(op.getOperand(0)), in(op.getOperand(1))));
  }
};

/// Each computes `e.op`'s results into `e.results` and returns true, or
/// returns false when the op is not of its family.
bool evaluateElementwise(OpEvaluation &e);
bool evaluateLinearAndNorm(OpEvaluation &e);
bool evaluateAttention(OpEvaluation &e);
bool evaluateMoE(OpEvaluation &e);
bool evaluateReduction(OpEvaluation &e);
bool evaluateShape(OpEvaluation &e);
bool evaluateLoss(OpEvaluation &e);
bool evaluateVisionAndRecsys(OpEvaluation &e);
/// Backward ops, zeros_like, and arith.cmpf / arith.select on tensors.
bool evaluateGradient(OpEvaluation &e);

} // namespace mm

#endif // MM_REFERENCE_OPEVALUATION_H
