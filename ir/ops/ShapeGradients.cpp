//===- ShapeGradients.cpp - rules of data-movement ops --------------------===//
//
// Data movement is linear: each rule moves the gradient back to where the
// forward op took its elements from (and sums where it took one element
// several times).
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

static constexpr int64_t kDynamic = ShapedType::kDynamic;

// Reshape back. A dynamic operand dim is copied (0) where the forward shape
// copied it; at most one other dynamic dim is inferred (-1).
LogicalResult ReshapeOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                        SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  RankedTensorType in = rankedOf(getInput());
  ArrayRef<int64_t> forward = getShape();
  SmallVector<int64_t> spec;
  int inferred = 0;
  for (int64_t i = 0; i < in.getRank(); ++i) {
    if (in.getDimSize(i) != kDynamic)
      spec.push_back(in.getDimSize(i));
    else if (i < static_cast<int64_t>(forward.size()) && forward[i] == 0)
      spec.push_back(0);
    else {
      spec.push_back(-1);
      ++inferred;
    }
  }
  if (inferred > 1)
    return emitOpError("cannot be differentiated: its input ")
           << in << " has more than one dynamic dimension that the shape does not copy (0)";
  out.push_back(gb.matchType(gb.reshape(grads[0], spec), in));
  return success();
}

LogicalResult TransposeOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                          SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = static_cast<int64_t>(i);
  out.push_back(gb.transpose(grads[0], inverse));
  return success();
}

static Value sliceOf(OpBuilder &b, Location loc, Value x, int64_t dim, int64_t start,
                     std::optional<int64_t> end) {
  return SliceOp::create(b, loc, x, b.getI64IntegerAttr(dim), b.getI64IntegerAttr(start),
                         end ? b.getI64IntegerAttr(*end) : IntegerAttr(), b.getI64IntegerAttr(1));
}

// Each input's gradient is its slice of g; the offsets must be static (all
// but the last input have a static size along dim).
LogicalResult ConcatOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  int64_t rank = rankedOf(getResult()).getRank();
  int64_t dim = getDim() < 0 ? getDim() + rank : getDim();
  int64_t offset = 0;
  for (auto [i, input] : llvm::enumerate(getInputs())) {
    bool last = i + 1 == getInputs().size();
    int64_t size = rankedOf(input).getDimSize(dim);
    if (!last && size == kDynamic)
      return emitOpError("cannot be differentiated: input ")
             << i << " has a dynamic size along the concatenated dimension";
    std::optional<int64_t> end;
    if (!last)
      end = offset + size;
    out.push_back(sliceOf(b, getLoc(), grads[0], dim, offset, end));
    offset += last ? 0 : size;
  }
  return success();
}

// The gradient is g placed into zeros: [zeros before start, g, zeros after end].
LogicalResult SliceOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                      SmallVectorImpl<Value> &out) {
  if (getStep() != 1)
    return emitOpError("cannot be differentiated with step ")
           << getStep() << " yet: only contiguous slices (step 1) have a gradient rule";
  GradientBuilder gb(b, getLoc());
  Value x = getInput();
  int64_t rank = rankedOf(x).getRank();
  int64_t dim = getDim() < 0 ? getDim() + rank : getDim();
  Value zeros = gb.zerosLike(x);
  SmallVector<Value> parts;
  if (getStart() != 0)
    parts.push_back(sliceOf(b, getLoc(), zeros, dim, 0, getStart()));
  parts.push_back(grads[0]);
  if (getEnd())
    parts.push_back(sliceOf(b, getLoc(), zeros, dim, *getEnd(), std::nullopt));
  Value full = parts.size() == 1 ? parts[0]
                                 : ConcatOp::create(b, getLoc(), parts, b.getI64IntegerAttr(dim));
  out.push_back(gb.matchType(full, x.getType()));
  return success();
}

// Scatter-add the gradient rows back to the indices they were taken from.
LogicalResult GatherOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                       SmallVectorImpl<Value> &out) {
  GradientBuilder gb(b, getLoc());
  RankedTensorType in = rankedOf(getInput()), idx = rankedOf(getIndices());
  int64_t batch = getBatchDims();
  int64_t dim = getDim() < 0 ? getDim() + in.getRank() : getDim();
  Value indices = getIndices(), updates = grads[0];
  if (idx.getRank() != batch + 1) {
    SmallVector<int64_t> indexSpec(batch, 0), updateSpec(dim, 0);
    indexSpec.push_back(-1);
    updateSpec.push_back(-1);
    for (int64_t i = dim + 1; i < in.getRank(); ++i) {
      if (in.getDimSize(i) == kDynamic)
        return emitOpError("cannot be differentiated: a dynamic dimension after `dim` with "
                           "multi-dimensional indices");
      updateSpec.push_back(in.getDimSize(i));
    }
    indices = gb.reshape(indices, indexSpec);
    updates = gb.reshape(updates, updateSpec);
  }
  out.push_back(ScatterAddOp::create(b, getLoc(), gb.zerosLike(getInput()), indices, updates,
                                     b.getI64IntegerAttr(dim), b.getI64IntegerAttr(batch)));
  out.push_back(Value());
  return success();
}

// dest passes g through; each update reads g where it was added.
LogicalResult ScatterAddOp::buildGradients(OpBuilder &b, ArrayRef<Value> grads,
                                           SmallVectorImpl<Value> &out) {
  out.push_back(grads[0]);
  out.push_back(Value());
  out.push_back(GatherOp::create(b, getLoc(), grads[0], getIndices(),
                                 b.getI64IntegerAttr(getDim()),
                                 b.getI64IntegerAttr(getBatchDims())));
  return success();
}
