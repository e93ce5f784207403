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
//   dh[r] = w[s] g[s / k] for the slot s = order[r]: w[t, j] g[t] formed per
//   slot by broadcasting, flattened, then gathered by the token order;
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
  int64_t tokenDims = wType.getRank() - 1;
  SmallVector<int64_t> gSpec(tokenDims, 0), wSpec(tokenDims, 0);
  gSpec.append({1, dim});
  wSpec.append({k, 1});
  Value perSlot = gb.mul(gb.reshape(gb.cast(w, element), wSpec), gb.reshape(g, gSpec));
  out.push_back(GatherOp::create(b, getLoc(), gb.reshape(perSlot, {-1, dim}), order,
                                 b.getI64IntegerAttr(0), b.getI64IntegerAttr(0)));
  out.push_back(Value());
  // Slot j's selector: ones at [..., j], zeros elsewhere, cut from splats
  // (which every backend can fuse).
  Value zeros = gb.zerosLike(w), ones = gb.add(zeros, gb.scalar(w, 1.0));
  auto cut = [&](Value from, int64_t start, int64_t end) -> Value {
    return SliceOp::create(b, getLoc(), from, b.getI64IntegerAttr(tokenDims),
                           b.getI64IntegerAttr(start), b.getI64IntegerAttr(end),
                           b.getI64IntegerAttr(1));
  };
  SmallVector<Value> slotGradients;
  for (int64_t j = 0; j < k; ++j) {
    SmallVector<Value> pieces;
    if (j > 0)
      pieces.push_back(cut(zeros, 0, j));
    pieces.push_back(cut(ones, j, j + 1));
    if (j + 1 < k)
      pieces.push_back(cut(zeros, j + 1, k));
    Value selector = pieces.size() == 1
                         ? pieces[0]
                         : ConcatOp::create(b, getLoc(), pieces, b.getI64IntegerAttr(tokenDims));
    Value hSlot = MoeCombineOp::create(b, getLoc(), h, order, gb.matchType(selector, wType));
    slotGradients.push_back(
        gb.cast(gb.sum(gb.mul(g, hSlot), {-1}, true), wType.getElementType()));
  }
  out.push_back(k == 1 ? slotGradients[0]
                       : ConcatOp::create(b, getLoc(), slotGradients, b.getI64IntegerAttr(-1)));
  return success();
}
