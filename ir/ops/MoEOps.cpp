//===- MoEOps.cpp - router, dispatch, grouped matmul, combine -------------===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

static Type i64Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, IntegerType::get(ctx, 64));
}

/// [lead..., last] -> [lead..., size].
static SmallVector<int64_t> withLast(ArrayRef<int64_t> shape, int64_t size) {
  SmallVector<int64_t> out(shape.drop_back());
  out.push_back(size);
  return out;
}

LogicalResult MoeRouterOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto logits = d.ranked(adaptor.getLogits().getType(), "logits");
  if (failed(logits))
    return failure();
  if (logits->getRank() < 1)
    return d.error("logits must have an expert dimension");
  int64_t k = static_cast<int64_t>(adaptor.getTopK());
  int64_t experts = logits->getShape().back();
  if (k < 1)
    return d.error("top_k must be positive, got ", k);
  if (experts != kDynamic && k > experts)
    return d.error("top_k ", k, " exceeds the number of experts ", experts);
  SmallVector<int64_t> shape = withLast(logits->getShape(), k);
  types.push_back(RankedTensorType::get(shape, Float32Type::get(ctx)));
  types.push_back(i64Tensor(ctx, shape));
  return success();
}

LogicalResult MoeDispatchOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                              Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto idx = d.ranked(adaptor.getExpertIndices().getType(), "expert_indices");
  if (failed(x) || failed(idx))
    return failure();
  if (x->getRank() < 1 || x->getRank() != idx->getRank())
    return d.error("input [..., dim] and expert_indices [..., k] must have the "
                   "same rank >= 1, got ",
                   *x, " and ", *idx);
  ArrayRef<int64_t> lead = x->getShape().drop_back();
  if (failed(verifyCompatibleShape(lead, idx->getShape().drop_back())))
    return d.error("input tokens ", formatShape(lead), " differ from expert_indices tokens ",
                   formatShape(idx->getShape().drop_back()));
  int64_t experts = static_cast<int64_t>(adaptor.getNumExperts());
  if (experts < 1)
    return d.error("num_experts must be positive, got ", experts);
  if (experts == std::numeric_limits<int64_t>::max())
    return d.error("num_experts is too large");
  auto tokens = numElements(lead);
  auto rows = tokens ? mulSizes(*tokens, idx->getShape().back()) : std::nullopt;
  if (!rows)
    return d.error("tokens * k overflows");
  types.push_back(RankedTensorType::get({*rows, x->getShape().back()}, x->getElementType()));
  types.push_back(i64Tensor(ctx, {experts + 1}));
  types.push_back(i64Tensor(ctx, {*rows}));
  return success();
}

LogicalResult GroupedMatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  auto off = d.ranked(adaptor.getGroupOffsets().getType(), "group_offsets");
  if (failed(x) || failed(w) || failed(off) || failed(d.expectRank(*x, 2, "input")) ||
      failed(d.expectRank(*w, 3, "weight")) || failed(d.expectRank(*off, 1, "group_offsets")) ||
      failed(d.expectSameElementType(*x, *w, "input", "weight")))
    return failure();
  if (!compatible(x->getDimSize(1), w->getDimSize(2)))
    return d.error("input has ", x->getDimSize(1),
                   " features but weight [experts, out, in] expects ", w->getDimSize(2));
  int64_t experts = w->getDimSize(0);
  if (experts != kDynamic && !compatible(off->getDimSize(0), experts + 1))
    return d.error("group_offsets must have experts + 1 = ", experts + 1, " entries, got ",
                   off->getDimSize(0));
  types.push_back(RankedTensorType::get({x->getDimSize(0), w->getDimSize(1)}, x->getElementType()));
  return success();
}

LogicalResult MoeCombineOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto y = d.ranked(adaptor.getExpertOutput().getType(), "expert_output");
  auto order = d.ranked(adaptor.getTokenOrder().getType(), "token_order");
  auto w = d.ranked(adaptor.getWeights().getType(), "weights");
  if (failed(y) || failed(order) || failed(w) || failed(d.expectRank(*y, 2, "expert_output")) ||
      failed(d.expectRank(*order, 1, "token_order")))
    return failure();
  if (w->getRank() < 1)
    return d.error("weights must be [..., k]");
  auto slots = numElements(w->getShape());
  if (!slots)
    return d.error("weights size overflows");
  if (!compatible(y->getDimSize(0), *slots) || !compatible(order->getDimSize(0), *slots))
    return d.error("expert_output and token_order need tokens * k = ", formatShape({*slots}),
                   " rows, got ", y->getDimSize(0), " and ", order->getDimSize(0));
  types.push_back(
      RankedTensorType::get(withLast(w->getShape(), y->getDimSize(1)), y->getElementType()));
  return success();
}
