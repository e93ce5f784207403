//===- WholeReturns.cpp - unsharded returned values, whole ----------------===//
#include "passes/Passes.h"
#include "passes/WholeAnnotation.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace mm {
#define GEN_PASS_DEF_WHOLERETURNS
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;

namespace {
struct WholeReturnsPass : mm::impl::WholeReturnsBase<WholeReturnsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    auto ret = dyn_cast<func::ReturnOp>(fn.getBody().back().getTerminator());
    if (!ret)
      return;
    FlatSymbolRefAttr grid;
    for (Value v : ret.getOperands()) {
      auto annotated = v.getDefiningOp<shard::ShardOp>();
      if (!annotated)
        continue;
      auto sharding = annotated.getSharding().getDefiningOp<shard::ShardingOp>();
      if (!sharding || (grid && sharding.getGridAttr() != grid))
        return; // several grids, or one we cannot read: leave it
      grid = sharding.getGridAttr();
    }
    if (!grid)
      return;
    // An argument nothing reads carries no sharding either, and crashes
    // shard-partition the same way: it is whole.
    OpBuilder b(fn.getContext());
    b.setInsertionPointToStart(&fn.getBody().front());
    for (BlockArgument arg : fn.getArguments())
      if (llvm::isa<RankedTensorType>(arg.getType()) && arg.use_empty())
        mm::annotateWhole(b, fn.getLoc(), grid, arg, /*forUsers=*/true);
    b.setInsertionPoint(ret);
    for (OpOperand &operand : ret->getOpOperands())
      if (llvm::isa<RankedTensorType>(operand.get().getType()) &&
          !operand.get().getDefiningOp<shard::ShardOp>())
        operand.set(mm::annotateWhole(b, ret.getLoc(), grid, operand.get(), /*forUsers=*/false));
  }
};
} // namespace
