//===- WholeAnnotation.h - a value annotated whole on a grid ----*- C++ -*-===//
#ifndef MM_PASSES_WHOLEANNOTATION_H
#define MM_PASSES_WHOLEANNOTATION_H

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace mm {

/// `value` (a ranked tensor) annotated replicated on `grid`: a shard.shard to
/// a sharding with no split axes, for the value itself or for its users.
inline mlir::shard::ShardOp annotateWhole(mlir::OpBuilder &b, mlir::Location loc,
                                          mlir::FlatSymbolRefAttr grid, mlir::Value value,
                                          bool forUsers) {
  auto type = llvm::cast<mlir::RankedTensorType>(value.getType());
  llvm::SmallVector<mlir::shard::GridAxesAttr> none(
      type.getRank(), mlir::shard::GridAxesAttr::get(b.getContext(), {}));
  mlir::Value sharding = mlir::shard::ShardingOp::create(b, loc, grid, none);
  return mlir::shard::ShardOp::create(b, loc, value, sharding, forUsers);
}

} // namespace mm

#endif // MM_PASSES_WHOLEANNOTATION_H
