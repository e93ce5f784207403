//===- VisionAndRecsysOps.cpp - convolutions, GRU, pooling, interactions --===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

#include "mlir/IR/TypeUtilities.h"

#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

/// Output length of a convolution along one axis:
/// (in + padLo + padHi - dilation (k - 1) - 1) / stride + 1.
/// Dynamic if `in` or `k` is; fails (with a message) if it would be < 1 or
/// overflow.
static FailureOr<int64_t> convOutSize(const OpDiag &d, int64_t in, int64_t k, int64_t stride,
                                      int64_t padLo, int64_t padHi, int64_t dilation,
                                      StringRef axis) {
  if (in == kDynamic || k == kDynamic)
    return kDynamic;
  int64_t padded, span;
  if (llvm::AddOverflow(in, padLo, padded) || llvm::AddOverflow(padded, padHi, padded) ||
      llvm::MulOverflow(dilation, k - 1, span) || llvm::AddOverflow(span, int64_t(1), span))
    return d.error("convolution size along ", axis, " overflows");
  if (padded < span)
    return d.error("kernel extent ", span, " along ", axis, " exceeds the padded input size ",
                   padded);
  return (padded - span) / stride + 1;
}

static LogicalResult checkBias(const OpDiag &d, Value bias, int64_t channels,
                               RankedTensorType input) {
  if (!bias)
    return success();
  auto b = d.ranked(bias.getType(), "bias");
  if (failed(b) || failed(d.expectRank(*b, 1, "bias")) ||
      failed(d.expectSameElementType(input, *b, "input", "bias")))
    return failure();
  if (!compatible(b->getDimSize(0), channels))
    return d.error("bias has ", b->getDimSize(0), " elements for ", channels, " output channels");
  return success();
}

LogicalResult Conv2dOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  if (failed(x) || failed(w) || failed(d.expectRank(*x, 4, "input")) ||
      failed(d.expectRank(*w, 4, "weight")) ||
      failed(d.expectSameElementType(*x, *w, "input", "weight")))
    return failure();
  ArrayRef<int64_t> strides = adaptor.getStrides(), pad = adaptor.getPadding(),
                    dil = adaptor.getDilation();
  if (strides.size() != 2 || pad.size() != 2 || dil.size() != 2)
    return d.error("strides, padding and dilation must each have 2 entries");
  for (int i = 0; i < 2; ++i)
    if (strides[i] < 1 || dil[i] < 1 || pad[i] < 0)
      return d.error("strides and dilation must be positive and padding "
                     "non-negative");
  if (!compatible(x->getDimSize(1), w->getDimSize(1)))
    return d.error("input has ", x->getDimSize(1), " channels but weight expects ",
                   w->getDimSize(1));
  if (failed(checkBias(d, adaptor.getBias(), w->getDimSize(0), *x)))
    return failure();
  auto h = convOutSize(d, x->getDimSize(2), w->getDimSize(2), strides[0], pad[0], pad[0], dil[0],
                       "height");
  auto wd = convOutSize(d, x->getDimSize(3), w->getDimSize(3), strides[1], pad[1], pad[1], dil[1],
                        "width");
  if (failed(h) || failed(wd))
    return failure();
  types.push_back(
      RankedTensorType::get({x->getDimSize(0), w->getDimSize(0), *h, *wd}, x->getElementType()));
  return success();
}

namespace {
/// The merge's operands (or its gradient's, `rows` naming the embeddings
/// or the output gradient): [batch, seq, dim] rows, [batch, seq] ids and
/// [n, dim] features of the rows' element type.
LogicalResult checkMergeOperands(const OpDiag &d, Type rowsType, StringRef rowsName, Type idsType,
                                 Type featuresType, RankedTensorType &rows,
                                 RankedTensorType &features) {
  auto e = d.ranked(rowsType, rowsName);
  auto ids = d.ranked(idsType, "ids");
  auto f = d.ranked(featuresType, "image_features");
  if (failed(e) || failed(ids) || failed(f) || failed(d.expectRank(*e, 3, rowsName)) ||
      failed(d.expectRank(*ids, 2, "ids")) || failed(d.expectRank(*f, 2, "image_features")) ||
      failed(d.expectSameElementType(*e, *f, rowsName, "image_features")))
    return failure();
  if (!compatible(e->getDimSize(0), ids->getDimSize(0)) ||
      !compatible(e->getDimSize(1), ids->getDimSize(1)))
    return d.error("ids ", *ids, " must be the [batch, seq] of ", rowsName, " ", *e);
  if (!compatible(e->getDimSize(2), f->getDimSize(1)))
    return d.error("image_features width ", f->getDimSize(1), " differs from the ", rowsName,
                   " width ", e->getDimSize(2));
  rows = *e;
  features = *f;
  return success();
}
} // namespace

LogicalResult MergeImageFeaturesOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                     Adaptor adaptor,
                                                     SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  RankedTensorType rows, features;
  if (failed(checkMergeOperands(d, adaptor.getEmbeddings().getType(), "embeddings",
                                adaptor.getIds().getType(), adaptor.getImageFeatures().getType(),
                                rows, features)))
    return failure();
  types.push_back(rows);
  return success();
}

LogicalResult MergeImageFeaturesGradOp::inferReturnTypes(MLIRContext *,
                                                         std::optional<Location> loc,
                                                         Adaptor adaptor,
                                                         SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  RankedTensorType rows, features;
  if (failed(checkMergeOperands(d, adaptor.getGradOutput().getType(), "grad_output",
                                adaptor.getIds().getType(), adaptor.getImageFeatures().getType(),
                                rows, features)))
    return failure();
  types.push_back(features);
  return success();
}

LogicalResult Conv1dOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  if (failed(x) || failed(w) || failed(d.expectRank(*x, 3, "input")) ||
      failed(d.expectRank(*w, 3, "weight")) ||
      failed(d.expectSameElementType(*x, *w, "input", "weight")))
    return failure();
  int64_t stride = static_cast<int64_t>(adaptor.getStride());
  int64_t dil = static_cast<int64_t>(adaptor.getDilation());
  ArrayRef<int64_t> pad = adaptor.getPadding();
  if (pad.size() != 2 || pad[0] < 0 || pad[1] < 0)
    return d.error("padding must be [before, after] with non-negative entries");
  if (stride < 1 || dil < 1)
    return d.error("stride and dilation must be positive");
  if (!compatible(x->getDimSize(2), w->getDimSize(1)))
    return d.error("input has ", x->getDimSize(2), " channels but weight [out, in, k] expects ",
                   w->getDimSize(1));
  if (failed(checkBias(d, adaptor.getBias(), w->getDimSize(0), *x)))
    return failure();
  auto len = convOutSize(d, x->getDimSize(1), w->getDimSize(2), stride, pad[0], pad[1], dil,
                         "the sequence");
  if (failed(len))
    return failure();
  types.push_back(
      RankedTensorType::get({x->getDimSize(0), *len, w->getDimSize(0)}, x->getElementType()));
  return success();
}

LogicalResult GruOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto wih = d.ranked(adaptor.getWeightIh().getType(), "weight_ih");
  auto whh = d.ranked(adaptor.getWeightHh().getType(), "weight_hh");
  auto bih = d.ranked(adaptor.getBiasIh().getType(), "bias_ih");
  auto bhh = d.ranked(adaptor.getBiasHh().getType(), "bias_hh");
  if (failed(x) || failed(wih) || failed(whh) || failed(bih) || failed(bhh) ||
      failed(d.expectRank(*x, 3, "input")) || failed(d.expectRank(*wih, 2, "weight_ih")) ||
      failed(d.expectRank(*whh, 2, "weight_hh")) || failed(d.expectRank(*bih, 1, "bias_ih")) ||
      failed(d.expectRank(*bhh, 1, "bias_hh")))
    return failure();
  for (auto [t, name] :
       {std::pair{*wih, "weight_ih"}, {*whh, "weight_hh"}, {*bih, "bias_ih"}, {*bhh, "bias_hh"}})
    if (failed(d.expectSameElementType(*x, t, "input", name)))
      return failure();
  int64_t hidden = whh->getDimSize(1);
  if (hidden == kDynamic)
    return d.error("weight_hh must have a static hidden size");
  auto gatesOr = mulSizes(3, hidden);
  if (!gatesOr)
    return d.error("3 * hidden overflows");
  int64_t gates = *gatesOr;
  if (!compatible(whh->getDimSize(0), gates) || !compatible(wih->getDimSize(0), gates) ||
      !compatible(bih->getDimSize(0), gates) || !compatible(bhh->getDimSize(0), gates))
    return d.error("weights and biases must have 3 * hidden = ", gates, " rows (gates r, z, n)");
  if (!compatible(wih->getDimSize(1), x->getDimSize(2)))
    return d.error("input has ", x->getDimSize(2), " features but weight_ih expects ",
                   wih->getDimSize(1));
  int64_t batch = x->getDimSize(0);
  if (Value h0 = adaptor.getInitialState()) {
    auto h = d.ranked(h0.getType(), "initial_state");
    if (failed(h) || failed(d.expectRank(*h, 2, "initial_state")) ||
        failed(d.expectSameElementType(*x, *h, "input", "initial_state")))
      return failure();
    if (!compatible(h->getDimSize(0), batch) || !compatible(h->getDimSize(1), hidden))
      return d.error("initial_state must be [batch, hidden], got ", *h);
    batch = refine(batch, h->getDimSize(0));
  }
  types.push_back(RankedTensorType::get({batch, x->getDimSize(1), hidden}, x->getElementType()));
  types.push_back(RankedTensorType::get({batch, hidden}, x->getElementType()));
  return success();
}

LogicalResult PoolOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  if (failed(x))
    return failure();
  auto dim = d.dimIndex(static_cast<int64_t>(adaptor.getDim()), *x);
  if (failed(dim))
    return failure();
  if (Value maskValue = adaptor.getMask()) {
    auto mask = d.ranked(maskValue.getType(), "mask");
    if (failed(mask))
      return failure();
    if (failed(verifyCompatibleShape(mask->getShape(), x->getShape().take_front(*dim + 1))))
      return d.error("mask shape ", formatShape(mask->getShape()),
                     " must be the input shape up to the pooled dim, ",
                     formatShape(x->getShape().take_front(*dim + 1)));
  }
  SmallVector<int64_t> shape(x->getShape());
  shape.erase(shape.begin() + *dim);
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

LogicalResult TargetAttentionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                  Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto seq = d.ranked(adaptor.getSequence().getType(), "sequence");
  auto tgt = d.ranked(adaptor.getTarget().getType(), "target");
  if (failed(seq) || failed(tgt) || failed(d.expectRank(*seq, 3, "sequence")) ||
      failed(d.expectRank(*tgt, 2, "target")) ||
      failed(d.expectSameElementType(*seq, *tgt, "sequence", "target")))
    return failure();
  if (!compatible(seq->getDimSize(0), tgt->getDimSize(0)) ||
      !compatible(seq->getDimSize(2), tgt->getDimSize(1)))
    return d.error("target ", *tgt, " must be [batch, dim] of sequence ", *seq);
  if (Value maskValue = adaptor.getMask()) {
    auto mask = d.ranked(maskValue.getType(), "mask");
    if (failed(mask) ||
        failed(verifyCompatibleShape(mask->getShape(), seq->getShape().take_front(2))))
      return d.error("mask must be [batch, seq] of the sequence");
  }
  if (auto scale = adaptor.getScale()) {
    double s = scale->convertToDouble();
    if (!(s > 0.0) || !std::isfinite(s))
      return d.error("scale must be positive and finite, got ", s);
  }
  types.push_back(RankedTensorType::get({refine(seq->getDimSize(0), tgt->getDimSize(0)),
                                         refine(seq->getDimSize(2), tgt->getDimSize(1))},
                                        seq->getElementType()));
  return success();
}

LogicalResult HadamardInteractionOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                                      Adaptor adaptor,
                                                      SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto f = d.ranked(adaptor.getFields().getType(), "fields");
  if (failed(f) || failed(d.expectRank(*f, 3, "fields")))
    return failure();
  ArrayAttr groups = adaptor.getGroups();
  if (groups.empty())
    return d.error("groups must not be empty");
  int64_t numFields = f->getDimSize(1);
  for (auto [g, attr] : llvm::enumerate(groups)) {
    ArrayRef<int64_t> group = llvm::cast<DenseI64ArrayAttr>(attr).asArrayRef();
    if (group.size() < 2)
      return d.error("group ", g, " needs at least two fields");
    for (int64_t i : group)
      if (i < 0 || (numFields != kDynamic && i >= numFields))
        return d.error("group ", g, " names field ", i, " outside [0, ", numFields, ")");
    SmallVector<int64_t> sorted(group);
    llvm::sort(sorted);
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return d.error("group ", g, " repeats a field");
  }
  types.push_back(RankedTensorType::get(
      {f->getDimSize(0), static_cast<int64_t>(groups.size()), f->getDimSize(2)},
      f->getElementType()));
  return success();
}
