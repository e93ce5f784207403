//===- FuseElementwise.cpp - the remaining elementwise chains -------------===//
#include "passes/KernelOutlining.h"
#include "passes/Passes.h"

namespace mm {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
struct FuseElementwisePass : mm::impl::FuseElementwiseBase<FuseElementwisePass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    Block &body = getOperation().getBody().front();
    // Each outlining erases ops, so find the next elementwise op afresh.
    while (true) {
      Operation *start = nullptr;
      for (Operation &op : body)
        if (isElementwise(&op)) {
          start = &op;
          break;
        }
      if (!start)
        return;
      SmallVector<Operation *> group = absorbElementwiseEpilogue({start}, start->getResult(0));
      if (failed(outlineKernel(rewriter, KernelKind::Elementwise, group)) &&
          failed(outlineKernel(rewriter, KernelKind::Elementwise, {start}))) {
        start->emitOpError("could not be placed in a kernel");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
