//===- MoEGradients.cpp - rules of routing, dispatch, experts, combine ----===//
//
// The expert selection is constant (its gradient is zero almost everywhere);
// gradients reach the router through the routing weights, and the experts'
// rows move between token order and expert order as in the forward pass.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

static RankedTensorType rankedOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()); }

bool MoeRouterOp::integerResultsAreConstantSelections() { return true; }
// The offsets and order depend on the expert indices alone, never on the rows.
bool MoeDispatchOp::integerResultsAreConstantSelections() { return true; }

// Renormalised weights are a softmax over the chosen logits, so
// dl_chosen = w (g - sum(g w)); without renormalisation w = softmax(l)[chosen]
// and dl = p (dp - sum(dp p)) with dp the weights' gradient scattered back.
LogicalResult MoeRouterOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                          SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value logits = getLogits(), w = getWeights(), g = grads[0];
  Type element = rankedOf(logits).getElementType();
  int64_t last = rankedOf(logits).getRank() - 1;
  auto scatterChosen = [&](Value perChoice) -> Value {
    return ScatterAddOp::create(b, getLoc(), gb.zerosLike(logits), getIndices(),
                                gb.cast(perChoice, element), b.getI64IntegerAttr(last),
                                b.getI64IntegerAttr(last));
  };
  if (!g) {
    out.push_back(Value());
    return success();
  }
  if (getRenormalize()) {
    out.push_back(scatterChosen(gb.mul(w, gb.sub(g, gb.sum(gb.mul(g, w), {-1}, true)))));
    return success();
  }
  Value p = SoftmaxOp::create(b, getLoc(), logits, b.getI64IntegerAttr(-1));
  Value dp = scatterChosen(g);
  out.push_back(gb.mul(p, gb.sub(dp, gb.sum(gb.mul(dp, p), {-1}, true))));
  return success();
}

// Row r of the dispatch is token order[r] / k, so a token's gradient sums its
// k rows: exactly mm.moe_combine of the row gradients with unit weights.
LogicalResult MoeDispatchOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                            SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value rows = grads[0];
  if (!rows) {
    out.append({Value(), Value()});
    return success();
  }
  Type element = rankedOf(rows).getElementType();
  Value slots = gb.cast(getExpertIndices(), element);
  Value ones = gb.add(gb.zerosLike(slots), gb.scalar(slots, 1.0));
  out.push_back(MoeCombineOp::create(b, getLoc(), rows, getTokenOrder(), ones));
  out.push_back(Value());
  return success();
}

// dx = grouped_matmul(g, W^T); dW_e = g_e^T x_e (mm.grouped_matmul_weight_grad).
LogicalResult GroupedMatmulOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                              SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value transposed = gb.transpose(getWeight(), {0, 2, 1});
  out.push_back(
      GroupedMatmulOp::create(b, getLoc(), grads[0], transposed, getGroupOffsets()));
  out.push_back(
      GroupedMatmulWeightGradOp::create(b, getLoc(), grads[0], getInput(), getGroupOffsets()));
  out.push_back(Value());
  return success();
}

// y[t] = sum_j w[t, j] h[row(t, j)]:
//   dh[r] = w[slot r] g[token of r], gathered by the token order;
//   dw[t, j] = g[t] . h[row(t, j)], with h brought back to slot j of every
//   token by a combine whose weights select slot j (k is static and small).
LogicalResult MoeCombineOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                           SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value h = getExpertOutput(), order = getTokenOrder(), w = getWeights(), g = grads[0];
  RankedTensorType wType = rankedOf(w);
  int64_t k = wType.getShape().back(), dim = rankedOf(h).getDimSize(1);
  if (k == ShapedType::kDynamic)
    return emitOpError("cannot be differentiated with a dynamic top-k dimension");
  Type element = rankedOf(h).getElementType();
  Value tokenOfRow = gb.div(order, gb.scalar(order, static_cast<double>(k)));
  Value gRows = GatherOp::create(b, getLoc(), gb.reshape(g, {-1, dim}), tokenOfRow,
                                 b.getI64IntegerAttr(0), b.getI64IntegerAttr(0));
  Value wRows = GatherOp::create(b, getLoc(), gb.reshape(w, {-1}), order, b.getI64IntegerAttr(0),
                                 b.getI64IntegerAttr(0));
  out.push_back(gb.mul(gRows, gb.reshape(gb.cast(wRows, element), {-1, 1})));
  out.push_back(Value());
  SmallVector<Value> perSlot;
  for (int64_t j = 0; j < k; ++j) {
    SmallVector<Attribute> oneHot;
    for (int64_t i = 0; i < k; ++i)
      oneHot.push_back(b.getFloatAttr(wType.getElementType(), i == j ? 1.0 : 0.0));
    Value selector = arith::ConstantOp::create(
        b, getLoc(), DenseElementsAttr::get(RankedTensorType::get({k}, wType.getElementType()),
                                            oneHot));
    Value hSlot = MoeCombineOp::create(b, getLoc(), h, order, gb.add(gb.zerosLike(w), selector));
    perSlot.push_back(gb.cast(gb.sum(gb.mul(g, hSlot), {-1}, true), wType.getElementType()));
  }
  out.push_back(k == 1 ? perSlot[0]
                       : ConcatOp::create(b, getLoc(), perSlot, b.getI64IntegerAttr(-1)));
  return success();
}
