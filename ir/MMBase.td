//===- MMBase.td - base classes of mm ops ---------------------*- tablegen -*-===//

#ifndef MM_BASE_TD
#define MM_BASE_TD

include "ir/MMDialect.td"
include "ir/MMTypes.td"
include "ir/MMAttrs.td"
include "ir/GradientInterface.td"
include "mlir/IR/OpBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

// An op with a vector-Jacobian rule (ir/ops/*Gradients.cpp).
def MM_Differentiable : DeclareOpInterfaceMethods<MM_DifferentiableOpInterface>;

class MM_Op<string mnemonic, list<Trait> traits = []>
    : Op<MM_Dialect, mnemonic, traits>;

// Runs the op's shape function with diagnostics before InferTypeOpInterface
// compares inferred and declared result types, so an invalid op gets one
// precise error instead of a generic "failed to infer returned types".
def MM_ShapeChecked : NativeOpTrait<"ShapeChecked"> {
  let cppNamespace = "::mm::trait";
}

// An op whose result types follow from its operands and attributes. Its C++
// `inferReturnTypes` is the op's shape function: it reports every shape or
// attribute error with the op's name, so it is the verifier as well.
class MM_InferOp<string mnemonic, list<Trait> traits = []>
    : MM_Op<mnemonic, !listconcat([Pure, MM_ShapeChecked, InferTypeOpAdaptor], traits)>;

// Elementwise op of one floating-point operand.
class MM_UnaryFloatOp<string mnemonic, string formula, list<Trait> traits = []>
    : MM_Op<mnemonic, !listconcat([Pure, Elementwise, SameOperandsAndResultType,
                                   MM_Differentiable], traits)> {
  let summary = "elementwise " # formula;
  let description = "Computes `" # formula # "` for every element; the result "
    # "has the operand's type. Computed in at least float32.\n\n"
    # "```mlir\n%y = mm." # mnemonic # " %x : tensor<?x?x512xbf16>\n```";
  let arguments = (ins MM_FloatTensor:$input);
  let results = (outs MM_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($result)";
}

// Elementwise op of two operands with NumPy broadcasting.
class MM_BinaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : MM_InferOp<mnemonic, !listconcat([MM_Differentiable], traits)> {
  let summary = "broadcasting elementwise " # formula;
  let description = "Computes `" # formula # "` elementwise with NumPy "
    # "broadcasting: shapes are aligned on the right, and a dimension of size 1 "
    # "stretches to the other operand's. Both operands have the same element "
    # "type. A dynamic dimension broadcast against a static one is checked when "
    # "the graph runs.\n\n"
    # "```mlir\n%y = mm." # mnemonic # " %a, %b : (tensor<?x?x512xf32>, "
    # "tensor<512xf32>) -> tensor<?x?x512xf32>\n```";
  let arguments = (ins MM_NumericTensor:$lhs, MM_NumericTensor:$rhs);
  let results = (outs MM_NumericTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

#endif // MM_BASE_TD
