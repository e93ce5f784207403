//===- ModelParallel.cpp - values annotated from the model's tp / ep tags --===//
#include "ir/MMOps.h"
#include "passes/ModelParallelGrid.h"
#include "passes/Passes.h"
#include "passes/WholeAnnotation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <tuple>

namespace mm {
#define GEN_PASS_DEF_MODELPARALLEL
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using mlir::shard::GridAxis;

namespace {
constexpr llvm::StringLiteral kGrid = mm::kModelParallelGrid;

struct ModelParallelPass : mm::impl::ModelParallelBase<ModelParallelPass> {
  using ModelParallelBase::ModelParallelBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // (the option objects do not print)
    int64_t tp = this->tp, ep = this->ep, etp = this->etp, dp = this->dp, cp = this->cp;
    if (tp < 1 || ep < 1 || etp < 1 || dp < 1 || cp < 1 || tp % (ep * etp) != 0) {
      module.emitError("-mm-model-parallel: tp, ep, etp, dp and cp must be positive with ep x "
                       "etp dividing tp, got tp=")
          << tp << " ep=" << ep << " etp=" << etp << " dp=" << dp << " cp=" << cp;
      return signalPassFailure();
    }
    mm::ModelParallelGrid layout = mm::modelParallelGrid(dp, tp, ep, etp, cp);
    bool splits = tp > 1 || cp > 1;
    // A grid @tp already there (made for a data-parallel training step's
    // collectives) must be this one, even when there is nothing to split.
    Operation *existing = module.lookupSymbol(kGrid);
    if (!splits && !existing)
      return;
    if (existing) {
      auto grid = llvm::dyn_cast<shard::GridOp>(existing);
      if (!grid || grid.getShape() != ArrayRef<int64_t>(layout.shape)) {
        InFlightDiagnostic diag = existing->emitError("-mm-model-parallel: the module already has a symbol @")
                                  << kGrid << " that is not the grid of dp=" << dp << " tp=" << tp
                                  << " ep=" << ep << " etp=" << etp << " cp=" << cp << " (shape = ";
        llvm::interleave(layout.shape, diag, "x");
        diag << ")";
        return signalPassFailure();
      }
      if (!splits)
        return;
    } else {
      OpBuilder top(module.getContext()); // (tp or cp > 1 here)
      top.setInsertionPointToStart(module.getBody());
      shard::GridOp::create(top, module.getLoc(), kGrid, layout.shape);
    }
    OpBuilder b(module.getContext());
    ArrayRef<GridAxis> denseAxes = layout.denseAxes, expertAxes = layout.expertAxes,
                       widthAxes = layout.widthAxes, sequenceAxes = layout.sequenceAxes;
    // Each tag: the grid axes that split its dim, and how many parts they make.
    const std::tuple<StringRef, ArrayRef<GridAxis>, int64_t> tags[] = {
        {"mm.tp_dim", denseAxes, tp},
        {"mm.ep_dim", expertAxes, ep},
        {"mm.etp_dim", widthAxes, etp},
        {"mm.vocab_dim", denseAxes, tp},
        // A training step's tokens: each rank is fed its chunk (any length).
        {"mm.cp_dim", sequenceAxes, cp}};
    // The grid axes that split each dim of a value of `type` whose tags
    // `tagOf` reads; failure (reported) on a tag that cannot apply.
    using Split = SmallVector<SmallVector<GridAxis>>;
    auto splitOf = [&](RankedTensorType type, function_ref<IntegerAttr(StringRef)> tagOf,
                       function_ref<InFlightDiagnostic()> emitError) -> FailureOr<Split> {
      Split split(type.getRank());
      for (auto [attr, axes, parts] : tags) {
        IntegerAttr dimAttr = tagOf(attr);
        if (!dimAttr || parts == 1)
          continue;
        int64_t dim = dimAttr.getInt();
        if (dim < 0 || dim >= type.getRank())
          return emitError() << attr << " " << dim << " is not a dim of " << type;
        // A vocabulary that does not divide stays whole (Megatron pads it
        // instead): a choice of memory, not of the answer.
        bool divides = !type.isDynamicDim(dim) && type.getDimSize(dim) % parts == 0;
        if (StringRef(attr) == "mm.vocab_dim" && !divides)
          continue;
        if (!split[dim].empty())
          return emitError() << "dim " << dim << " carries two split tags (" << attr << ")";
        // (A dynamic token dim: each rank is fed its chunk, of any length.)
        if (!divides && !(StringRef(attr) == "mm.cp_dim" && type.isDynamicDim(dim)))
          return emitError() << "dim " << dim << " of " << type << " does not split into "
                             << parts << " parts (" << attr << ")";
        split[dim].assign(axes.begin(), axes.end());
      }
      return split;
    };
    auto anySplit = [](const Split &split) {
      return llvm::any_of(split, [](const auto &axes) { return !axes.empty(); });
    };
    WalkResult walk = module.walk([&](Operation *tagged) {
      if (!isa<mm::ParamOp, arith::ConstantOp>(tagged) ||
          llvm::none_of(tags, [&](const auto &tag) { return tagged->hasAttr(std::get<0>(tag)); }))
        return WalkResult::advance();
      auto type = llvm::dyn_cast<RankedTensorType>(tagged->getResult(0).getType());
      if (!type) { // (the verifier refuses it; a module built unverified may not)
        tagged->emitOpError("a split tag on a value that is not a ranked tensor");
        return WalkResult::interrupt();
      }
      FailureOr<Split> split = splitOf(
          type, [&](StringRef tag) { return tagged->getAttrOfType<IntegerAttr>(tag); },
          [&] { return tagged->emitOpError(); });
      if (failed(split))
        return WalkResult::interrupt();
      if (!anySplit(*split))
        return WalkResult::advance();
      b.setInsertionPointAfter(tagged);
      Value value = tagged->getResult(0);
      Value annotated = annotate(b, tagged->getLoc(), value, *split, /*forUsers=*/true);
      // A head map is split for the gathers that take it as indices; other
      // readers (their gradients' scatter_adds) take it whole.
      bool constant = isa<arith::ConstantOp>(tagged);
      value.replaceUsesWithIf(annotated, [&](OpOperand &use) {
        return use.getOwner() != annotated.getDefiningOp() &&
               (!constant || (isa<mm::GatherOp>(use.getOwner()) && use.getOperandNumber() == 1));
      });
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    // Tagged arguments (a training step's weights and moments, and under cp
    // its tokens: each rank's chunk) are split where they enter. The other
    // arguments of such a function (the batch, unsplit weights, lr) are
    // whole on every rank: said explicitly, since
    // shard-partition would otherwise give an argument the split of
    // whichever user asks first.
    for (auto fn : module.getOps<func::FuncOp>()) {
      if (fn.isExternal())
        continue;
      llvm::StringMap<Split> argSplits; // by the argument's mm.name
      SmallVector<std::optional<Split>> splits;
      for (BlockArgument arg : fn.getArguments()) {
        auto type = llvm::dyn_cast<RankedTensorType>(arg.getType());
        splits.emplace_back();
        if (!type || type.getRank() == 0) // (a scalar has nothing to split)
          continue;
        unsigned i = arg.getArgNumber();
        FailureOr<Split> split = splitOf(
            type, [&](StringRef tag) { return fn.getArgAttrOfType<IntegerAttr>(i, tag); },
            [&] { return fn.emitOpError("argument ") << i << ": "; });
        if (failed(split))
          return signalPassFailure();
        splits.back() = *split;
      }
      if (llvm::none_of(splits, [&](const auto &s) { return s && anySplit(*s); }))
        continue;
      b.setInsertionPointToStart(&fn.getBody().front());
      for (BlockArgument arg : fn.getArguments()) {
        const std::optional<Split> &split = splits[arg.getArgNumber()];
        if (!split)
          continue;
        annotateUses(b, fn.getLoc(), arg, *split, /*forUsers=*/false);
        if (auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mm.name"))
          argSplits[name.getValue()] = *split;
      }
      // A training step returns each weight's update (mm.update_of) split as
      // the weight came in: every rank keeps its part of a split one, and a
      // whole one (a norm's gain, whose gradient may arrive split) whole.
      // (Annotated where it is made, for every user: sharding-propagation
      // expects a value's own annotation there.)
      auto ret = cast<func::ReturnOp>(fn.getBody().back().getTerminator());
      for (unsigned i = 0; i < fn.getNumResults(); ++i) {
        auto of = fn.getResultAttrOfType<StringAttr>(i, "mm.update_of");
        auto split = of ? argSplits.find(of.getValue()) : argSplits.end();
        Value updated = ret.getOperand(i);
        if (split == argSplits.end() || updated.getDefiningOp<shard::ShardOp>())
          continue;
        b.setInsertionPointAfterValue(updated);
        annotateUses(b, updated.getLoc(), updated, split->second, /*forUsers=*/false);
      }
    }
    module.walk([&](func::FuncOp fn) { keepResultsWhole(b, fn); });
  }

  /// Results marked mm.replicated are whole on every rank: a replicated
  /// annotation before the return (the partition gathers what arrives split).
  void keepResultsWhole(OpBuilder &b, func::FuncOp fn) {
    if (fn.isExternal())
      return;
    auto ret = cast<func::ReturnOp>(fn.getBody().back().getTerminator());
    b.setInsertionPoint(ret);
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      if (fn.getResultAttr(i, "mm.replicated") &&
          llvm::isa<RankedTensorType>(ret.getOperand(i).getType()))
        ret.setOperand(i, mm::annotateWhole(b, ret.getLoc(),
                                            FlatSymbolRefAttr::get(b.getStringAttr(kGrid)),
                                            ret.getOperand(i), /*forUsers=*/false));
  }

  /// Splits `value`'s dims over the grid axes `split` gives each: for its
  /// users (a weight's param), or as the value's own (an argument).
  Value annotate(OpBuilder &b, Location loc, Value value, ArrayRef<SmallVector<GridAxis>> split,
                 bool forUsers) {
    SmallVector<shard::GridAxesAttr> axes;
    for (const auto &a : split)
      axes.push_back(shard::GridAxesAttr::get(b.getContext(), a));
    // (The printed form leaves trailing whole dims out, but needs one.)
    while (axes.size() > 1 && axes.back().empty())
      axes.pop_back();
    Value sharding =
        shard::ShardingOp::create(b, loc, FlatSymbolRefAttr::get(b.getStringAttr(kGrid)), axes);
    return shard::ShardOp::create(b, loc, value, sharding, forUsers).getResult();
  }
  /// The same, in place of `value` for its other users.
  void annotateUses(OpBuilder &b, Location loc, Value value,
                    ArrayRef<SmallVector<GridAxis>> split, bool forUsers) {
    Value annotated = annotate(b, loc, value, split, forUsers);
    value.replaceAllUsesExcept(annotated, annotated.getDefiningOp());
  }
};
} // namespace
