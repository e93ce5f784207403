//===- GradientBuilder.cpp - building blocks of vector-Jacobian rules -----===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"

using namespace mlir;

namespace mm {

Value GradientBuilder::scalar(Value like, double value) {
  auto type = RankedTensorType::get({}, rankedOf(like).getElementType());
  Attribute element = llvm::isa<FloatType>(type.getElementType())
                          ? Attribute(b.getFloatAttr(type.getElementType(), value))
                          : Attribute(b.getIntegerAttr(type.getElementType(),
                                                       static_cast<int64_t>(value)));
  return arith::ConstantOp::create(b, loc, DenseElementsAttr::get(type, element));
}

Value GradientBuilder::zerosLike(Value like) { return ZerosLikeOp::create(b, loc, like); }

Value GradientBuilder::orZeros(Value grad, Value like) { return grad ? grad : zerosLike(like); }

Value GradientBuilder::add(Value x, Value y) { return AddOp::create(b, loc, x, y); }
Value GradientBuilder::sub(Value x, Value y) { return SubOp::create(b, loc, x, y); }
Value GradientBuilder::mul(Value x, Value y) { return MulOp::create(b, loc, x, y); }
Value GradientBuilder::div(Value x, Value y) { return DivOp::create(b, loc, x, y); }
Value GradientBuilder::neg(Value x) { return NegOp::create(b, loc, x); }
Value GradientBuilder::sigmoid(Value x) { return SigmoidOp::create(b, loc, x); }
Value GradientBuilder::tanh(Value x) { return TanhOp::create(b, loc, x); }
Value GradientBuilder::exp(Value x) { return ExpOp::create(b, loc, x); }
Value GradientBuilder::sqrt(Value x) { return SqrtOp::create(b, loc, x); }

Value GradientBuilder::cast(Value x, Type elementType) {
  if (rankedOf(x).getElementType() == elementType)
    return x;
  return CastOp::create(b, loc, rankedOf(x).clone(elementType), x);
}

Value GradientBuilder::reshape(Value x, ArrayRef<int64_t> spec) {
  return ReshapeOp::create(b, loc, x, b.getDenseI64ArrayAttr(spec));
}

Value GradientBuilder::transpose(Value x, ArrayRef<int64_t> permutation) {
  return TransposeOp::create(b, loc, x, b.getDenseI64ArrayAttr(permutation));
}

Value GradientBuilder::sum(Value x, ArrayRef<int64_t> dims, bool keepDims) {
  if (dims.empty())
    return x;
  return ReduceOp::create(b, loc, ReduceKindAttr::get(b.getContext(), ReduceKind::Sum), x,
                          b.getDenseI64ArrayAttr(dims), keepDims ? b.getUnitAttr() : nullptr);
}

Value GradientBuilder::mean(Value x, ArrayRef<int64_t> dims, bool keepDims) {
  return ReduceOp::create(b, loc, ReduceKindAttr::get(b.getContext(), ReduceKind::Mean), x,
                          b.getDenseI64ArrayAttr(dims), keepDims ? b.getUnitAttr() : nullptr);
}

Value GradientBuilder::sumLeading(Value x, int64_t keep) {
  SmallVector<int64_t> dims;
  for (int64_t i = 0; i + keep < rankedOf(x).getRank(); ++i)
    dims.push_back(i);
  return sum(x, dims, /*keepDims=*/false);
}

Value GradientBuilder::matmul(Value x, Value y, bool transposeA, bool transposeB) {
  return MatmulOp::create(b, loc, x, y, transposeA ? b.getUnitAttr() : nullptr,
                          transposeB ? b.getUnitAttr() : nullptr);
}

Value GradientBuilder::selectWhere(arith::CmpFPredicate pred, Value x, Value y, Value onTrue,
                                   Value onFalse) {
  Value cond = arith::CmpFOp::create(b, loc, pred, x, y);
  return arith::SelectOp::create(b, loc, cond, onTrue, onFalse);
}

Value GradientBuilder::broadcastLike(Value x, Value like) {
  if (x.getType() == like.getType())
    return x;
  return add(x, zerosLike(like));
}

Value GradientBuilder::sumToShape(Value grad, Value operand) {
  RankedTensorType g = rankedOf(grad), o = rankedOf(operand);
  int64_t lead = g.getRank() - o.getRank();
  SmallVector<int64_t> stretched, leading;
  for (int64_t i = 0; i < o.getRank(); ++i)
    if (o.getDimSize(i) == 1 && g.getDimSize(lead + i) != 1)
      stretched.push_back(lead + i);
  for (int64_t i = 0; i < lead; ++i)
    leading.push_back(i);
  Value reduced = sum(sum(grad, stretched, /*keepDims=*/true), leading, /*keepDims=*/false);
  return matchType(reduced, o);
}

Value GradientBuilder::matchType(Value x, Type type) {
  auto want = llvm::cast<RankedTensorType>(type);
  RankedTensorType have = rankedOf(x);
  if (have.getShape() == want.getShape() || have.getRank() != want.getRank())
    return x;
  bool moreStatic = false;
  for (auto [h, w] : llvm::zip(have.getShape(), want.getShape()))
    moreStatic |= h == ShapedType::kDynamic && w != ShapedType::kDynamic;
  if (!moreStatic)
    return x;
  SmallVector<int64_t> spec;
  for (int64_t w : want.getShape())
    spec.push_back(w == ShapedType::kDynamic ? 0 : w);
  return reshape(x, spec);
}

Value GradientBuilder::countOf(Value x, ArrayRef<int64_t> dims) {
  RankedTensorType t = rankedOf(x);
  double count = 1;
  bool dynamic = false;
  for (int64_t d : dims) {
    int64_t size = t.getDimSize(d < 0 ? d + t.getRank() : d);
    dynamic |= size == ShapedType::kDynamic;
    count *= static_cast<double>(size);
  }
  if (!dynamic)
    return scalar(x, count);
  // Every element of the kept-dims sum of ones is the count.
  return sum(add(zerosLike(x), scalar(x, 1.0)), dims, /*keepDims=*/true);
}

} // namespace mm
