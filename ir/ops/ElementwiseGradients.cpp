//===- ElementwiseGradients.cpp - vector-Jacobian rules of elementwise ops ===//
//
// Each rule is the textbook derivative written with mm ops; `g` is the
// result's gradient, `x` the operand and `y` the result (reused where the
// derivative is cheaper in terms of y, as for sigmoid, tanh and exp).
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

#include <cmath>

static constexpr double kPi = 3.14159265358979323846;

using namespace mlir;
using namespace mm;

using Pred = arith::CmpFPredicate;

/// Runs `rule(gb, g)` for a one-operand op and records its single gradient.
template <typename Rule>
static LogicalResult unaryRule(Operation *op, OpBuilder &b, ArrayRef<Value> grads,
                               SmallVectorImpl<Value> &out, Rule rule) {
  GradientBuilder gb(b, op->getLoc());
  out.push_back(rule(gb, grads[0]));
  return success();
}

#define MM_UNARY_GRADIENT(OP, BODY)                                                                \
  LogicalResult OP::buildGradients(OpBuilder &b, ArrayRef<Value> grads,                            \
                                   SmallVectorImpl<Value> &out) {                                  \
    Value x = getInput(), y = getResult();                                                         \
    (void)x;                                                                                       \
    (void)y;                                                                                       \
    return unaryRule(*this, b, grads, out, [&](GradientBuilder &gb, Value g) { BODY });            \
  }

// silu' = s (1 + x (1 - s)) with s = sigmoid(x).
MM_UNARY_GRADIENT(SiluOp, {
  Value s = gb.sigmoid(x);
  Value one = gb.scalar(x, 1.0);
  return gb.mul(g, gb.mul(s, gb.add(one, gb.mul(x, gb.sub(one, s)))));
})
MM_UNARY_GRADIENT(SigmoidOp, { return gb.mul(g, gb.mul(y, gb.sub(gb.scalar(x, 1.0), y))); })
// relu' = [x > 0] (0 at the kink, as PyTorch).
MM_UNARY_GRADIENT(ReluOp, {
  return gb.selectWhere(Pred::OGT, x, gb.zerosLike(x), g, gb.zerosLike(g));
})
MM_UNARY_GRADIENT(TanhOp, { return gb.mul(g, gb.sub(gb.scalar(x, 1.0), gb.mul(y, y))); })
MM_UNARY_GRADIENT(ExpOp, { return gb.mul(g, y); })
MM_UNARY_GRADIENT(LogOp, { return gb.div(g, x); })
MM_UNARY_GRADIENT(SqrtOp, { return gb.div(gb.mul(g, gb.scalar(x, 0.5)), y); })
// d x^(-1/2) = -1/2 x^(-3/2) = -1/2 y^3.
MM_UNARY_GRADIENT(RsqrtOp, {
  return gb.mul(g, gb.mul(gb.scalar(x, -0.5), gb.mul(y, gb.mul(y, y))));
})
MM_UNARY_GRADIENT(NegOp, { return gb.neg(g); })
#undef MM_UNARY_GRADIENT

LogicalResult GeluOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                     SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value x = getInput(), g = grads[0];
  Value half = gb.scalar(x, 0.5), one = gb.scalar(x, 1.0);
  if (getTanhApproximation()) {
    // y = 0.5 x (1 + t), t = tanh(u), u = c (x + a x^3):
    // y' = 0.5 (1 + t) + 0.5 x (1 - t^2) c (1 + 3 a x^2).
    double c = std::sqrt(2.0 / kPi), a = 0.044715;
    Value x2 = gb.mul(x, x);
    Value u = gb.mul(gb.scalar(x, c), gb.add(x, gb.mul(gb.scalar(x, a), gb.mul(x2, x))));
    Value t = gb.tanh(u);
    Value du = gb.mul(gb.scalar(x, c), gb.add(one, gb.mul(gb.scalar(x, 3 * a), x2)));
    Value dy = gb.add(gb.mul(half, gb.add(one, t)),
                      gb.mul(gb.mul(half, x), gb.mul(gb.sub(one, gb.mul(t, t)), du)));
    out.push_back(gb.mul(g, dy));
    return success();
  }
  // y = x Phi(x): y' = Phi(x) + x phi(x). Phi = y / x recovers the CDF to a
  // rounding (0.5 at x = 0), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
  Value zero = gb.zerosLike(x);
  Value phiCdf = gb.selectWhere(Pred::OEQ, x, zero, gb.add(zero, half), gb.div(getResult(), x));
  Value density = gb.mul(gb.scalar(x, 1.0 / std::sqrt(2.0 * kPi)),
                         gb.exp(gb.mul(gb.scalar(x, -0.5), gb.mul(x, x))));
  out.push_back(gb.mul(g, gb.add(phiCdf, gb.mul(x, density))));
  return success();
}

static bool isFloatTensor(Value v) {
  return llvm::isa<FloatType>(llvm::cast<RankedTensorType>(v.getType()).getElementType());
}

LogicalResult AddOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                    SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  out.push_back(gb.sumToShape(grads[0], getLhs()));
  out.push_back(gb.sumToShape(grads[0], getRhs()));
  return success();
}

LogicalResult SubOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                    SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  out.push_back(gb.sumToShape(grads[0], getLhs()));
  out.push_back(gb.sumToShape(gb.neg(grads[0]), getRhs()));
  return success();
}

LogicalResult MulOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                    SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  out.push_back(gb.sumToShape(gb.mul(grads[0], getRhs()), getLhs()));
  out.push_back(gb.sumToShape(gb.mul(grads[0], getLhs()), getRhs()));
  return success();
}

// d(a/b) = da / b - db a / b^2 = (da - db y) / b.
LogicalResult DivOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                    SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value ga = gb.div(grads[0], getRhs());
  out.push_back(gb.sumToShape(ga, getLhs()));
  out.push_back(gb.sumToShape(gb.neg(gb.mul(ga, getResult())), getRhs()));
  return success();
}

/// max / min: the gradient goes to the operand that was chosen; on a tie,
/// to the left one.
static LogicalResult selectedOperandRule(Operation *op, Value lhs, Value rhs, Pred pred,
                                         OpBuilder &b, ArrayRef<Value> grads,
                                         SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, op->getLoc());
  Value result = op->getResult(0), g = grads[0];
  Value l = gb.broadcastLike(lhs, result), r = gb.broadcastLike(rhs, result);
  Value zero = gb.zerosLike(g);
  out.push_back(gb.sumToShape(gb.selectWhere(pred, l, r, g, zero), lhs));
  out.push_back(gb.sumToShape(gb.selectWhere(pred, l, r, zero, g), rhs));
  return success();
}

LogicalResult MaxOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                    SmallVectorImpl<Value> &out) {
  if (!isFloatTensor(getLhs()))
    return emitOpError("has integer operands: no gradient");
  return selectedOperandRule(*this, getLhs(), getRhs(), Pred::OGE, b, grads, out);
}

LogicalResult MinOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                    SmallVectorImpl<Value> &out) {
  if (!isFloatTensor(getLhs()))
    return emitOpError("has integer operands: no gradient");
  return selectedOperandRule(*this, getLhs(), getRhs(), Pred::OLE, b, grads, out);
}

// silu(gate) * up: d gate = g up silu'(gate), d up = g silu(gate).
LogicalResult SwigluOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value x = getGate(), g = grads[0];
  Value s = gb.sigmoid(x), one = gb.scalar(x, 1.0);
  Value siluDerivative = gb.mul(s, gb.add(one, gb.mul(x, gb.sub(one, s))));
  out.push_back(gb.mul(gb.mul(g, getUp()), siluDerivative));
  out.push_back(gb.mul(g, gb.mul(x, s)));
  return success();
}

// Float to float: the gradient in the operand's precision. Integers carry none.
LogicalResult CastOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                     SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  if (!isFloatTensor(getInput()) || !isFloatTensor(getResult())) {
    out.push_back(Value());
    return success();
  }
  out.push_back(gb.cast(grads[0], getInput().getType().getElementType()));
  return success();
}

LogicalResult ZerosLikeOp::buildGradients(OpBuilder &, ArrayRef<Value>,
                                          SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}
