//===- GradientInterface.td - vector-Jacobian rules of mm ops -*- tablegen -*-===//
//
// Reverse-mode autodiff asks each op, through this interface, for its
// vector-Jacobian product. The rules live beside their op families
// (ir/ops/*Gradients.cpp), as Enzyme-MLIR keeps its adjoint rules with the
// ops; the -mm-autodiff pass (passes/AutoDiff.cpp) only walks the graph.
//
//===----------------------------------------------------------------------===//

#ifndef MM_GRADIENT_INTERFACE_TD
#define MM_GRADIENT_INTERFACE_TD

include "mlir/IR/OpBase.td"

def MM_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mm";
  let description = [{
    An op that can propagate gradients backwards. Given the gradient of the
    loss with respect to each of the op's results (null where a result gets
    none: it is unused by the loss, or an integer), `buildGradients` emits ops
    at the builder's insertion point that compute the gradient with respect
    to each operand, and appends one value per operand to `operandGradients`
    (null for an operand that gets none: integers, and operands treated as
    constants such as a stopped-gradient ratio). The forward values (operands
    and results of the op) may be used: they dominate the backward code.

    ```mlir
    // d/dx of %y = mm.tanh %x with result gradient %g:
    %t = mm.mul %y, %y ...        // y^2
    %d = mm.sub %one, %t ...      // 1 - y^2
    %gx = mm.mul %g, %d ...
    ```
  }];
  let methods = [
    InterfaceMethod<
      "Emits the operands' gradients for the given result gradients; fails "
      "(with a diagnostic at the op) when a gradient cannot be formed.",
      "::llvm::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGradients,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGradients)>,
    InterfaceMethod<
      "True when the op's integer results are selections whose gradient is "
      "taken as zero by definition (the experts chosen by a MoE router); "
      "otherwise a loss that depends on an integer result computed from a "
      "differentiated float is rejected.",
      "bool", "integerResultsAreConstantSelections", (ins), "",
      "return false;">
  ];
}

#endif // MM_GRADIENT_INTERFACE_TD
