//===- ModelParallel.cpp - values annotated from the model's tp / ep tags --===//
#include "ir/MMOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace mm {
#define GEN_PASS_DEF_MODELPARALLEL
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using mlir::shard::GridAxis;

namespace {
constexpr llvm::StringLiteral kGrid = "tp";

struct ModelParallelPass : mm::impl::ModelParallelBase<ModelParallelPass> {
  using ModelParallelBase::ModelParallelBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t tp = this->tp, ep = this->ep; // (the option objects do not print)
    if (tp < 1 || ep < 1 || tp % ep != 0) {
      module.emitError("-mm-model-parallel: tp and ep must be positive with ep dividing tp, got "
                       "tp=")
          << tp << " ep=" << ep;
      return signalPassFailure();
    }
    if (tp == 1)
      return;
    if (module.lookupSymbol(kGrid)) {
      module.emitError("-mm-model-parallel: the module already has a symbol @") << kGrid;
      return signalPassFailure();
    }
    // One group of tp ranks. Experts split over ep of them: the fastest grid
    // axis, as Megatron orders expert-parallel ranks; the dense splits span
    // the whole grid.
    OpBuilder b(module.getContext());
    b.setInsertionPointToStart(module.getBody());
    SmallVector<int64_t> shape = ep == 1 || ep == tp ? SmallVector<int64_t>{tp}
                                                      : SmallVector<int64_t>{tp / ep, ep};
    shard::GridOp::create(b, module.getLoc(), kGrid, shape);
    SmallVector<GridAxis> denseAxes, expertAxes;
    for (size_t a = 0; a < shape.size(); ++a)
      denseAxes.push_back(static_cast<GridAxis>(a));
    if (ep > 1)
      expertAxes.push_back(static_cast<GridAxis>(shape.size() - 1));
    WalkResult walk = module.walk([&](Operation *tagged) {
      if (!isa<mm::ParamOp, arith::ConstantOp>(tagged))
        return WalkResult::advance();
      for (auto [attr, axes, parts] : {std::make_tuple("mm.tp_dim", ArrayRef(denseAxes), tp),
                                       std::make_tuple("mm.ep_dim", ArrayRef(expertAxes), ep),
                                       std::make_tuple("mm.vocab_dim", ArrayRef(denseAxes), tp)}) {
        auto dimAttr = tagged->getAttrOfType<IntegerAttr>(attr);
        if (!dimAttr || parts == 1)
          continue;
        // A vocabulary that does not divide stays whole (Megatron pads it
        // instead): a choice of memory, not of the answer.
        auto type = llvm::cast<RankedTensorType>(tagged->getResult(0).getType());
        int64_t dim = dimAttr.getInt();
        if (StringRef(attr) == "mm.vocab_dim" && dim >= 0 && dim < type.getRank() &&
            (type.isDynamicDim(dim) || type.getDimSize(dim) % parts != 0))
          continue;
        if (failed(annotate(b, tagged, dim, axes, parts, attr)))
          return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      return signalPassFailure();
    module.walk([&](func::FuncOp fn) { keepResultsWhole(b, fn); });
  }

  /// Results marked mm.replicated are whole on every rank: a replicated
  /// annotation before the return (the partition gathers what arrives split).
  void keepResultsWhole(OpBuilder &b, func::FuncOp fn) {
    if (fn.isExternal())
      return;
    auto ret = cast<func::ReturnOp>(fn.getBody().back().getTerminator());
    for (unsigned i = 0; i < fn.getNumResults(); ++i) {
      auto type = llvm::dyn_cast<RankedTensorType>(ret.getOperand(i).getType());
      if (!fn.getResultAttr(i, "mm.replicated") || !type)
        continue;
      b.setInsertionPoint(ret);
      SmallVector<shard::GridAxesAttr> none(type.getRank(),
                                            shard::GridAxesAttr::get(b.getContext(), {}));
      Value sharding = shard::ShardingOp::create(
          b, ret.getLoc(), FlatSymbolRefAttr::get(b.getStringAttr(kGrid)), none);
      auto whole = shard::ShardOp::create(b, ret.getLoc(), ret.getOperand(i), sharding);
      ret.setOperand(i, whole.getResult());
    }
  }

  /// Splits `tagged`'s dim `dim` over grid axes `axes` (`parts` ranks) for
  /// its users.
  LogicalResult annotate(OpBuilder &b, Operation *tagged, int64_t dim, ArrayRef<GridAxis> axes,
                         int64_t parts, StringRef attr) {
    auto type = llvm::cast<RankedTensorType>(tagged->getResult(0).getType());
    if (dim < 0 || dim >= type.getRank())
      return tagged->emitOpError(attr) << " " << dim << " is not a dim of " << type;
    int64_t size = type.getDimSize(dim);
    if (ShapedType::isDynamic(size) || size % parts != 0)
      return tagged->emitOpError("dim ") << dim << " of " << type << " does not split into "
                                       << parts << " parts (" << attr << ")";
    SmallVector<shard::GridAxesAttr> split(dim + 1, shard::GridAxesAttr::get(b.getContext(), {}));
    split[dim] = shard::GridAxesAttr::get(b.getContext(), axes);
    b.setInsertionPointAfter(tagged);
    Value sharding = shard::ShardingOp::create(
        b, tagged->getLoc(), FlatSymbolRefAttr::get(b.getStringAttr(kGrid)), split);
    auto annotated = shard::ShardOp::create(b, tagged->getLoc(), tagged->getResult(0), sharding,
                                            /*annotate_for_users=*/true);
    tagged->getResult(0).replaceAllUsesExcept(annotated.getResult(), annotated);
    return success();
  }
};
} // namespace
