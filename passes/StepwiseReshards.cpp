//===- StepwiseReshards.cpp - one grid axis per reshard --------------------===//
#include "passes/Passes.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace mm {
#define GEN_PASS_DEF_STEPWISERESHARDS
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using mlir::shard::GridAxis;

namespace {
using AxesPerDim = SmallVector<SmallVector<GridAxis>>;

AxesPerDim axesOf(shard::ShardingOp sharding, int64_t rank) {
  AxesPerDim axes(rank);
  for (auto [dim, attr] : llvm::enumerate(sharding.getSplitAxes().getAxes()))
    if (static_cast<int64_t>(dim) < rank)
      axes[dim].assign(attr.asArrayRef().begin(), attr.asArrayRef().end());
  return axes;
}

/// Whether `prefix` starts `axes`.
bool startsWith(ArrayRef<GridAxis> axes, ArrayRef<GridAxis> prefix) {
  return prefix.size() <= axes.size() && llvm::equal(axes.take_front(prefix.size()), prefix);
}

struct StepwiseReshardsPass : mm::impl::StepwiseReshardsBase<StepwiseReshardsPass> {
  void runOnOperation() override {
    SmallVector<shard::ShardOp> reshards;
    // A reshard is a value's annotation followed by its users' (or the
    // reverse, before a return).
    getOperation().walk([&](shard::ShardOp user) {
      auto source = user.getSrc().getDefiningOp<shard::ShardOp>();
      if (source && source.getAnnotateForUsers() != user.getAnnotateForUsers())
        reshards.push_back(user);
    });
    for (shard::ShardOp user : reshards)
      split(user);
  }

  /// Replaces the reshard from `user`'s source sharding to its own by a
  /// chain that adds, then removes, one grid axis of one dim per step, when
  /// every dim's target axes extend or shorten its source axes and no axis
  /// moves between dims.
  void split(shard::ShardOp user) {
    auto source = user.getSrc().getDefiningOp<shard::ShardOp>();
    auto from = source.getSharding().getDefiningOp<shard::ShardingOp>();
    auto to = user.getSharding().getDefiningOp<shard::ShardingOp>();
    auto type = llvm::dyn_cast<RankedTensorType>(user.getType());
    if (!from || !to || !type || from.getGridAttr() != to.getGridAttr() ||
        !from.getStaticHaloSizes().empty() || !to.getStaticHaloSizes().empty() ||
        !from.getStaticShardedDimsOffsets().empty() ||
        !to.getStaticShardedDimsOffsets().empty())
      return;
    AxesPerDim current = axesOf(from, type.getRank()), target = axesOf(to, type.getRank());
    // A grid axis that leaves one dim for another is a move (an all_to_all,
    // upstream's own pattern): slicing it in first would name it twice.
    for (int64_t d = 0; d < type.getRank(); ++d)
      for (GridAxis a : target[d])
        if (!llvm::is_contained(current[d], a) &&
            llvm::any_of(current, [&](const auto &axes) { return llvm::is_contained(axes, a); }))
          return;
    SmallVector<AxesPerDim> steps;
    for (int64_t d = 0; d < type.getRank(); ++d) // slices first: they only shrink
      if (startsWith(target[d], current[d]))
        while (current[d].size() < target[d].size()) {
          current[d].push_back(target[d][current[d].size()]);
          steps.push_back(current);
        }
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (startsWith(current[d], target[d]))
        while (current[d].size() > target[d].size()) {
          current[d].pop_back();
          steps.push_back(current);
        }
    if (steps.size() < 2 || current != target)
      return; // one step (upstream handles it), or a move this pass leaves alone
    OpBuilder b(user);
    Value value = source.getResult();
    steps.pop_back(); // the last step is `user` itself
    for (const AxesPerDim &axes : steps) {
      SmallVector<shard::GridAxesAttr> attrs;
      for (const auto &a : axes)
        attrs.push_back(shard::GridAxesAttr::get(b.getContext(), a));
      Value sharding = shard::ShardingOp::create(b, user.getLoc(), from.getGridAttr(), attrs);
      Value arrived = shard::ShardOp::create(b, user.getLoc(), value, sharding,
                                             user.getAnnotateForUsers());
      value = shard::ShardOp::create(b, user.getLoc(), arrived, sharding,
                                     source.getAnnotateForUsers());
    }
    user.getSrcMutable().assign(value);
  }
};
} // namespace
