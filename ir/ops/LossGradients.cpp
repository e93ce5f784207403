//===- LossGradients.cpp - rules of the training objectives ---------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

using Pred = arith::CmpFPredicate;

static SmallVector<int64_t> allDims(Value v) {
  return llvm::to_vector(llvm::seq<int64_t>(0, rankedOf(v).getRank()));
}

// Fused softmax - one-hot (mm.cross_entropy_grad); the labels get none.
LogicalResult CrossEntropyOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                             SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value g = gb.cast(grads[0], rankedOf(getLogits()).getElementType());
  out.push_back(CrossEntropyGradOp::create(b, getLoc(), getReductionAttr(), getLogits(),
                                           getLabels(), g, getIgnoreIndexAttr()));
  out.push_back(Value());
  return success();
}

/// The per-element weight of a reduced loss's gradient: g itself (none), g
/// broadcast (sum), or g / count (mean), in `like`'s element type.
static Value perElementWeight(GradientBuilder &gb, LossReduction reduction, Value g, Value like) {
  g = gb.cast(g, rankedOf(like).getElementType());
  if (reduction == LossReduction::Mean)
    g = gb.div(g, gb.countOf(like, allDims(like)));
  return g;
}

// l = max(x, 0) - x y + log(1 + exp(-|x|)): dl/dx = sigmoid(x) - y, dl/dy = -x.
LogicalResult SigmoidBceOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                           SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value x = getLogits(), y = getLabels();
  Value g = perElementWeight(gb, getReduction(), grads[0], x);
  out.push_back(gb.broadcastLike(gb.mul(g, gb.sub(gb.sigmoid(x), y)), x));
  out.push_back(gb.broadcastLike(gb.mul(g, gb.neg(x)), y));
  return success();
}

// The loss is -sum(m o) / D with the per-token objective o (= -l) and a
// denominator D per token: the normaliser (token) or the row's own count
// times the number of rows (sequence). Only lp gets a gradient:
//   cispo:    o = sg(w) A lp     -> do/dlp = w A
//   ppo_clip: o = min(r A, c A)  -> do/dlp = r A on the unclipped branch when
//             the log-ratio clamp is inactive, else 0; with the dual clip a
//             token with A < 0 and o < k A is constant (o = k A) -> 0.
LogicalResult PolicyLossOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                           SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Location loc = getLoc();
  Value lp = getLogprobs(), old = getOldLogprobs(), mask = getMask();
  Type element = rankedOf(lp).getElementType();
  Value g = gb.cast(grads[0], element);
  Value adv = getAdvantages();
  Value advTokens = rankedOf(adv).getRank() == 1 ? gb.reshape(adv, {-1, 1}) : adv;
  Value zero = gb.zerosLike(lp), one = gb.add(zero, gb.scalar(lp, 1.0));
  double bound = getLogRatioClamp().convertToDouble();
  Value delta = gb.sub(lp, old);
  Value clamped = MinOp::create(b, loc, MaxOp::create(b, loc, delta, gb.scalar(lp, -bound)),
                                gb.scalar(lp, bound));
  Value r = gb.exp(clamped);
  Value c = MinOp::create(
      b, loc, MaxOp::create(b, loc, r, gb.scalar(lp, 1.0 - getEpsLow().convertToDouble())),
      gb.scalar(lp, 1.0 + getEpsHigh().convertToDouble()));
  Value dObjective;
  if (getKind() == PolicyLossKind::CISPO) {
    Value w = getRatioCap()
                  ? MinOp::create(b, loc, r, gb.scalar(lp, getRatioCapAttr().getValueAsDouble()))
                  : c;
    dObjective = gb.broadcastLike(gb.mul(w, advTokens), lp);
  } else {
    Value unclippedTerm = gb.mul(r, advTokens), clippedTerm = gb.mul(c, advTokens);
    Value unclipped = gb.selectWhere(Pred::OLE, unclippedTerm, clippedTerm, one, zero);
    Value inside = gb.selectWhere(Pred::OEQ, clamped, delta, one, zero);
    dObjective = gb.mul(gb.mul(unclipped, inside), unclippedTerm);
    if (getDualClip()) {
      Value objective = MinOp::create(b, loc, unclippedTerm, clippedTerm);
      double k = getDualClipAttr().getValueAsDouble();
      Value floor = gb.broadcastLike(gb.mul(advTokens, gb.scalar(lp, k)), lp);
      Value negative = gb.selectWhere(Pred::OLT, gb.broadcastLike(advTokens, lp), zero, one, zero);
      Value capped = gb.mul(negative, gb.selectWhere(Pred::OGT, floor, objective, one, zero));
      dObjective = gb.mul(gb.sub(one, capped), dObjective);
    }
  }
  // A zero denominator (no tokens, or a zero normaliser) makes the loss 0:
  // those tokens get no gradient.
  Value denominator;
  if (getNormalization() == PolicyLossNormalization::Token) {
    denominator = getNormalizer() ? gb.cast(getNormalizer(), element)
                                  : gb.sum(mask, allDims(mask), false);
  } else {
    Value rows = getNormalizer() ? gb.cast(getNormalizer(), element) : gb.countOf(lp, {0});
    denominator = gb.mul(gb.sum(mask, {1}, true), rows);
  }
  Value none = gb.zerosLike(denominator), ones = gb.add(none, gb.scalar(denominator, 1.0));
  Value positive = gb.selectWhere(Pred::OGT, denominator, none, ones, none);
  Value safe = gb.selectWhere(Pred::OGT, denominator, none, denominator, ones);
  Value scale = gb.mul(gb.div(gb.neg(g), safe), positive);
  out.push_back(gb.mul(gb.mul(mask, dObjective), scale));
  out.append(getNormalizer() ? 4 : 3, Value());
  return success();
}
