//===- RecsysGradients.cpp - rules of pooling, target attention, interactions ===//
//
// The AMER building blocks, written as formulas of mm ops. Masks select
// positions (only whether they are non-zero matters), so they get no gradient.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

using Pred = arith::CmpFPredicate;

/// 1 where `mask` is non-zero, else 0 (mask's type).
static Value indicator(GradientBuilder &gb, Value mask) {
  Value zero = gb.zerosLike(mask);
  return gb.selectWhere(Pred::UNE, mask, zero, gb.add(zero, gb.scalar(mask, 1.0)), zero);
}

// sum: g at every counted position; mean: divided by the count; max: shared
// by the counted positions equal to the maximum.
LogicalResult PoolOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                     SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value x = getInput();
  RankedTensorType in = rankedOf(x);
  int64_t rank = in.getRank(), dim = getDim() < 0 ? getDim() + rank : getDim();
  // g and the result with the pooled dim back as size 1.
  SmallVector<int64_t> spec;
  int inferred = 0;
  for (int64_t i = 0; i < rank; ++i) {
    if (i < dim)
      spec.push_back(0);
    else if (i == dim)
      spec.push_back(1);
    else if (in.getDimSize(i) != ShapedType::kDynamic)
      spec.push_back(in.getDimSize(i));
    else {
      spec.push_back(-1);
      ++inferred;
    }
  }
  if (inferred > 1)
    return emitOpError("cannot be differentiated: more than one dynamic dimension after the "
                       "pooled one");
  Value g = gb.reshape(grads[0], spec);
  // The counted positions, broadcastable against x.
  Value counted;
  if (getMask()) {
    SmallVector<int64_t> maskSpec(dim + 1, 0);
    maskSpec.append(rank - dim - 1, 1);
    counted = gb.broadcastLike(gb.reshape(indicator(gb, getMask()), maskSpec), x);
  } else {
    counted = gb.add(gb.zerosLike(x), gb.scalar(x, 1.0));
  }
  Value one = gb.scalar(x, 1.0);
  switch (getKind()) {
  case PoolKind::Sum:
    out.push_back(gb.mul(gb.broadcastLike(g, x), counted));
    break;
  case PoolKind::Mean: {
    Value count = MaxOp::create(b, getLoc(), gb.sum(counted, {dim}, true), one);
    out.push_back(gb.mul(gb.broadcastLike(gb.div(g, count), x), counted));
    break;
  }
  case PoolKind::Max: {
    Value extreme = gb.broadcastLike(gb.reshape(getResult(), spec), x);
    Value isMax = gb.selectWhere(Pred::OEQ, x, extreme, counted, gb.zerosLike(x));
    Value ties = MaxOp::create(b, getLoc(), gb.sum(isMax, {dim}, true), one);
    out.push_back(gb.mul(isMax, gb.broadcastLike(gb.div(g, ties), x)));
    break;
  }
  }
  if (getMask())
    out.push_back(Value());
  return success();
}

// out = sum_t w_t seq_t with w = masked softmax(scale seq_t . target):
//   d seq_t = w_t g + ds_t scale target,  d target = scale sum_t ds_t seq_t,
//   ds_t = w_t (g . seq_t - sum_u w_u (g . seq_u)).
// The weights are recomputed; masked positions get -1e30 before the maximum.
LogicalResult TargetAttentionOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                                SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value seq = getSequence(), target = getTarget(), g = grads[0];
  int64_t dim = rankedOf(seq).getDimSize(2);
  if (!getScale() && dim == ShapedType::kDynamic)
    return emitOpError("cannot be differentiated with a dynamic dim and the default scale");
  double scale = getScale() ? getScale()->convertToDouble() : 1.0 / std::sqrt(double(dim));
  Value target3 = gb.reshape(target, {0, 1, dim}), g3 = gb.reshape(g, {0, 1, dim});
  Value scores = gb.mul(gb.sum(gb.mul(seq, target3), {-1}, false), gb.scalar(seq, scale));
  Value counted;
  if (getMask()) {
    counted = indicator(gb, getMask());
    scores = gb.add(scores, gb.mul(gb.sub(counted, gb.scalar(seq, 1.0)), gb.scalar(seq, 1e30)));
  }
  Value shifted = gb.sub(scores, ReduceOp::create(b, getLoc(),
                                                  ReduceKindAttr::get(b.getContext(),
                                                                      ReduceKind::Max),
                                                  scores, b.getDenseI64ArrayAttr({-1}),
                                                  b.getUnitAttr()));
  Value e = gb.exp(shifted);
  if (counted)
    e = gb.mul(e, counted);
  Value denominator = MaxOp::create(b, getLoc(), gb.sum(e, {-1}, true), gb.scalar(seq, 1e-30));
  Value w = gb.div(e, denominator);
  Value dw = gb.sum(gb.mul(seq, g3), {-1}, false);
  Value ds = gb.mul(w, gb.sub(dw, gb.sum(gb.mul(w, dw), {-1}, true)));
  Value ds3 = gb.reshape(gb.mul(ds, gb.scalar(seq, scale)), {0, 0, 1});
  out.push_back(gb.add(gb.mul(gb.reshape(w, {0, 0, 1}), g3), gb.mul(ds3, target3)));
  out.push_back(gb.sum(gb.mul(ds3, seq), {1}, false));
  if (getMask())
    out.push_back(Value());
  return success();
}

// Row g = prod_{f in group g} fields[f]: field f receives, from every group
// holding it, the group's gradient times the group's other fields.
LogicalResult HadamardInteractionOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                                    SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value fields = getFields(), g = grads[0];
  int64_t numFields = rankedOf(fields).getDimSize(1);
  if (numFields == ShapedType::kDynamic)
    return emitOpError("cannot be differentiated with a dynamic number of fields");
  auto row = [&](Value from, int64_t i) -> Value {
    return SliceOp::create(b, getLoc(), from, b.getI64IntegerAttr(1), b.getI64IntegerAttr(i),
                           b.getI64IntegerAttr(i + 1), b.getI64IntegerAttr(1));
  };
  SmallVector<Value> perField(numFields);
  for (auto [gi, attr] : llvm::enumerate(getGroups())) {
    ArrayRef<int64_t> group = llvm::cast<DenseI64ArrayAttr>(attr).asArrayRef();
    for (int64_t f : group) {
      Value term = row(g, static_cast<int64_t>(gi));
      for (int64_t other : group)
        if (other != f)
          term = gb.mul(term, row(fields, other));
      perField[f] = perField[f] ? gb.add(perField[f], term) : term;
    }
  }
  Value zeros = gb.zerosLike(fields);
  for (int64_t f = 0; f < numFields; ++f)
    if (!perField[f])
      perField[f] = row(zeros, f);
  out.push_back(gb.matchType(ConcatOp::create(b, getLoc(), perField, b.getI64IntegerAttr(1)),
                             fields.getType()));
  return success();
}

// The input and weight gradients are a kernel of their own (mm.conv1d_grad);
// the bias's is the sum of g over batch and positions.
LogicalResult Conv1dOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  auto backward = Conv1dGradOp::create(b, getLoc(), getInput(), getWeight(), grads[0],
                                       getStrideAttr(), getDilationAttr(), getPaddingAttr());
  out.append({backward.getGradInput(), backward.getGradWeight()});
  if (getBias())
    out.push_back(gb.sum(grads[0], {0, 1}, false));
  return success();
}

// Backpropagation through time in one op (mm.gru_grad); an absent initial
// state is zeros and gets no gradient.
LogicalResult GruOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                    SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value sequence = getSequence(), last = getLastState();
  Value h0 = getInitialState() ? getInitialState() : gb.zerosLike(last);
  auto grad = GruGradOp::create(b, getLoc(), getInput(), getWeightIh(), getWeightHh(),
                                getBiasIh(), getBiasHh(), h0, sequence,
                                gb.orZeros(grads[0], sequence), gb.orZeros(grads[1], last));
  for (unsigned i = 0; i < 5; ++i)
    out.push_back(grad->getResult(i));
  if (getInitialState())
    out.push_back(grad.getGradInitialState());
  return success();
}
