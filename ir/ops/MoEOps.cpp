//===- MoEOps.cpp - router, dispatch, grouped matmul, combine -------------===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

static Type i64Tensor(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  return RankedTensorType::get(shape, IntegerType::get(ctx, 64));
}

LogicalResult MoeRouterOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto logits = d.ranked(adaptor.getLogits().getType(), "logits");
  if (failed(logits) || failed(d.expectRank(*logits, 2, "logits")))
    return failure();
  int64_t k = static_cast<int64_t>(adaptor.getTopK());
  int64_t experts = logits->getDimSize(1);
  if (k < 1)
    return d.error("top_k must be positive, got ", k);
  if (experts != kDynamic && k > experts)
    return d.error("top_k ", k, " exceeds the number of experts ", experts);
  int64_t tokens = logits->getDimSize(0);
  types.push_back(RankedTensorType::get({tokens, k}, Float32Type::get(ctx)));
  types.push_back(i64Tensor(ctx, {tokens, k}));
  return success();
}

LogicalResult MoeDispatchOp::inferReturnTypes(MLIRContext *ctx,
                                              std::optional<Location> loc,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto idx = d.ranked(adaptor.getExpertIndices().getType(), "expert_indices");
  if (failed(x) || failed(idx) || failed(d.expectRank(*x, 2, "input")) ||
      failed(d.expectRank(*idx, 2, "expert_indices")))
    return failure();
  if (!compatible(x->getDimSize(0), idx->getDimSize(0)))
    return d.error("input has ", x->getDimSize(0),
                   " tokens but expert_indices has ", idx->getDimSize(0));
  int64_t experts = static_cast<int64_t>(adaptor.getNumExperts());
  if (experts < 1)
    return d.error("num_experts must be positive, got ", experts);
  if (experts == std::numeric_limits<int64_t>::max())
    return d.error("num_experts is too large");
  int64_t tokens = refine(x->getDimSize(0), idx->getDimSize(0));
  auto rows = mulSizes(tokens, idx->getDimSize(1));
  if (!rows)
    return d.error("tokens * k overflows");
  types.push_back(RankedTensorType::get({*rows, x->getDimSize(1)},
                                        x->getElementType()));
  types.push_back(i64Tensor(ctx, {experts + 1}));
  types.push_back(i64Tensor(ctx, {*rows}));
  return success();
}

LogicalResult GroupedMatmulOp::inferReturnTypes(MLIRContext *,
                                                std::optional<Location> loc,
                                                Adaptor adaptor,
                                                SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  auto off = d.ranked(adaptor.getGroupOffsets().getType(), "group_offsets");
  if (failed(x) || failed(w) || failed(off) ||
      failed(d.expectRank(*x, 2, "input")) ||
      failed(d.expectRank(*w, 3, "weight")) ||
      failed(d.expectRank(*off, 1, "group_offsets")) ||
      failed(d.expectSameElementType(*x, *w, "input", "weight")))
    return failure();
  if (!compatible(x->getDimSize(1), w->getDimSize(2)))
    return d.error("input has ", x->getDimSize(1),
                   " features but weight [experts, out, in] expects ",
                   w->getDimSize(2));
  int64_t experts = w->getDimSize(0);
  if (experts != kDynamic && !compatible(off->getDimSize(0), experts + 1))
    return d.error("group_offsets must have experts + 1 = ", experts + 1,
                   " entries, got ", off->getDimSize(0));
  types.push_back(RankedTensorType::get({x->getDimSize(0), w->getDimSize(1)},
                                        x->getElementType()));
  return success();
}

LogicalResult MoeCombineOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location> loc,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto y = d.ranked(adaptor.getExpertOutput().getType(), "expert_output");
  auto order = d.ranked(adaptor.getTokenOrder().getType(), "token_order");
  auto w = d.ranked(adaptor.getWeights().getType(), "weights");
  if (failed(y) || failed(order) || failed(w) ||
      failed(d.expectRank(*y, 2, "expert_output")) ||
      failed(d.expectRank(*order, 1, "token_order")) ||
      failed(d.expectRank(*w, 2, "weights")))
    return failure();
  auto slots = mulSizes(w->getDimSize(0), w->getDimSize(1));
  if (!slots)
    return d.error("weights size overflows");
  if (!compatible(y->getDimSize(0), *slots) ||
      !compatible(order->getDimSize(0), *slots))
    return d.error("expert_output and token_order need tokens * k = ",
                   formatShape({*slots}), " rows, got ", y->getDimSize(0),
                   " and ", order->getDimSize(0));
  types.push_back(RankedTensorType::get({w->getDimSize(0), y->getDimSize(1)},
                                        y->getElementType()));
  return success();
}
