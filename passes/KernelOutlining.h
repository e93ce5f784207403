//===- KernelOutlining.h - moving op groups into mm.kernel ------*- C++ -*-===//
#ifndef MM_PASSES_KERNELOUTLINING_H
#define MM_PASSES_KERNELOUTLINING_H

#include "ir/MMOps.h"

#include "mlir/IR/PatternMatch.h"

namespace mm {

/// True for ops that compute each output element from the same element of
/// their (broadcast) operands: activations, arithmetic, swiglu, cast.
bool isElementwise(mlir::Operation *op);

/// Replaces `ops` (all in one block, in program order) by one mm.kernel of
/// `kind` placed where the last of them was. Operands defined outside the
/// group become kernel inputs, except constants, which are copied into the
/// body; results used outside become kernel results. `inPlace` maps a result
/// value of the group to the input value whose buffer it may overwrite.
/// Fails, changing nothing, if a result is used before the kernel's position.
mlir::FailureOr<KernelOp>
outlineKernel(mlir::RewriterBase &rewriter, KernelKind kind, llvm::ArrayRef<mlir::Operation *> ops,
              llvm::ArrayRef<std::pair<mlir::Value, mlir::Value>> inPlace = {});

/// Grows `group` (which ends with `anchor`'s op) with the chain of
/// elementwise ops that consume its result alone, and with single-use
/// elementwise producers of their other operands (e.g. the `alpha * residual`
/// of a post-norm block). Side inputs must have the result's shape, one
/// element, or the size of its last dimension (what kernels broadcast).
/// Returns the group in program order.
llvm::SmallVector<mlir::Operation *>
absorbElementwiseEpilogue(llvm::SmallVector<mlir::Operation *> group, mlir::Value anchor);

} // namespace mm

#endif // MM_PASSES_KERNELOUTLINING_H
