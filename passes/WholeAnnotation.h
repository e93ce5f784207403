//===- WholeAnnotation.h - a value annotated whole on a grid ----*- C++ -*-===//
#ifndef MM_PASSES_WHOLEANNOTATION_H
#define MM_PASSES_WHOLEANNOTATION_H

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace mm {

/// A sharding on `grid` with no split axes for a ranked tensor of `type`.
inline mlir::Value wholeSharding(mlir::OpBuilder &b, mlir::Location loc,
                                 mlir::FlatSymbolRefAttr grid, mlir::Type type) {
  llvm::SmallVector<mlir::shard::GridAxesAttr> none(
      llvm::cast<mlir::RankedTensorType>(type).getRank(),
      mlir::shard::GridAxesAttr::get(b.getContext(), {}));
  return mlir::shard::ShardingOp::create(b, loc, grid, none);
}

/// `value` (a ranked tensor) annotated replicated on `grid`: a shard.shard to
/// a sharding with no split axes, for the value itself or for its users.
inline mlir::shard::ShardOp annotateWhole(mlir::OpBuilder &b, mlir::Location loc,
                                          mlir::FlatSymbolRefAttr grid, mlir::Value value,
                                          bool forUsers) {
  mlir::Value sharding = wholeSharding(b, loc, grid, value.getType());
  return mlir::shard::ShardOp::create(b, loc, value, sharding, forUsers);
}

} // namespace mm

#endif // MM_PASSES_WHOLEANNOTATION_H
