//===- LossOps.cpp - cross-entropy, policy loss, sigmoid BCE --------------===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

/// Losses are float32 (float64 for float64 operands, so a float64 graph
/// differentiates without a rounding to float32): a scalar, or per element
/// for `none`.
static Type lossElementType(MLIRContext *ctx, Type operandElement) {
  return operandElement.isF64() ? Type(Float64Type::get(ctx)) : Type(Float32Type::get(ctx));
}
static Type lossType(MLIRContext *ctx, LossReduction reduction, ArrayRef<int64_t> perElement,
                     Type operandElement) {
  Type element = lossElementType(ctx, operandElement);
  if (reduction == LossReduction::None)
    return RankedTensorType::get(perElement, element);
  return RankedTensorType::get({}, element);
}

LogicalResult CrossEntropyOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                               Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto logits = d.ranked(adaptor.getLogits().getType(), "logits");
  auto labels = d.ranked(adaptor.getLabels().getType(), "labels");
  if (failed(logits) || failed(labels))
    return failure();
  if (logits->getRank() < 1)
    return d.error("logits must have a class dimension");
  ArrayRef<int64_t> outer = logits->getShape().drop_back();
  if (failed(verifyCompatibleShape(outer, labels->getShape())))
    return d.error("labels shape ", formatShape(labels->getShape()),
                   " must be the logits shape without its class dim, ", formatShape(outer));
  SmallVector<int64_t> shape;
  for (auto [a, b] : llvm::zip(outer, labels->getShape()))
    shape.push_back(refine(a, b));
  types.push_back(lossType(ctx, adaptor.getReduction(), shape, logits->getElementType()));
  return success();
}

LogicalResult PolicyLossOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto lp = d.ranked(adaptor.getLogprobs().getType(), "logprobs");
  auto old = d.ranked(adaptor.getOldLogprobs().getType(), "old_logprobs");
  auto adv = d.ranked(adaptor.getAdvantages().getType(), "advantages");
  auto mask = d.ranked(adaptor.getMask().getType(), "mask");
  if (failed(lp) || failed(old) || failed(adv) || failed(mask) ||
      failed(d.expectRank(*lp, 2, "logprobs")))
    return failure();
  if (failed(verifyCompatibleShape(*lp, *old)) || failed(verifyCompatibleShape(*lp, *mask)))
    return d.error("logprobs, old_logprobs and mask must have one shape "
                   "[batch, seq], got ",
                   *lp, ", ", *old, " and ", *mask);
  bool perSequence = adv->getRank() == 1 && compatible(adv->getDimSize(0), lp->getDimSize(0));
  if (!perSequence && failed(verifyCompatibleShape(*adv, *lp)))
    return d.error("advantages must be [batch] or [batch, seq], got ", *adv);
  double lo = adaptor.getEpsLow().convertToDouble();
  double hi = adaptor.getEpsHigh().convertToDouble();
  double clampAt = adaptor.getLogRatioClamp().convertToDouble();
  if (!(lo >= 0) || !(hi >= 0) || std::isnan(lo) || std::isnan(hi))
    return d.error("eps_low and eps_high must be non-negative, got ", lo, " and ", hi);
  if (!(clampAt > 0))
    return d.error("log_ratio_clamp must be positive, got ", clampAt);
  bool cispo = adaptor.getKind() == PolicyLossKind::CISPO;
  if (auto cap = adaptor.getRatioCapAttr()) {
    if (!cispo)
      return d.error("ratio_cap applies to cispo; ppo_clip clips with eps_low and eps_high");
    if (!(cap.getValueAsDouble() > 0))
      return d.error("ratio_cap must be positive, got ", cap.getValueAsDouble());
  }
  if (auto dual = adaptor.getDualClipAttr()) {
    if (cispo)
      return d.error("dual_clip applies to ppo_clip, not cispo");
    if (!(dual.getValueAsDouble() > 1))
      return d.error("dual_clip must be greater than 1, got ", dual.getValueAsDouble());
  }
  if (Value n = adaptor.getNormalizer()) {
    auto count = d.ranked(n.getType(), "normalizer");
    if (failed(count))
      return failure();
    if (count->getRank() != 0)
      return d.error("normalizer must be a 0-d tensor (a token or sequence count), got ", *count);
  }
  types.push_back(RankedTensorType::get({}, lossElementType(ctx, lp->getElementType())));
  return success();
}

LogicalResult SigmoidBceOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getLogits().getType(), "logits");
  auto y = d.ranked(adaptor.getLabels().getType(), "labels");
  if (failed(x) || failed(y))
    return failure();
  if (failed(verifyCompatibleShape(*x, *y)))
    return d.error("logits ", *x, " and labels ", *y, " must have the same shape");
  types.push_back(lossType(ctx, adaptor.getReduction(), x->getShape(), x->getElementType()));
  return success();
}
