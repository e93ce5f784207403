//===- WholeReturns.cpp - unsharded returned values, whole ----------------===//
#include "passes/Passes.h"

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
    for (BlockArgument arg : fn.getArguments()) {
      auto type = llvm::dyn_cast<RankedTensorType>(arg.getType());
      if (!type || !arg.use_empty())
        continue;
      SmallVector<shard::GridAxesAttr> none(type.getRank(),
                                            shard::GridAxesAttr::get(b.getContext(), {}));
      Value whole = shard::ShardingOp::create(b, fn.getLoc(), grid, none);
      shard::ShardOp::create(b, fn.getLoc(), arg, whole, /*annotate_for_users=*/true);
    }
    b.setInsertionPoint(ret);
    for (OpOperand &operand : ret->getOpOperands()) {
      auto type = llvm::dyn_cast<RankedTensorType>(operand.get().getType());
      if (!type || operand.get().getDefiningOp<shard::ShardOp>())
        continue;
      SmallVector<shard::GridAxesAttr> none(type.getRank(),
                                            shard::GridAxesAttr::get(b.getContext(), {}));
      Value whole = shard::ShardingOp::create(b, ret.getLoc(), grid, none);
      operand.set(shard::ShardOp::create(b, ret.getLoc(), operand.get(), whole).getResult());
    }
  }
};
} // namespace
