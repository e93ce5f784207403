//===- CudaLossKinds.cpp - cross-entropy, sigmoid BCE, policy losses -------===//
//
// CUDA generators of the loss kind (kernels/loss.cuh): terms in double, one
// block reducing them for the sum and mean reductions.
//
//===----------------------------------------------------------------------===//
#include "codegen/CudaEmitter.h"

using namespace mlir;

namespace mm::cudaemit {

namespace {
constexpr int kLossThreads = 256; // a power of two: the double block sums are trees
}

LogicalResult CudaEmitter::emitLoss() {
  Operation *op = singleOpOnInputs();
  if (!op || !isa<CrossEntropyOp, SigmoidBceOp, PolicyLossOp>(op))
    return fail("expected one mm.cross_entropy, mm.sigmoid_bce or mm.policy_loss of kernel "
                "inputs");
  for (Value v : op->getOperands())
    if (failed(requireF32Storage(v, "a loss operand")))
      return failure();
  const std::string threads = std::to_string(kLossThreads);
  if (auto pl = dyn_cast<PolicyLossOp>(op)) {
    Value lp = topLevel(pl.getLogprobs());
    const bool perToken = llvm::cast<RankedTensorType>(pl.getAdvantages().getType()).getRank() == 2;
    auto optional = [](FloatAttr a) { return a ? a.getValueAsDouble() : 0.0; };
    code += wrapper("policy_loss", "mm_i64 B, mm_i64 T") +
            llvm::formatv("  mm_policy_loss_kernel<{0}>({1}, {2}, {3}, {4}, {5}, {6}, {7}, B, T, "
                          "{8:e17}, {9:e17}, {10:e17}, {11:e17}, {12:e17}, {13}, out0);\n}\n",
                          threads, pl.getKind() == PolicyLossKind::CISPO ? 1 : 0,
                          pointer(pl.getLogprobs()), pointer(pl.getOldLogprobs()),
                          pointer(pl.getAdvantages()), perToken ? 1 : 0, pointer(pl.getMask()),
                          pl.getNormalizer() ? pointer(pl.getNormalizer()) : "nullptr",
                          pl.getEpsLow().convertToDouble(), pl.getEpsHigh().convertToDouble(),
                          pl.getLogRatioClamp().convertToDouble(), optional(pl.getRatioCapAttr()),
                          optional(pl.getDualClipAttr()),
                          pl.getNormalization() == PolicyLossNormalization::Sequence ? 1 : 0)
                .str();
    launch.kernel("policy_loss", shapes::rows(1, kLossThreads),
                  {Arg::i64(dimOf(lp, 0)), Arg::i64(dimOf(lp, 1))});
    return success();
  }
  // Cross-entropy terms per row, BCE terms per element, then their total.
  LossReduction reduction;
  Int terms = 1;
  unsigned slot = 0;
  std::string labels = "nullptr", ignore = "0";
  if (auto ce = dyn_cast<CrossEntropyOp>(op)) {
    reduction = ce.getReduction();
    Value logits = topLevel(ce.getLogits());
    const int64_t rank = llvm::cast<RankedTensorType>(logits.getType()).getRank();
    terms = launch.let(span(logits, 0, unsigned(rank - 1)));
    labels = pointer(ce.getLabels());
    ignore = "(mm_i64)" + std::to_string(int64_t(ce.getIgnoreIndex()));
    code += wrapper("terms", "mm_i64 rows, mm_i64 classes, double *terms, int *error") +
            llvm::formatv("  mm_cross_entropy_rows_kernel<{0}>({1}, {2}, rows, classes, {3}, "
                          "terms, {4}, error);\n}\n",
                          threads, pointer(ce.getLogits()), labels, ignore,
                          reduction == LossReduction::None ? "out0" : "nullptr")
                .str();
    slot = launch.scratch(ScratchSlot::RowStatistics, terms * int64_t(sizeof(double)));
    launch.kernel("terms", shapes::rows(terms, kLossThreads),
                  {Arg::i64(terms), Arg::i64(dimOf(logits, unsigned(rank - 1))),
                   Arg::pointer(cudagen::scratchPointer(slot)), Arg::errorFlag()},
                  cudagen::le(1, terms));
  } else {
    auto bce = cast<SigmoidBceOp>(op);
    reduction = bce.getReduction();
    terms = launch.let(cudagen::numel(argIndex(bce.getLogits())));
    code += wrapper("terms", "mm_i64 n, double *terms") +
            llvm::formatv("  mm_sigmoid_bce_kernel({0}, {1}, n, terms, {2});\n}\n",
                          pointer(bce.getLogits()), pointer(bce.getLabels()),
                          reduction == LossReduction::None ? "out0" : "nullptr")
                .str();
    slot = launch.scratch(ScratchSlot::RowStatistics, terms * int64_t(sizeof(double)));
    launch.kernel("terms", shapes::elementwise(terms),
                  {Arg::i64(terms), Arg::pointer(cudagen::scratchPointer(slot))},
                  cudagen::le(1, terms));
  }
  if (reduction == LossReduction::None)
    return success();
  code += wrapper("total", "mm_i64 n, const double *terms") +
          llvm::formatv("  mm_loss_total_kernel<{0}>(terms, n, {1}, {2}, {3}, out0);\n}\n", threads,
                        labels, ignore, reduction == LossReduction::Mean ? 1 : 0)
              .str();
  launch.kernel("total", shapes::rows(1, kLossThreads),
                {Arg::i64(terms), Arg::pointer(cudagen::scratchPointer(slot))});
  return success();
}

} // namespace mm::cudaemit
