//===- AttentionGradients.cpp - rules of RoPE and the attentions ----------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

// A rotation's transpose is the rotation by the opposite angle: RoPE at -p.
LogicalResult RopeOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                     SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value negated = gb.sub(gb.zerosLike(getPositions()), getPositions());
  out.push_back(RopeOp::create(b, getLoc(), grads[0], negated, getRotaryDimAttr(), getThetaAttr()));
  out.push_back(Value());
  return success();
}

// Flash-style backward that recomputes the probabilities (mm.attention_grad).
LogicalResult AttentionOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                          SmallVectorImpl<Value> &out) {
  if (hasCache())
    return emitOpError("with a KV cache cannot be differentiated: training attends without "
                       "a cache");
  auto backward =
      AttentionGradOp::create(b, getLoc(), getQuery(), getKey(), getValue(), getOutput(), grads[0],
                              getQueryStart(), getKeyMask(), getCausalAttr(), getScaleAttr());
  out.append({backward.getGradQuery(), backward.getGradKey(), backward.getGradValue()});
  if (getQueryStart()) // (an integer position: no gradient)
    out.push_back(Value());
  if (getKeyMask()) // (a 0/1 selection: no gradient)
    out.push_back(Value());
  return success();
}

// Block-wise backward carrying the state gradient (mm.lightning_attention_grad).
LogicalResult LightningAttentionOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                                   SmallVectorImpl<Value> &out) {
  // A rank's block of the heads (head_index) keeps its heads' slopes.
  GradientBuilder gb(b, getLoc());
  Value gOut = gb.orZeros(grads[0], getOutput());
  Value gState = gb.orZeros(grads[1], getFinalState());
  auto backward = LightningAttentionGradOp::create(
      b, getLoc(), getQuery(), getKey(), getValue(), gOut, gState, getInitialState(),
      getLengths(), getHeadIndex(), getLayerIndexAttr(), getNumLayersAttr(), getBlockSizeAttr(),
      getTotalHeadsAttr());
  out.append({backward.getGradQuery(), backward.getGradKey(), backward.getGradValue()});
  if (getInitialState())
    out.push_back(backward.getGradInitialState());
  for (Value integer : {getLengths(), getHeadIndex()})
    if (integer)
      out.push_back(Value());
  return success();
}
