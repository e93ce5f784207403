//===- GradientOps.cpp - shape functions of the backward ops --------------===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"
#include "runtime/LightningDecay.h"

#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

/// Fails unless `b` can have `a`'s shape and element type.
static LogicalResult expectLike(const OpDiag &d, RankedTensorType a, RankedTensorType b,
                                StringRef whatA, StringRef whatB) {
  if (a.getElementType() != b.getElementType() || failed(verifyCompatibleShape(a, b)))
    return d.error(whatB, " ", b, " must have the type of ", whatA, " ", a);
  return success();
}

LogicalResult AttentionGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto q = d.ranked(adaptor.getQuery().getType(), "query");
  auto k = d.ranked(adaptor.getKey().getType(), "key");
  auto v = d.ranked(adaptor.getValue().getType(), "value");
  auto o = d.ranked(adaptor.getOutput().getType(), "output");
  auto g = d.ranked(adaptor.getGradOutput().getType(), "grad_output");
  if (failed(q) || failed(k) || failed(v) || failed(o) || failed(g) ||
      failed(d.expectRank(*q, 4, "query")) || failed(d.expectRank(*k, 4, "key")) ||
      failed(d.expectRank(*v, 4, "value")) || failed(expectLike(d, *o, *g, "output", "grad_output")))
    return failure();
  int64_t qh = q->getDimSize(2), kh = k->getDimSize(2);
  if (qh != kDynamic && kh != kDynamic && (kh == 0 || qh % kh != 0))
    return d.error("query heads ", qh, " must be a multiple of key heads ", kh);
  if (!compatible(q->getDimSize(3), k->getDimSize(3)))
    return d.error("query and key head dims differ: ", *q, " and ", *k);
  if (o->getRank() != 4 || !compatible(o->getDimSize(3), v->getDimSize(3)))
    return d.error("output ", *o, " must be [batch, q_len, q_heads, v_dim] for value ", *v);
  if (failed(checkCausalLengths(d, adaptor.getQueryStart(), bool(adaptor.getCausal()),
                                q->getDimSize(1), k->getDimSize(1))) ||
      failed(checkKeyMask(d, adaptor.getKeyMask(), q->getDimSize(0), k->getDimSize(1))))
    return failure();
  types.append({*q, *k, *v});
  return success();
}

LogicalResult LightningAttentionGradOp::inferReturnTypes(MLIRContext *,
                                                         std::optional<Location> loc,
                                                         Adaptor adaptor,
                                                         SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto q = d.ranked(adaptor.getQuery().getType(), "query");
  auto k = d.ranked(adaptor.getKey().getType(), "key");
  auto v = d.ranked(adaptor.getValue().getType(), "value");
  auto g = d.ranked(adaptor.getGradOutput().getType(), "grad_output");
  auto ds = d.ranked(adaptor.getGradFinalState().getType(), "grad_final_state");
  if (failed(q) || failed(k) || failed(v) || failed(g) || failed(ds) ||
      failed(d.expectRank(*q, 4, "query")) || failed(expectLike(d, *q, *k, "query", "key")) ||
      failed(d.expectRank(*v, 4, "value")) ||
      failed(expectLike(d, *v, *g, "value", "grad_output")) ||
      failed(d.expectRank(*ds, 4, "grad_final_state")))
    return failure();
  if (adaptor.getInitialState()) {
    auto s0 = d.ranked(adaptor.getInitialState().getType(), "initial_state");
    if (failed(s0) || failed(expectLike(d, *ds, *s0, "grad_final_state", "initial_state")))
      return failure();
  }
  if (failed(checkHeadIndex(d, adaptor.getHeadIndex(), adaptor.getTotalHeads(), q->getDimSize(2))))
    return failure();
  if (adaptor.getBlockSize() <= 0)
    return d.error("block_size must be positive, got ", adaptor.getBlockSize());
  if (adaptor.getNumLayers() <= 0 || adaptor.getLayerIndex() < 0 ||
      adaptor.getLayerIndex() >= adaptor.getNumLayers())
    return d.error("layer_index ", adaptor.getLayerIndex(), " must be in [0, num_layers = ",
                   adaptor.getNumLayers(), ")");
  types.append({*q, *k, *v, *ds});
  return success();
}

int64_t LightningAttentionGradOp::getSlopeHeads() {
  if (std::optional<uint64_t> total = getTotalHeads())
    return static_cast<int64_t>(*total);
  return getQuery().getType().getDimSize(2);
}

SmallVector<double> LightningAttentionGradOp::getDecaySlopes() {
  return lightningSlopesOf(getSlopeHeads(), getLayerIndex(), getNumLayers());
}

LogicalResult GroupedMatmulWeightGradOp::inferReturnTypes(MLIRContext *,
                                                          std::optional<Location> loc,
                                                          Adaptor adaptor,
                                                          SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto g = d.ranked(adaptor.getGradOutput().getType(), "grad_output");
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto off = d.ranked(adaptor.getGroupOffsets().getType(), "group_offsets");
  if (failed(g) || failed(x) || failed(off) || failed(d.expectRank(*g, 2, "grad_output")) ||
      failed(d.expectRank(*x, 2, "input")) || failed(d.expectRank(*off, 1, "group_offsets")) ||
      failed(d.expectSameElementType(*g, *x, "grad_output", "input")))
    return failure();
  if (off->getDimSize(0) == kDynamic || off->getDimSize(0) < 2)
    return d.error("group_offsets must have a static size experts + 1 >= 2, got ", *off);
  if (!compatible(g->getDimSize(0), x->getDimSize(0)))
    return d.error("grad_output ", *g, " and input ", *x, " must have the same rows");
  types.push_back(RankedTensorType::get(
      {off->getDimSize(0) - 1, g->getDimSize(1), x->getDimSize(1)}, x->getElementType()));
  return success();
}

LogicalResult CrossEntropyGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                   Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto logits = d.ranked(adaptor.getLogits().getType(), "logits");
  auto labels = d.ranked(adaptor.getLabels().getType(), "labels");
  auto g = d.ranked(adaptor.getGradLoss().getType(), "grad_loss");
  if (failed(logits) || failed(labels) || failed(g))
    return failure();
  if (logits->getRank() < 1 ||
      failed(verifyCompatibleShape(logits->getShape().drop_back(), labels->getShape())))
    return d.error("labels ", *labels, " must be the shape of logits ", *logits,
                   " without its class dim");
  bool perPosition = adaptor.getReduction() == LossReduction::None;
  if (perPosition ? failed(verifyCompatibleShape(g->getShape(), labels->getShape()))
                  : g->getRank() != 0)
    return d.error("grad_loss ", *g, perPosition ? " must have the labels' shape"
                                                 : " must be a scalar for sum and mean");
  types.push_back(*logits);
  return success();
}

/// The convolution gradients return the input's and the weight's types; the
/// forward op's shape function already checked the pair.
template <typename Adaptor>
static LogicalResult convGradTypes(const OpDiag &d, Adaptor adaptor, int64_t rank,
                                   SmallVectorImpl<Type> &types) {
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  auto g = d.ranked(adaptor.getGradOutput().getType(), "grad_output");
  if (failed(x) || failed(w) || failed(g) || failed(d.expectRank(*x, rank, "input")) ||
      failed(d.expectRank(*w, rank, "weight")) || failed(d.expectRank(*g, rank, "grad_output")) ||
      failed(d.expectSameElementType(*x, *w, "input", "weight")))
    return failure();
  types.append({*x, *w});
  return success();
}

LogicalResult Conv2dGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return convGradTypes(OpDiag(loc, getOperationName()), adaptor, 4, types);
}

LogicalResult Conv1dGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  return convGradTypes(OpDiag(loc, getOperationName()), adaptor, 3, types);
}

// The gradients take their operands' types; the sequence and its gradient
// must be the forward's [batch, seq, hidden].
LogicalResult GruGradOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  SmallVector<RankedTensorType> ts;
  const char *names[] = {"input",         "weight_ih", "weight_hh",     "bias_ih",  "bias_hh",
                         "initial_state", "sequence",  "grad_sequence", "grad_last"};
  for (auto [v, name] : llvm::zip(adaptor.getOperands(), names)) {
    auto t = d.ranked(v.getType(), name);
    if (failed(t))
      return failure();
    ts.push_back(*t);
  }
  if (failed(verifyCompatibleShape(ts[6], ts[7])))
    return d.error("grad_sequence ", ts[7], " must have the sequence's shape ", ts[6]);
  if (failed(verifyCompatibleShape(ts[5], ts[8])))
    return d.error("grad_last ", ts[8], " must have the initial state's shape ", ts[5]);
  types.append(ts.begin(), ts.begin() + 6);
  return success();
}
