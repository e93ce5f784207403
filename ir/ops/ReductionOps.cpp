//===- ReductionOps.cpp - softmax, reduce, top-k, argmax ------------------===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

template <typename OpTy> static LogicalResult verifySoftmaxDim(OpTy op) {
  int64_t dim = static_cast<int64_t>(op.getDim());
  if (!normalizeDim(dim, op.getType().getRank()))
    return op.emitOpError("dim ") << dim << " is out of range for " << op.getType();
  return success();
}

LogicalResult SoftmaxOp::verify() { return verifySoftmaxDim(*this); }
LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxDim(*this); }

LogicalResult ReduceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  if (failed(x))
    return failure();
  int64_t rank = x->getRank();
  llvm::SmallBitVector reduced(rank);
  for (int64_t dim : adaptor.getDims()) {
    auto n = normalizeDim(dim, rank);
    if (!n)
      return d.error("dim ", dim, " is out of range for rank ", rank);
    if (reduced.test(*n))
      return d.error("dim ", dim, " is listed twice");
    reduced.set(*n);
  }
  if (adaptor.getDims().empty())
    return d.error("dims must not be empty");
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced.test(i))
      shape.push_back(x->getDimSize(i));
    else if (adaptor.getKeepDims())
      shape.push_back(1);
  }
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                       Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  if (failed(x))
    return failure();
  if (x->getRank() < 1)
    return d.error("input must have at least one dimension");
  int64_t k = static_cast<int64_t>(adaptor.getK());
  int64_t n = x->getShape().back();
  if (k < 1)
    return d.error("k must be positive, got ", k);
  if (n != kDynamic && k > n)
    return d.error("k ", k, " exceeds the last dimension ", n);
  SmallVector<int64_t> shape(x->getShape());
  shape.back() = k;
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  types.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  if (failed(x))
    return failure();
  auto n = d.dimIndex(static_cast<int64_t>(adaptor.getDim()), *x);
  if (failed(n))
    return failure();
  if (x->getDimSize(*n) == 0)
    return d.error("argmax over an empty dimension");
  SmallVector<int64_t> shape(x->getShape());
  if (adaptor.getKeepDims())
    shape[*n] = 1;
  else
    shape.erase(shape.begin() + *n);
  types.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}
