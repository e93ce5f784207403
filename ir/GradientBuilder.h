//===- GradientBuilder.h - building blocks of vector-Jacobian rules -*- C++ -*-===//
//
// The small graph pieces that most rules share: constants, zeros, undoing a
// broadcast, elementwise arithmetic on builder + location. Rules stay short
// formulas, and every one builds its gradient from ops that already run on
// the reference executor and the compiled backends.
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_GRADIENTBUILDER_H
#define MM_IR_GRADIENTBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mm {

/// The ranked tensor type of `v` (every mm value is one).
inline mlir::RankedTensorType rankedOf(mlir::Value v) {
  return llvm::cast<mlir::RankedTensorType>(v.getType());
}

class GradientBuilder {
public:
  GradientBuilder(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::OpBuilder &builder() { return b; }
  mlir::Location location() { return loc; }

  /// A 0-d constant of `like`'s element type (broadcasts in mm binary ops).
  mlir::Value scalar(mlir::Value like, double value);
  mlir::Value zerosLike(mlir::Value like);
  /// `like`'s value if `grad` is null (an unused result's gradient is 0).
  mlir::Value orZeros(mlir::Value grad, mlir::Value like);

  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, mlir::Value b);
  mlir::Value div(mlir::Value a, mlir::Value b);
  mlir::Value neg(mlir::Value a);
  mlir::Value sigmoid(mlir::Value a);
  mlir::Value tanh(mlir::Value a);
  mlir::Value exp(mlir::Value a);
  mlir::Value sqrt(mlir::Value a);
  mlir::Value cast(mlir::Value a, mlir::Type elementType);
  mlir::Value reshape(mlir::Value a, llvm::ArrayRef<int64_t> spec);
  mlir::Value transpose(mlir::Value a, llvm::ArrayRef<int64_t> permutation);
  mlir::Value sum(mlir::Value a, llvm::ArrayRef<int64_t> dims, bool keepDims);
  mlir::Value mean(mlir::Value a, llvm::ArrayRef<int64_t> dims, bool keepDims);
  /// Sum over every dimension but the last `keep` ones.
  mlir::Value sumLeading(mlir::Value a, int64_t keep);
  mlir::Value matmul(mlir::Value a, mlir::Value b, bool transposeA, bool transposeB);
  /// `select(a pred b, onTrue, onFalse)` elementwise (arith.cmpf/arith.select
  /// on tensors of one shape).
  mlir::Value selectWhere(mlir::arith::CmpFPredicate pred, mlir::Value a, mlir::Value b,
                          mlir::Value onTrue, mlir::Value onFalse);
  /// `a` broadcast to `like`'s shape (a + zeros_like(like)).
  mlir::Value broadcastLike(mlir::Value a, mlir::Value like);

  /// Undoes NumPy broadcasting: sums `grad` (with the broadcast result's
  /// shape) over the dimensions where `operand` was stretched, so the result
  /// has `operand`'s shape. A dynamic dimension of `operand` is taken as not
  /// stretched (the case of every model here: batch and sequence dims meet
  /// their own kind).
  mlir::Value sumToShape(mlir::Value grad, mlir::Value operand);

  /// `a` with the static sizes of `type` where `a`'s are dynamic (a no-op
  /// when the types already agree), so a gradient carries its operand's type.
  mlir::Value matchType(mlir::Value a, mlir::Type type);

  /// The number of elements of dims `dims` of `x` as a 0-d float of `x`'s
  /// element type: a constant when static, else summed from ones at run time.
  mlir::Value countOf(mlir::Value x, llvm::ArrayRef<int64_t> dims);

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace mm

#endif // MM_IR_GRADIENTBUILDER_H
