//===- ReductionGradients.cpp - rules of softmax, reductions, top-k -------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

// dx = y (g - sum(g y)).
LogicalResult SoftmaxOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                        SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value y = getResult(), g = grads[0];
  out.push_back(gb.mul(y, gb.sub(g, gb.sum(gb.mul(g, y), {static_cast<int64_t>(getDim())}, true))));
  return success();
}

// dx = g - softmax(x) sum(g), with softmax(x) = exp(y).
LogicalResult LogSoftmaxOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                           SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value g = grads[0];
  out.push_back(gb.sub(g, gb.mul(gb.exp(getResult()), gb.sum(g, {static_cast<int64_t>(getDim())}, true))));
  return success();
}

// The result's gradient spread back over the reduced dims: as it is for sum,
// divided by the count for mean, and shared equally by the tied extreme
// elements for max and min (as PyTorch's amax / amin).
LogicalResult ReduceOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value x = getInput(), g = grads[0], y = getResult();
  RankedTensorType in = rankedOf(x);
  if (getKind() == ReduceKind::Prod)
    return emitOpError("product reductions have no gradient rule (a zero element makes "
                       "`y / x` undefined)");
  SmallVector<int64_t> dims;
  for (int64_t d : getDims())
    dims.push_back(d < 0 ? d + in.getRank() : d);
  if (!getKeepDims()) {
    // Reinsert the reduced dims with size 1 so g broadcasts against x.
    SmallVector<int64_t> spec;
    int64_t removedBefore = 0, inferred = 0;
    for (int64_t i = 0; i < in.getRank(); ++i) {
      if (llvm::is_contained(dims, i)) {
        spec.push_back(1);
        ++removedBefore;
      } else if (in.getDimSize(i) != ShapedType::kDynamic) {
        spec.push_back(in.getDimSize(i));
      } else if (removedBefore == 0) {
        spec.push_back(0);
      } else {
        spec.push_back(-1);
        ++inferred;
      }
    }
    if (inferred > 1)
      return emitOpError("cannot be differentiated: more than one dynamic dimension follows a "
                         "removed one (reduce with keep_dims instead)");
    g = gb.reshape(g, spec);
    y = gb.reshape(y, spec);
  }
  switch (getKind()) {
  case ReduceKind::Sum:
    out.push_back(gb.broadcastLike(g, x));
    break;
  case ReduceKind::Mean:
    out.push_back(gb.broadcastLike(gb.div(g, gb.countOf(x, dims)), x));
    break;
  case ReduceKind::Max:
  case ReduceKind::Min: {
    Value extreme = gb.broadcastLike(y, x), zero = gb.zerosLike(x);
    Value one = gb.add(zero, gb.scalar(x, 1.0));
    Value isExtreme = gb.selectWhere(arith::CmpFPredicate::OEQ, x, extreme, one, zero);
    Value share = gb.div(g, gb.sum(isExtreme, dims, true));
    out.push_back(gb.mul(isExtreme, share));
    break;
  }
  case ReduceKind::Prod:
    break;
  }
  return success();
}

// The values' gradient goes back to the positions they were taken from.
LogicalResult TopKOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                     SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  int64_t last = rankedOf(getInput()).getRank() - 1;
  Value g = gb.orZeros(grads[0], getValues());
  out.push_back(ScatterAddOp::create(b, getLoc(), gb.zerosLike(getInput()), getIndices(), g,
                                     b.getI64IntegerAttr(last), b.getI64IntegerAttr(last)));
  return success();
}
