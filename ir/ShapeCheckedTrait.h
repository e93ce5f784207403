//===- ShapeCheckedTrait.h - verify mm ops through their shape function -*- C++ -*-===//
#ifndef MM_IR_SHAPECHECKEDTRAIT_H
#define MM_IR_SHAPECHECKEDTRAIT_H

#include "mlir/IR/OpDefinition.h"

namespace mm::trait {

/// Verifies an op by running its `inferReturnTypes` with the op's location, so
/// that the shape function's own diagnostics are the verifier's. Listed before
/// InferTypeOpInterface, it stops verification at the first precise error.
template <typename ConcreteType>
class ShapeChecked : public mlir::OpTrait::TraitBase<ConcreteType, ShapeChecked> {
public:
  static llvm::LogicalResult verifyTrait(mlir::Operation *op) {
    llvm::SmallVector<mlir::Type, 2> types;
    return ConcreteType::inferReturnTypes(
        op->getContext(), op->getLoc(),
        typename ConcreteType::Adaptor(llvm::cast<ConcreteType>(op)), types);
  }
};

} // namespace mm::trait

#endif // MM_IR_SHAPECHECKEDTRAIT_H
