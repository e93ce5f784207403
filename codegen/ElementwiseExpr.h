//===- ElementwiseExpr.h - C++ / CUDA expressions of elementwise ops -*- C++ -*-===//
//
// Both code generators emit fused elementwise ops as straight-line code; this
// is the one place that says how each op reads as an expression.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_ELEMENTWISEEXPR_H
#define MM_CODEGEN_ELEMENTWISEEXPR_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"

#include <string>

namespace mm {

enum class CodeTarget { Host, Cuda };

/// The expression of elementwise `op` applied to `operands` (already
/// expressions), or "" if `op` is not an elementwise mm op with a generator.
/// Float math is float32; integers are int64.
std::string elementwiseExpr(mlir::Operation *op, llvm::ArrayRef<std::string> operands,
                            CodeTarget target);

/// A float literal that round-trips exactly (hexadecimal).
std::string floatLiteral(double v);

} // namespace mm

#endif // MM_CODEGEN_ELEMENTWISEEXPR_H
