//===- FormKernels.cpp - every remaining compute op in a kernel -----------===//
#include "ir/ShardCollectives.h"
#include "passes/KernelOutlining.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mm {
#define GEN_PASS_DEF_FORMKERNELS
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
/// The kernel template that runs `op` alone, if there is one.
std::optional<KernelKind> kernelKind(Operation *op) {
  if (isElementwise(op))
    return KernelKind::Elementwise;
  return llvm::TypeSwitch<Operation *, std::optional<KernelKind>>(op)
      .Case([](EmbeddingOp) { return KernelKind::Embedding; })
      .Case([](GatherOp) { return KernelKind::Gather; })
      .Case([](LinearOp) { return KernelKind::Gemm; })
      .Case([](RmsNormOp) { return KernelKind::Norm; })
      .Case([](GroupedMatmulOp) { return KernelKind::GroupedGemm; })
      .Case([](MoeCombineOp) { return KernelKind::MoeCombine; })
      .Case([](MoeRouterOp) { return KernelKind::MoeRouter; })
      .Case([](MoeDispatchOp) { return KernelKind::MoeDispatch; })
      .Case([](AttentionOp) { return KernelKind::Attention; })
      .Case([](LightningAttentionOp) { return KernelKind::Lightning; })
      .Case<TransposeOp, SliceOp, ConcatOp>([](Operation *) { return KernelKind::Copy; })
      .Case([](ReduceOp) { return KernelKind::Reduce; })
      .Case<SoftmaxOp, LogSoftmaxOp>([](Operation *) { return KernelKind::Softmax; })
      .Case([](MatmulOp) { return KernelKind::Matmul; })
      .Case([](LayerNormOp) { return KernelKind::LayerNorm; })
      .Case([](ScatterAddOp) { return KernelKind::ScatterAdd; })
      .Case([](ArgmaxOp) { return KernelKind::Argmax; })
      .Case<CrossEntropyOp, SigmoidBceOp, PolicyLossOp>(
          [](Operation *) { return KernelKind::Loss; })
      .Case([](TopKOp) { return KernelKind::TopK; })
      .Case<Conv1dOp, Conv2dOp>([](Operation *) { return KernelKind::Conv; })
      .Case([](PoolOp) { return KernelKind::Pool; })
      .Case([](RopeOp) { return KernelKind::Rope; })
      .Case<MergeImageFeaturesOp, MergeImageFeaturesGradOp>(
          [](Operation *) { return KernelKind::MergeImageFeatures; })
      .Case([](GruOp) { return KernelKind::Gru; })
      .Case([](TargetAttentionOp) { return KernelKind::TargetAttention; })
      .Case([](HadamardInteractionOp) { return KernelKind::HadamardInteraction; })
      .Case([](AttentionGradOp) { return KernelKind::AttentionBackward; })
      .Case([](LightningAttentionGradOp) { return KernelKind::LightningBackward; })
      .Case([](GroupedMatmulWeightGradOp) { return KernelKind::GroupedGemmWeightGrad; })
      .Case([](CrossEntropyGradOp) { return KernelKind::LossBackward; })
      .Case([](GruGradOp) { return KernelKind::GruBackward; })
      .Case<Conv1dGradOp, Conv2dGradOp>([](Operation *) { return KernelKind::ConvBackward; })
      .Case([](shard::AllReduceOp) { return KernelKind::AllReduce; })
      .Case([](shard::AllGatherOp) { return KernelKind::AllGather; })
      .Case([](shard::AllSliceOp) { return KernelKind::AllSlice; })
      .Case([](shard::ReduceScatterOp) { return KernelKind::ReduceScatter; })
      .Default([](Operation *) { return std::nullopt; });
}

struct FormKernelsPass : mm::impl::FormKernelsBase<FormKernelsPass> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // A collective reads its input from a buffer: a constant it reads gets
    // a kernel that writes it. So does one a fused kernel takes as an input
    // (outlineKernel: a non-splat read elementwise), and a table a gather
    // indexes; kernels clone the other constants they read.
    SmallVector<arith::ConstantOp> buffered;
    for (auto c : getOperation().getBody().front().getOps<arith::ConstantOp>()) {
      bool table = llvm::isa<DenseElementsAttr>(c.getValue());
      if (llvm::any_of(c->getUsers(), [&](Operation *u) {
            return isExecutableCollective(u) || isa<KernelOp>(u) ||
                   (table && isa<GatherOp>(u) && u->getOperand(0) == c.getResult());
          }))
        buffered.push_back(c);
    }
    for (arith::ConstantOp c : buffered)
      if (failed(outlineKernel(rewriter, KernelKind::Constant, {c}, {}))) {
        c->emitOpError("could not be placed in a kernel");
        return signalPassFailure();
      }
    SmallVector<Operation *> ops;
    for (Operation &op : getOperation().getBody().front())
      if (!isa<KernelOp, ParamOp, ReshapeOp, arith::ConstantOp>(op) &&
          !op.hasTrait<OpTrait::IsTerminator>())
        ops.push_back(&op);
    for (Operation *op : ops) {
      std::optional<KernelKind> kind = kernelKind(op);
      if (isa<ChoiceOp>(op)) {
        op->emitOpError("selects a supernet candidate at run time: compile one child "
                        "architecture (mm-specialize-choices, or a constant selector)");
        return signalPassFailure();
      }
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
      // In place only when this op is the state's last reader (a training
      // graph reads it again in the backward).
      if (auto l = dyn_cast<LightningAttentionOp>(op);
          l && l.getInitialState() && l.getInitialState().hasOneUse())
        inPlace.push_back({l.getFinalState(), l.getInitialState()});
      if (failed(outlineKernel(rewriter, *kind, {op}, inPlace))) {
        op->emitOpError("could not be placed in a kernel");
        return signalPassFailure();
      }
    }
  }
};
} // namespace
