//===- ElementwiseOps.cpp - broadcasting arithmetic and its folds ---------===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

template <typename OpTy>
static LogicalResult inferBroadcast(std::optional<Location> loc, typename OpTy::Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  OpDiag d(loc, OpTy::getOperationName());
  auto lhs = d.ranked(adaptor.getLhs().getType(), "lhs");
  auto rhs = d.ranked(adaptor.getRhs().getType(), "rhs");
  if (failed(lhs) || failed(rhs) || failed(d.expectSameElementType(*lhs, *rhs, "lhs", "rhs")))
    return failure();
  auto shape = broadcastShapes(lhs->getShape(), rhs->getShape());
  if (!shape)
    return d.error("operand shapes ", formatShape(lhs->getShape()), " and ",
                   formatShape(rhs->getShape()), " do not broadcast");
  types.push_back(RankedTensorType::get(*shape, lhs->getElementType()));
  return success();
}

#define MM_BROADCAST_INFER(OP)                                                                     \
  LogicalResult OP::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,  \
                                     SmallVectorImpl<Type> &types) {                               \
    return inferBroadcast<OP>(loc, adaptor, types);                                                \
  }
MM_BROADCAST_INFER(AddOp)
MM_BROADCAST_INFER(SubOp)
MM_BROADCAST_INFER(MulOp)
MM_BROADCAST_INFER(DivOp)
MM_BROADCAST_INFER(MaxOp)
MM_BROADCAST_INFER(MinOp)
#undef MM_BROADCAST_INFER

/// True if `attr` is a splat constant equal to `value` (0 matches -0 too).
static bool isSplatOf(Attribute attr, int64_t value) {
  auto dense = llvm::dyn_cast_or_null<DenseElementsAttr>(attr);
  if (!dense || !dense.isSplat())
    return false;
  if (llvm::isa<FloatType>(dense.getElementType())) {
    APFloat f = dense.getSplatValue<APFloat>();
    return value == 0 ? f.isZero() : f.isExactlyValue(static_cast<double>(value));
  }
  if (llvm::isa<IntegerType>(dense.getElementType()))
    return dense.getSplatValue<APInt>().getSExtValue() == value;
  return false;
}

/// `x op c` folds to x when c is the identity splat and the op does not
/// broadcast x to a larger shape.
static OpFoldResult foldIdentityOperand(Operation *op, Value keep, Attribute other,
                                        int64_t identity) {
  if (isSplatOf(other, identity) && keep.getType() == op->getResult(0).getType())
    return keep;
  return {};
}

// Adding zero treats -0 and +0 as equal, as graph-level simplifiers do.
OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 0))
    return r;
  return foldIdentityOperand(*this, getRhs(), adaptor.getLhs(), 0);
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 0);
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  if (auto r = foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 1))
    return r;
  return foldIdentityOperand(*this, getRhs(), adaptor.getLhs(), 1);
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  return foldIdentityOperand(*this, getLhs(), adaptor.getRhs(), 1);
}

OpFoldResult NegOp::fold(FoldAdaptor) {
  if (auto inner = getInput().getDefiningOp<NegOp>())
    return inner.getInput();
  return {};
}

OpFoldResult CastOp::fold(FoldAdaptor) {
  if (getInput().getType() == getType())
    return getInput();
  return {};
}
