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

// L = -sum(m o) / M, M = sum(m), with the per-token objective
//   cispo:    o = sg(c) A lp        (c constant: do/dlp = c A, do/dold = 0)
//   ppo_clip: o = min(r A, c A)     (do/dlp = r A on the unclipped branch
//             when the log-ratio clamp is inactive, do/dold = -do/dlp)
// and dL/dA = -m do/dA / M, dL/dm = -(o + L) / M.
LogicalResult PolicyLossOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                           SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value lp = getLogprobs(), old = getOldLogprobs(), mask = getMask();
  Type element = rankedOf(lp).getElementType();
  Value g = gb.cast(grads[0], element);
  Value adv = getAdvantages();
  bool perSequence = rankedOf(adv).getRank() == 1;
  Value advTokens = perSequence ? gb.reshape(adv, {-1, 1}) : adv;
  double bound = getLogRatioClamp().convertToDouble();
  Value delta = gb.sub(lp, old);
  Value clamped = MinOp::create(b, getLoc(), MaxOp::create(b, getLoc(), delta, gb.scalar(lp, -bound)),
                                gb.scalar(lp, bound));
  Value r = gb.exp(clamped);
  Value c = MinOp::create(
      b, getLoc(),
      MaxOp::create(b, getLoc(), r, gb.scalar(lp, 1.0 - getEpsLow().convertToDouble())),
      gb.scalar(lp, 1.0 + getEpsHigh().convertToDouble()));
  Value scale = gb.div(gb.neg(g), gb.sum(mask, allDims(mask), false)); // -g / M
  Value zero = gb.zerosLike(lp);
  Value objective, dObjectiveDlp, dObjectiveDadv;
  if (getKind() == PolicyLossKind::CISPO) {
    objective = gb.mul(gb.mul(c, advTokens), lp);
    dObjectiveDlp = gb.broadcastLike(gb.mul(c, advTokens), lp);
    dObjectiveDadv = gb.mul(c, lp);
  } else {
    Value unclippedTerm = gb.mul(r, advTokens), clippedTerm = gb.mul(c, advTokens);
    Value unclipped = gb.selectWhere(Pred::OLE, unclippedTerm, clippedTerm,
                                     gb.add(zero, gb.scalar(lp, 1.0)), zero);
    Value inside = gb.selectWhere(Pred::OEQ, clamped, delta, gb.add(zero, gb.scalar(lp, 1.0)),
                                  zero);
    objective = MinOp::create(b, getLoc(), unclippedTerm, clippedTerm);
    dObjectiveDlp = gb.mul(gb.mul(unclipped, inside), unclippedTerm);
    dObjectiveDadv = gb.add(gb.mul(unclipped, r), gb.mul(gb.sub(gb.scalar(lp, 1.0), unclipped), c));
  }
  Value dlp = gb.mul(gb.mul(mask, dObjectiveDlp), scale);
  out.push_back(dlp);
  out.push_back(getKind() == PolicyLossKind::CISPO ? gb.zerosLike(old) : gb.neg(dlp));
  out.push_back(gb.sumToShape(gb.mul(gb.mul(mask, dObjectiveDadv), scale),
                              perSequence ? gb.reshape(adv, {-1, 1}) : adv));
  if (perSequence)
    out.back() = gb.matchType(gb.reshape(out.back(), {-1}), adv.getType());
  // dL/dm = -(o + L) / M: scale carries -g / M, and L is this op's result.
  out.push_back(gb.mul(gb.add(objective, gb.cast(getLoss(), element)), scale));
  return success();
}
