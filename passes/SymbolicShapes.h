//===- SymbolicShapes.h - tensor dims as monomials of run-time sizes -*- C++ -*-===//
//
// Every dim of an mm function whose arguments name their dynamic dims (the
// `mm.dims` argument attribute: one symbol per dim, "" for a static one) is,
// in the models mmc compiles, c * s1^e1 * s2^e2 ...: the batch B, the tokens
// per step T, their product for flattened token dims, the cache capacity S.
// Shapes are found by running the ops' own shape functions on copies of the
// function specialised to probe values of the symbols, then checked on one
// more probe. Code generation and memory planning evaluate them for actual or
// maximum sizes.
//
//===----------------------------------------------------------------------===//
#ifndef MM_PASSES_SYMBOLICSHAPES_H
#define MM_PASSES_SYMBOLICSHAPES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"

#include <string>

namespace mm {

/// c * prod(symbol_i ^ exponents[i]).
struct SymbolicDim {
  int64_t coefficient = 0;
  llvm::SmallVector<unsigned, 4> exponents;

  bool isStatic() const;
  int64_t evaluate(llvm::ArrayRef<int64_t> symbolValues) const;
  /// "B*T*64" for messages and generated code (symbols by name).
  std::string format(llvm::ArrayRef<std::string> symbols) const;
};

class SymbolicShapes {
public:
  /// Infers the shape of every value at the top level of `fn` (arguments,
  /// results of its ops). Emits an error on `fn` and fails if an argument's
  /// dynamic dim has no symbol or a dim is not a monomial.
  static mlir::FailureOr<SymbolicShapes> infer(mlir::func::FuncOp fn);

  llvm::ArrayRef<std::string> symbols() const { return symbols_; }
  /// The dims of `v` (a top-level value of the function).
  llvm::ArrayRef<SymbolicDim> dims(mlir::Value v) const;
  /// Bytes of `v` for the given symbol values.
  int64_t bytes(mlir::Value v, llvm::ArrayRef<int64_t> symbolValues) const;

private:
  std::vector<std::string> symbols_;
  llvm::DenseMap<mlir::Value, llvm::SmallVector<SymbolicDim, 4>> dims_;
};

/// Bytes of one element of `type` (f32 4, bf16 2, i64 8, ...).
int64_t elementBytes(mlir::Type type);

} // namespace mm

#endif // MM_PASSES_SYMBOLICSHAPES_H
