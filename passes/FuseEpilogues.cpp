//===- FuseEpilogues.cpp - GEMM, combine and RMSNorm with epilogues -------===//
#include "passes/KernelOutlining.h"
#include "passes/Passes.h"

namespace mm {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
/// Adds to `group` the single-use elementwise ops that compute `v`, so an
/// RMSNorm reads its input straight from what produced it.
void absorbPrologue(Value v, SmallVectorImpl<Operation *> &group) {
  Operation *def = v.getDefiningOp();
  if (!def || !isElementwise(def) || !v.hasOneUse() || llvm::is_contained(group, def))
    return;
  group.push_back(def);
  for (Value operand : def->getOperands())
    absorbPrologue(operand, group);
}

struct FuseEpiloguesPass : mm::impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> anchors;
    for (Operation &op : getOperation().getBody().front())
      if (isa<LinearOp, GroupedMatmulOp, MoeCombineOp, RmsNormOp>(op))
        anchors.push_back(&op);
    for (Operation *anchor : anchors) {
      SmallVector<Operation *> group = absorbElementwiseEpilogue({anchor}, anchor->getResult(0));
      KernelKind kind = KernelKind::Gemm;
      if (isa<GroupedMatmulOp>(anchor))
        kind = KernelKind::GroupedGemm;
      else if (isa<MoeCombineOp>(anchor))
        kind = KernelKind::MoeCombine;
      else if (auto norm = dyn_cast<RmsNormOp>(anchor)) {
        kind = KernelKind::Norm;
        absorbPrologue(norm.getInput(), group);
        llvm::sort(group, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
      }
      (void)outlineKernel(rewriter, kind, group);
    }
  }
};
} // namespace
