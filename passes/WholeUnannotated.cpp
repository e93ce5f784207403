//===- WholeUnannotated.cpp - ops the propagation left bare run whole -----===//
#include "passes/Passes.h"
#include "passes/WholeAnnotation.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace mm {
#define GEN_PASS_DEF_WHOLEUNANNOTATED
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;

namespace {
bool splittable(Value v) {
  auto t = llvm::dyn_cast<RankedTensorType>(v.getType());
  return t && t.getRank() > 0;
}
shard::ShardOp forUsers(Value v) {
  auto s = v.getDefiningOp<shard::ShardOp>();
  return s && s.getAnnotateForUsers() ? s : shard::ShardOp();
}
shard::ShardOp ownAnnotation(Value result) {
  for (Operation *user : result.getUsers())
    if (auto s = llvm::dyn_cast<shard::ShardOp>(user); s && !s.getAnnotateForUsers())
      return s;
  return {};
}

struct WholeUnannotatedPass : mm::impl::WholeUnannotatedBase<WholeUnannotatedPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    FlatSymbolRefAttr grid;
    bool several = false;
    fn.walk([&](shard::ShardingOp s) {
      several |= grid && s.getGridAttr() != grid;
      grid = grid ? grid : s.getGridAttr();
    });
    if (!grid || several) // (nothing to partition, or no one grid to be whole on)
      return;
    OpBuilder b(fn.getContext());
    b.setInsertionPointToStart(&fn.getBody().front());
    for (BlockArgument arg : fn.getArguments())
      if (splittable(arg) && llvm::any_of(arg.getUsers(), [](Operation *user) {
            return !llvm::isa<shard::ShardOp>(user);
          })) { // (read by an op with no annotation between)
        shard::ShardOp whole = mm::annotateWhole(b, fn.getLoc(), grid, arg, /*forUsers=*/false);
        arg.replaceAllUsesExcept(whole, whole);
      }
    SmallVector<Operation *> bare;
    fn.walk([&](Operation *op) {
      if (op == fn || op->hasTrait<OpTrait::IsTerminator>() ||
          op->hasTrait<OpTrait::ConstantLike>() ||
          llvm::isa<shard::ShardOp, shard::ShardingOp, shard::GetShardingOp>(op))
        return;
      bool annotated =
          llvm::all_of(op->getOperands(), [](Value v) { return !splittable(v) || forUsers(v); }) &&
          llvm::all_of(op->getResults(), [](Value r) {
            // (A result nothing reads needs none: it is whole where made.)
            return !splittable(r) || r.use_empty() || ownAnnotation(r);
          });
      if (!annotated)
        bare.push_back(op);
    });
    // Every tensor of such an op whole: its operands gathered where they
    // arrive split, its results whole for their users (who reshard).
    for (Operation *op : bare) {
      b.setInsertionPoint(op);
      for (OpOperand &operand : op->getOpOperands()) {
        if (!splittable(operand.get()))
          continue;
        Value source = operand.get();
        if (shard::ShardOp annotation = forUsers(source))
          source = annotation.getSrc();
        operand.set(mm::annotateWhole(b, op->getLoc(), grid, source, /*forUsers=*/true));
      }
      b.setInsertionPointAfter(op);
      for (Value result : op->getResults()) {
        if (!splittable(result) || result.use_empty())
          continue;
        // An annotation of its own becomes whole in place (its users reshard).
        if (shard::ShardOp own = ownAnnotation(result)) {
          own->setOperand(1, mm::wholeSharding(b, op->getLoc(), grid, result.getType()));
          continue;
        }
        shard::ShardOp whole = mm::annotateWhole(b, op->getLoc(), grid, result, /*forUsers=*/false);
        result.replaceAllUsesExcept(whole, whole);
      }
    }
  }
};
} // namespace
