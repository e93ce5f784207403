//===- AttentionOps.cpp - RoPE, softmax and lightning attention -----------===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

#include "mlir/IR/TypeUtilities.h"
#include "runtime/LightningDecay.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

namespace {
/// [batch, seq, heads, dim] of one attention operand.
struct HeadLayout {
  int64_t batch, seq, heads, dim;
  explicit HeadLayout(RankedTensorType t)
      : batch(t.getDimSize(0)), seq(t.getDimSize(1)), heads(t.getDimSize(2)), dim(t.getDimSize(3)) {
  }
};
} // namespace

static FailureOr<RankedTensorType> rank4(const OpDiag &d, Value v, StringRef name) {
  auto t = d.ranked(v.getType(), name);
  if (failed(t) || failed(d.expectRank(*t, 4, name)))
    return failure();
  return t;
}

LogicalResult RopeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = rank4(d, adaptor.getInput(), "input");
  auto pos = d.ranked(adaptor.getPositions().getType(), "positions");
  if (failed(x) || failed(pos) || failed(d.expectRank(*pos, 2, "positions")))
    return failure();
  HeadLayout l(*x);
  if (!compatible(pos->getDimSize(0), l.batch) || !compatible(pos->getDimSize(1), l.seq))
    return d.error("positions shape ", formatShape(pos->getShape()),
                   " does not match input [batch, seq] ", formatShape(x->getShape().take_front(2)));
  int64_t rotary = static_cast<int64_t>(adaptor.getRotaryDim());
  if (rotary <= 0 || rotary % 2 != 0)
    return d.error("rotary_dim must be positive and even, got ", rotary);
  if (l.dim != kDynamic && rotary > l.dim)
    return d.error("rotary_dim ", rotary, " exceeds head_dim ", l.dim);
  double theta = adaptor.getTheta().convertToDouble();
  if (!(theta > 0.0) || !std::isfinite(theta))
    return d.error("theta must be positive and finite, got ", theta);
  types.push_back(*x);
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto q = rank4(d, adaptor.getQuery(), "query");
  auto k = rank4(d, adaptor.getKey(), "key");
  auto v = rank4(d, adaptor.getValue(), "value");
  if (failed(q) || failed(k) || failed(v) ||
      failed(d.expectSameElementType(*q, *k, "query", "key")) ||
      failed(d.expectSameElementType(*q, *v, "query", "value")))
    return failure();
  HeadLayout lq(*q), lk(*k), lv(*v);
  if (!compatible(lq.batch, lk.batch) || !compatible(lq.batch, lv.batch))
    return d.error("query, key and value must have the same batch size");
  if (!compatible(lk.seq, lv.seq) || !compatible(lk.heads, lv.heads))
    return d.error("key and value must agree in length and heads, got ", *k, " and ", *v);
  if (!compatible(lq.dim, lk.dim))
    return d.error("query head_dim ", lq.dim, " differs from key head_dim ", lk.dim);
  if (lk.heads == 0 || (lq.heads != kDynamic && lk.heads != kDynamic && lq.heads % lk.heads))
    return d.error("query heads (", lq.heads, ") must be a multiple of key/value heads (", lk.heads,
                   ")");
  if (auto scale = adaptor.getScale()) {
    double s = scale->convertToDouble();
    if (!(s > 0.0) || !std::isfinite(s))
      return d.error("scale must be positive and finite, got ", s);
  }
  int64_t batch = refine(refine(lq.batch, lk.batch), lv.batch);

  bool hasKC = adaptor.getKeyCache() != nullptr;
  bool hasVC = adaptor.getValueCache() != nullptr;
  bool hasPos = adaptor.getCachePositions() != nullptr;
  if (hasKC != hasVC || hasKC != hasPos)
    return d.error("key_cache, value_cache and cache_positions must be given "
                   "together");
  if (hasKC && adaptor.getQueryStart())
    return d.error("query_start is for attention without a cache (a cache places its queries at "
                   "cache_positions)");
  if (hasKC && adaptor.getKeyMask())
    return d.error("key_mask is for attention without a cache (a cache's valid keys are those "
                   "written before cache_positions)");
  if (!hasKC && (failed(checkCausalLengths(d, adaptor.getQueryStart(), bool(adaptor.getCausal()),
                                           lq.seq, lk.seq)) ||
                 failed(checkKeyMask(d, adaptor.getKeyMask(), batch, lk.seq))))
    return failure();
  types.push_back(RankedTensorType::get({batch, lq.seq, lq.heads, lv.dim}, q->getElementType()));
  if (!hasKC)
    return success();

  auto kc = rank4(d, adaptor.getKeyCache(), "key_cache");
  auto vc = rank4(d, adaptor.getValueCache(), "value_cache");
  auto pos = d.ranked(adaptor.getCachePositions().getType(), "cache_positions");
  if (failed(kc) || failed(vc) || failed(pos) || failed(d.expectRank(*pos, 1, "cache_positions")) ||
      failed(d.expectSameElementType(*k, *kc, "key", "key_cache")) ||
      failed(d.expectSameElementType(*v, *vc, "value", "value_cache")))
    return failure();
  HeadLayout lkc(*kc), lvc(*vc);
  if (!compatible(lkc.batch, batch) || !compatible(lvc.batch, batch) ||
      !compatible(pos->getDimSize(0), batch))
    return d.error("caches and cache_positions must have the batch size ", batch);
  if (!compatible(lkc.seq, lvc.seq))
    return d.error("key_cache and value_cache capacities differ: ", lkc.seq, " and ", lvc.seq);
  if (!compatible(lkc.heads, lk.heads) || !compatible(lkc.dim, lk.dim))
    return d.error("key_cache ", *kc, " does not match key heads/dim of ", *k);
  if (!compatible(lvc.heads, lv.heads) || !compatible(lvc.dim, lv.dim))
    return d.error("value_cache ", *vc, " does not match value heads/dim of ", *v);
  if (lkc.seq != kDynamic && lk.seq != kDynamic && lk.seq > lkc.seq)
    return d.error("writes ", lk.seq, " tokens into a cache of capacity ", lkc.seq);
  types.push_back(*kc);
  types.push_back(*vc);
  return success();
}

double mm::attentionScaleOrDefault(std::optional<llvm::APFloat> scale, int64_t headDim) {
  if (scale)
    return scale->convertToDouble();
  return headDim == ShapedType::kDynamic ? 0.0 : 1.0 / std::sqrt(double(headDim));
}

double AttentionOp::getScaleOrDefault() {
  return attentionScaleOrDefault(getScale(), getQuery().getType().getDimSize(3));
}

double AttentionGradOp::getScaleOrDefault() {
  return attentionScaleOrDefault(getScale(), getQuery().getType().getDimSize(3));
}

double TargetAttentionOp::getScaleOrDefault() {
  return attentionScaleOrDefault(getScale(), getSequence().getType().getDimSize(2));
}

LogicalResult LightningAttentionOp::inferReturnTypes(MLIRContext *ctx, std::optional<Location> loc,
                                                     Adaptor adaptor,
                                                     SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto q = rank4(d, adaptor.getQuery(), "query");
  auto k = rank4(d, adaptor.getKey(), "key");
  auto v = rank4(d, adaptor.getValue(), "value");
  if (failed(q) || failed(k) || failed(v) ||
      failed(d.expectSameElementType(*q, *k, "query", "key")) ||
      failed(d.expectSameElementType(*q, *v, "query", "value")))
    return failure();
  HeadLayout lq(*q), lk(*k), lv(*v);
  if (!compatible(lq.batch, lk.batch) || !compatible(lq.batch, lv.batch) ||
      !compatible(lq.seq, lk.seq) || !compatible(lq.seq, lv.seq) ||
      !compatible(lq.heads, lk.heads) || !compatible(lq.heads, lv.heads))
    return d.error("query, key and value must agree in batch, length and "
                   "heads, got ",
                   *q, ", ", *k, " and ", *v);
  if (!compatible(lq.dim, lk.dim))
    return d.error("query head_dim ", lq.dim, " differs from key head_dim ", lk.dim);
  int64_t layer = static_cast<int64_t>(adaptor.getLayerIndex());
  int64_t layers = static_cast<int64_t>(adaptor.getNumLayers());
  int64_t block = static_cast<int64_t>(adaptor.getBlockSize());
  if (layers < 1)
    return d.error("num_layers must be positive, got ", layers);
  if (layer < 0 || layer >= layers)
    return d.error("layer_index ", layer, " is outside [0, ", layers, ")");
  if (block < 1)
    return d.error("block_size must be positive, got ", block);

  int64_t batch = refine(refine(lq.batch, lk.batch), lv.batch);
  int64_t heads = refine(refine(lq.heads, lk.heads), lv.heads);
  int64_t dk = refine(lq.dim, lk.dim);
  auto stateType = RankedTensorType::get({batch, heads, dk, lv.dim}, Float32Type::get(ctx));
  if (Value init = adaptor.getInitialState()) {
    auto s = rank4(d, init, "initial_state");
    if (failed(s))
      return failure();
    if (!s->getElementType().isF32())
      return d.error("initial_state must be float32, got ", *s);
    if (failed(verifyCompatibleShape(s->getShape(), stateType.getShape())))
      return d.error("initial_state ", *s,
                     " must be [batch, heads, d, d] = ", formatShape(stateType.getShape()));
  }
  if (Value lengths = adaptor.getLengths()) {
    auto l = d.ranked(lengths.getType(), "lengths");
    if (failed(l) || failed(d.expectRank(*l, 1, "lengths")) ||
        failed(d.expectDim(l->getDimSize(0), batch, "lengths size")))
      return failure();
  }
  if (failed(checkHeadIndex(d, adaptor.getHeadIndex(), adaptor.getTotalHeads(), heads)))
    return failure();
  types.push_back(RankedTensorType::get({batch, lq.seq, heads, lv.dim}, q->getElementType()));
  types.push_back(stateType);
  return success();
}

int64_t LightningAttentionOp::getSlopeHeads() {
  if (std::optional<uint64_t> total = getTotalHeads())
    return static_cast<int64_t>(*total);
  return getQuery().getType().getDimSize(2);
}

SmallVector<double> LightningAttentionOp::getDecaySlopes() {
  return lightningSlopesOf(getSlopeHeads(), getLayerIndex(), getNumLayers());
}
