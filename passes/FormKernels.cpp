//===- FormKernels.cpp - every remaining compute op in a kernel -----------===//
#include "passes/KernelOutlining.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mm {
#define GEN_PASS_DEF_FORMKERNELS
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
/// The kernel template that runs `op` alone, if there is one.
std::optional<StringRef> kernelKind(Operation *op) {
  if (isElementwise(op))
    return StringRef("elementwise");
  return llvm::TypeSwitch<Operation *, std::optional<StringRef>>(op)
      .Case([](EmbeddingOp) { return StringRef("embedding"); })
      .Case([](GatherOp) { return StringRef("gather"); })
      .Case([](LinearOp) { return StringRef("gemm"); })
      .Case([](RmsNormOp) { return StringRef("norm"); })
      .Case([](GroupedMatmulOp) { return StringRef("grouped_gemm"); })
      .Case([](MoeCombineOp) { return StringRef("moe_combine"); })
      .Case([](MoeRouterOp) { return StringRef("moe_router"); })
      .Case([](MoeDispatchOp) { return StringRef("moe_dispatch"); })
      .Case([](AttentionOp) { return StringRef("attention"); })
      .Case([](LightningAttentionOp) { return StringRef("lightning"); })
      .Default([](Operation *) { return std::nullopt; });
}

struct FormKernelsPass : mm::impl::FormKernelsBase<FormKernelsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> ops;
    for (Operation &op : getOperation().getBody().front())
      if (!isa<KernelOp, ParamOp, ReshapeOp, arith::ConstantOp>(op) &&
          !op.hasTrait<OpTrait::IsTerminator>())
        ops.push_back(&op);
    for (Operation *op : ops) {
      std::optional<StringRef> kind = kernelKind(op);
      if (!kind) {
        op->emitOpError("has no kernel kind: the compiled targets cannot generate it yet "
                        "(the reference executor runs it: mm-run eval --backend reference)");
        return signalPassFailure();
      }
      SmallVector<std::pair<Value, Value>> inPlace;
      if (auto a = dyn_cast<AttentionOp>(op); a && a.hasCache()) {
        inPlace.push_back({a.getUpdatedCache()[0], a.getKeyCache()});
        inPlace.push_back({a.getUpdatedCache()[1], a.getValueCache()});
      }
      if (auto l = dyn_cast<LightningAttentionOp>(op); l && l.getInitialState())
        inPlace.push_back({l.getFinalState(), l.getInitialState()});
      if (failed(outlineKernel(rewriter, *kind, {op}, inPlace))) {
        op->emitOpError("could not be placed in a kernel");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
