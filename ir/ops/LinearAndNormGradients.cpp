//===- LinearAndNormGradients.cpp - rules of linear layers and norms ------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

// y = x W^T + b: dx = g W, dW = g^T x over all rows, db = sum of g's rows.
LogicalResult LinearOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value g = grads[0], x = getInput(), w = getWeight();
  int64_t n = rankedOf(w).getDimSize(0), k = rankedOf(w).getDimSize(1);
  Value dx;
  if (rankedOf(x).getRank() == 1)
    dx = gb.reshape(gb.matmul(gb.reshape(g, {1, n}), w, false, false), {k});
  else
    dx = gb.matmul(g, w, false, false);
  out.push_back(gb.matchType(dx, x.getType()));
  Value rows = gb.reshape(g, {-1, n}), inputs = gb.reshape(x, {-1, k});
  out.push_back(gb.matmul(rows, inputs, /*transposeA=*/true, false));
  if (getBias())
    out.push_back(gb.sumLeading(g, 1));
  return success();
}

// With A' = op(A) and B' = op(B) the effective operands, dA' = g B'^T and
// dB' = A'^T g; a transposed operand takes the transpose of its gradient,
// which is formed directly (dA = B' g^T, dB = g^T A'). Broadcast batch
// dimensions are summed back.
LogicalResult MatmulOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value g = grads[0], a = getLhs(), bm = getRhs();
  bool ta = getTransposeLhs(), tb = getTransposeRhs();
  Value da = ta ? gb.matmul(bm, g, tb, true) : gb.matmul(g, bm, false, !tb);
  Value db = tb ? gb.matmul(g, a, true, ta) : gb.matmul(a, g, !ta, false);
  out.push_back(gb.sumToShape(da, a));
  out.push_back(gb.sumToShape(db, bm));
  return success();
}

// The table's gradient adds each output row's gradient at its id.
LogicalResult EmbeddingOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                          SmallVectorImpl<Value> &out) {
  if (getRowsFrom())
    return emitOpError("the gradient of a vocab-parallel part (rows_from) is not built");
  GradientBuilder gb(b, getLoc());
  Value table = getTable();
  int64_t dim = rankedOf(table).getDimSize(1);
  Value ids = gb.reshape(getIds(), {-1});
  Value rows = gb.reshape(grads[0], {-1, dim});
  out.push_back(ScatterAddOp::create(b, getLoc(), gb.zerosLike(table), ids, rows,
                                     b.getI64IntegerAttr(0), b.getI64IntegerAttr(0)));
  out.push_back(Value());
  return success();
}

// y = w x r, r = (mean(x^2) + eps)^(-1/2): with h = g w,
// dx = r h - x r^3 mean(h x), dw = sum over rows of g x r.
LogicalResult RmsNormOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                        SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value x = getInput(), g = grads[0];
  Type element = rankedOf(x).getElementType();
  Value w = gb.cast(getWeight(), element);
  Value meanSquare = gb.mean(gb.mul(x, x), {-1}, true);
  Value r = RsqrtOp::create(
      b, getLoc(), gb.add(meanSquare, gb.scalar(x, getEpsilon().convertToDouble())));
  Value h = gb.mul(g, w);
  Value r3 = gb.mul(r, gb.mul(r, r));
  out.push_back(gb.sub(gb.mul(r, h), gb.mul(gb.mul(x, r3), gb.mean(gb.mul(h, x), {-1}, true))));
  out.push_back(gb.cast(gb.sumLeading(gb.mul(g, gb.mul(x, r)), 1),
                        rankedOf(getWeight()).getElementType()));
  return success();
}

// y = xhat w + b, xhat = (x - mean) rstd: with h = g w,
// dx = rstd (h - mean(h) - xhat mean(h xhat)), dw = sum g xhat, db = sum g.
LogicalResult LayerNormOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                          SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value x = getInput(), g = grads[0];
  Type element = rankedOf(x).getElementType();
  Value centered = gb.sub(x, gb.mean(x, {-1}, true));
  Value variance = gb.mean(gb.mul(centered, centered), {-1}, true);
  Value rstd = RsqrtOp::create(b, getLoc(),
                               gb.add(variance, gb.scalar(x, getEpsilon().convertToDouble())));
  Value xhat = gb.mul(centered, rstd);
  Value h = gb.mul(g, gb.cast(getWeight(), element));
  Value inner = gb.sub(gb.sub(h, gb.mean(h, {-1}, true)),
                       gb.mul(xhat, gb.mean(gb.mul(h, xhat), {-1}, true)));
  out.push_back(gb.mul(rstd, inner));
  out.push_back(gb.cast(gb.sumLeading(gb.mul(g, xhat), 1), rankedOf(getWeight()).getElementType()));
  out.push_back(gb.cast(gb.sumLeading(g, 1), rankedOf(getBias()).getElementType()));
  return success();
}
