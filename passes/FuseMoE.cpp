//===- FuseMoE.cpp - router, dispatch and grouped SwiGLU kernels ----------===//
#include "passes/KernelOutlining.h"
#include "passes/Passes.h"

namespace mm {
#define GEN_PASS_DEF_FUSEMOE
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
struct FuseMoEPass : mm::impl::FuseMoEBase<FuseMoEPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> ops;
    for (Operation &op : getOperation().getBody().front())
      if (isa<MoeRouterOp, MoeDispatchOp, SwigluOp>(op))
        ops.push_back(&op);
    for (Operation *op : ops) {
      if (isa<MoeRouterOp>(op)) {
        (void)outlineKernel(rewriter, KernelKind::MoeRouter, {op});
      } else if (isa<MoeDispatchOp>(op)) {
        (void)outlineKernel(rewriter, KernelKind::MoeDispatch, {op});
      } else if (auto s = dyn_cast<SwigluOp>(op)) {
        // silu(x W1_e^T) * (x W3_e^T): both grouped GEMMs in one pass over x.
        auto gate = s.getGate().getDefiningOp<GroupedMatmulOp>();
        auto up = s.getUp().getDefiningOp<GroupedMatmulOp>();
        if (!gate || !up || gate == up || !s.getGate().hasOneUse() || !s.getUp().hasOneUse() ||
            gate.getInput() != up.getInput() || gate.getGroupOffsets() != up.getGroupOffsets())
          continue;
        SmallVector<Operation *> group{gate, up, s};
        llvm::sort(group, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
        (void)outlineKernel(rewriter, KernelKind::GroupedGemmSwiglu, group);
      }
    }
  }
};
} // namespace
