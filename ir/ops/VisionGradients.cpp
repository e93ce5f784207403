//===- VisionGradients.cpp - rules of the vision tower's ops --------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

// The merged positions take the features' gradient (their rows of g); the
// embeddings keep g elsewhere and zero there.
LogicalResult MergeImageFeaturesOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                                   SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  Value features = getImageFeatures();
  out.push_back(MergeImageFeaturesOp::create(b, getLoc(), grads[0], getIds(),
                                             gb.zerosLike(features), getImageTokenIdAttr()));
  out.push_back(Value());
  out.push_back(MergeImageFeaturesGradOp::create(b, getLoc(), grads[0], getIds(), features,
                                                 getImageTokenIdAttr()));
  return success();
}

// Input (the transposed convolution) and weight gradients are one backward
// op; the bias's is the sum of g over batch and output positions.
LogicalResult Conv2dOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  auto backward = Conv2dGradOp::create(b, getLoc(), getInput(), getWeight(), grads[0],
                                       getStridesAttr(), getPaddingAttr(), getDilationAttr());
  out.append({backward.getGradInput(), backward.getGradWeight()});
  if (getBias())
    out.push_back(gb.sum(grads[0], {0, 2, 3}, false));
  return success();
}
