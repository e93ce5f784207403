//===- ModelParallel.cpp - values annotated from the model's tp / ep tags --===//
#include "ir/MMOps.h"
#include "passes/Passes.h"
#include "passes/WholeAnnotation.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

#include <tuple>

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
    int64_t tp = this->tp, ep = this->ep, etp = this->etp; // (the option objects do not print)
    if (tp < 1 || ep < 1 || etp < 1 || tp % (ep * etp) != 0) {
      module.emitError("-mm-model-parallel: tp, ep and etp must be positive with ep x etp "
                       "dividing tp, got tp=")
          << tp << " ep=" << ep << " etp=" << etp;
      return signalPassFailure();
    }
    if (tp == 1)
      return;
    if (module.lookupSymbol(kGrid)) {
      module.emitError("-mm-model-parallel: the module already has a symbol @") << kGrid;
      return signalPassFailure();
    }
    // One group of tp ranks, [edp, ep, etp] without the factors of 1: the
    // MoE rank order of docs/parallelism.md (etp fastest, then ep, then the
    // replicas edp); the dense splits span the whole grid.
    OpBuilder b(module.getContext());
    b.setInsertionPointToStart(module.getBody());
    SmallVector<int64_t> shape;
    SmallVector<GridAxis> denseAxes, expertAxes, widthAxes;
    for (auto [size, axes] : {std::make_pair(tp / (ep * etp), (SmallVector<GridAxis> *)nullptr),
                              std::make_pair(ep, &expertAxes), std::make_pair(etp, &widthAxes)}) {
      if (size == 1)
        continue;
      if (axes)
        axes->push_back(static_cast<GridAxis>(shape.size()));
      denseAxes.push_back(static_cast<GridAxis>(shape.size()));
      shape.push_back(size);
    }
    shard::GridOp::create(b, module.getLoc(), kGrid, shape);
    // Each tag: the grid axes that split its dim, and how many parts they make.
    const std::tuple<StringRef, ArrayRef<GridAxis>, int64_t> tags[] = {
        {"mm.tp_dim", denseAxes, tp},
        {"mm.ep_dim", expertAxes, ep},
        {"mm.etp_dim", widthAxes, etp},
        {"mm.vocab_dim", denseAxes, tp}};
    WalkResult walk = module.walk([&](Operation *tagged) {
      if (!isa<mm::ParamOp, arith::ConstantOp>(tagged) ||
          llvm::none_of(tags, [&](const auto &tag) { return tagged->hasAttr(std::get<0>(tag)); }))
        return WalkResult::advance();
      auto type = llvm::dyn_cast<RankedTensorType>(tagged->getResult(0).getType());
      if (!type) { // (the verifier refuses it; a module built unverified may not)
        tagged->emitOpError("a split tag on a value that is not a ranked tensor");
        return WalkResult::interrupt();
      }
      SmallVector<SmallVector<GridAxis>> split(type.getRank());
      for (auto [attr, axes, parts] : tags) {
        auto dimAttr = tagged->getAttrOfType<IntegerAttr>(attr);
        if (!dimAttr || parts == 1)
          continue;
        int64_t dim = dimAttr.getInt();
        if (dim < 0 || dim >= type.getRank()) {
          tagged->emitOpError(attr) << " " << dim << " is not a dim of " << type;
          return WalkResult::interrupt();
        }
        // A vocabulary that does not divide stays whole (Megatron pads it
        // instead): a choice of memory, not of the answer.
        bool divides = !type.isDynamicDim(dim) && type.getDimSize(dim) % parts == 0;
        if (StringRef(attr) == "mm.vocab_dim" && !divides)
          continue;
        if (!split[dim].empty()) {
          tagged->emitOpError("dim ") << dim << " carries two split tags (" << attr << ")";
          return WalkResult::interrupt();
        }
        if (!divides) {
          tagged->emitOpError("dim ") << dim << " of " << type << " does not split into "
                                      << parts << " parts (" << attr << ")";
          return WalkResult::interrupt();
        }
        split[dim].assign(axes.begin(), axes.end());
      }
      if (llvm::any_of(split, [](const auto &axes) { return !axes.empty(); }))
        annotate(b, tagged, split);
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
    b.setInsertionPoint(ret);
    for (unsigned i = 0; i < fn.getNumResults(); ++i)
      if (fn.getResultAttr(i, "mm.replicated") &&
          llvm::isa<RankedTensorType>(ret.getOperand(i).getType()))
        ret.setOperand(i, mm::annotateWhole(b, ret.getLoc(),
                                            FlatSymbolRefAttr::get(b.getStringAttr(kGrid)),
                                            ret.getOperand(i), /*forUsers=*/false));
  }

  /// Splits `tagged`'s dims over the grid axes `split` gives each, for its
  /// users.
  void annotate(OpBuilder &b, Operation *tagged, ArrayRef<SmallVector<GridAxis>> split) {
    SmallVector<shard::GridAxesAttr> axes;
    for (const auto &a : split)
      axes.push_back(shard::GridAxesAttr::get(b.getContext(), a));
    while (!axes.empty() && axes.back().empty())
      axes.pop_back(); // (the printed form leaves trailing whole dims out)
    b.setInsertionPointAfter(tagged);
    Value sharding = shard::ShardingOp::create(
        b, tagged->getLoc(), FlatSymbolRefAttr::get(b.getStringAttr(kGrid)), axes);
    auto annotated = shard::ShardOp::create(b, tagged->getLoc(), tagged->getResult(0), sharding,
                                            /*annotate_for_users=*/true);
    tagged->getResult(0).replaceAllUsesExcept(annotated.getResult(), annotated);
  }
};
} // namespace
