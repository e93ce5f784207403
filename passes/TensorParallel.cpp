//===- TensorParallel.cpp - params annotated from the model's tp tags -----===//
#include "ir/MMOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/Builders.h"

namespace mm {
#define GEN_PASS_DEF_TENSORPARALLEL
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;

namespace {
constexpr llvm::StringLiteral kTpDimAttr = "mm.tp_dim";
constexpr llvm::StringLiteral kTpGrid = "tp";

struct TensorParallelPass : mm::impl::TensorParallelBase<TensorParallelPass> {
  using TensorParallelBase::TensorParallelBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    int64_t tp = this->tp; // (the option object does not print)
    if (tp < 1) {
      module.emitError("-mm-tensor-parallel: tp must be at least 1, got ") << tp;
      return signalPassFailure();
    }
    if (tp == 1)
      return;
    if (module.lookupSymbol(kTpGrid)) {
      module.emitError("-mm-tensor-parallel: the module already has a symbol @") << kTpGrid;
      return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    b.setInsertionPointToStart(module.getBody());
    shard::GridOp::create(b, module.getLoc(), kTpGrid, ArrayRef<int64_t>{tp});
    auto grid = FlatSymbolRefAttr::get(b.getStringAttr(kTpGrid));
    WalkResult walk = module.walk([&](mm::ParamOp param) {
      auto dimAttr = param->getAttrOfType<IntegerAttr>(kTpDimAttr);
      if (!dimAttr)
        return WalkResult::advance();
      auto type = llvm::cast<RankedTensorType>(param.getType());
      int64_t dim = dimAttr.getInt();
      if (dim < 0 || dim >= type.getRank()) {
        param.emitOpError("mm.tp_dim ") << dim << " is not a dim of " << type;
        return WalkResult::interrupt();
      }
      int64_t size = type.getDimSize(dim);
      if (ShapedType::isDynamic(size) || size % tp != 0) {
        param.emitOpError("dim ") << dim << " of " << type << " does not split into " << tp
                                  << " tensor-parallel parts";
        return WalkResult::interrupt();
      }
      SmallVector<shard::GridAxesAttr> axes(dim + 1, shard::GridAxesAttr::get(b.getContext(), {}));
      axes[dim] = shard::GridAxesAttr::get(b.getContext(), {0});
      b.setInsertionPointAfter(param);
      Value sharding = shard::ShardingOp::create(b, param.getLoc(), grid, axes);
      auto annotated = shard::ShardOp::create(b, param.getLoc(), param.getResult(), sharding,
                                              /*annotate_for_users=*/true);
      param.getResult().replaceAllUsesExcept(annotated.getResult(), annotated);
      return WalkResult::advance();
    });
    if (walk.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
