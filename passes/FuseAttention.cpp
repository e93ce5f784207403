//===- FuseAttention.cpp - attention and lightning kernels ----------------===//
#include "passes/KernelOutlining.h"
#include "passes/Passes.h"

namespace mm {
#define GEN_PASS_DEF_FUSEATTENTION
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
/// The op defining `v` if it is an `OpTy` read by nothing else.
template <typename OpTy> OpTy singleUseProducer(Value v) {
  auto op = v.getDefiningOp<OpTy>();
  return op && v.hasOneUse() ? op : OpTy();
}

struct FuseAttentionPass : mm::impl::FuseAttentionBase<FuseAttentionPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    SmallVector<AttentionOp> attentions;
    SmallVector<LightningAttentionOp> lightnings;
    for (Operation &op : getOperation().getBody().front()) {
      if (auto a = dyn_cast<AttentionOp>(op))
        attentions.push_back(a);
      if (auto l = dyn_cast<LightningAttentionOp>(op))
        lightnings.push_back(l);
    }
    for (AttentionOp a : attentions) {
      SmallVector<Operation *> group;
      // RoPE applied on load is part of the cached (inference) templates; a
      // cacheless attention (training) runs alone, its RoPE as a kernel.
      for (Value v : {a.getQuery(), a.getKey()})
        if (auto rope = singleUseProducer<RopeOp>(v); rope && a.hasCache())
          group.push_back(rope);
      group.push_back(a);
      SmallVector<std::pair<Value, Value>> inPlace;
      if (a.hasCache()) {
        inPlace.push_back({a.getUpdatedCache()[0], a.getKeyCache()});
        inPlace.push_back({a.getUpdatedCache()[1], a.getValueCache()});
      }
      llvm::sort(group, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
      (void)outlineKernel(rewriter, KernelKind::Attention, group, inPlace);
    }
    for (LightningAttentionOp l : lightnings) {
      SmallVector<Operation *> group;
      // q, k and v cut from one interleaved projection: read it in place.
      auto sq = singleUseProducer<SliceOp>(l.getQuery());
      auto sk = singleUseProducer<SliceOp>(l.getKey());
      auto sv = singleUseProducer<SliceOp>(l.getValue());
      if (sq && sk && sv && sq.getInput() == sk.getInput() && sk.getInput() == sv.getInput())
        group.append({sq, sk, sv});
      group.push_back(l);
      SmallVector<std::pair<Value, Value>> inPlace;
      // In place only when this op is the state's last reader (a training
      // graph reads it again in the backward).
      if (l.getInitialState() && l.getInitialState().hasOneUse())
        inPlace.push_back({l.getFinalState(), l.getInitialState()});
      llvm::sort(group, [](Operation *x, Operation *y) { return x->isBeforeInBlock(y); });
      (void)outlineKernel(rewriter, KernelKind::Lightning, group, inPlace);
    }
  }
};
} // namespace
