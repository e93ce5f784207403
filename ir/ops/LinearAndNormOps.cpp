//===- LinearAndNormOps.cpp - params, norms, linear, matmul, embedding ----===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

LogicalResult ParamOp::verify() {
  if (getName().empty())
    return emitOpError("name must not be empty");
  if (!getType().hasStaticShape())
    return emitOpError("weight type must have a static shape, got ") << getType();
  return success();
}

/// Checks the 1-D per-feature `vec` against the last dim of `input`.
static LogicalResult checkFeatureVector(const OpDiag &d, RankedTensorType input,
                                        RankedTensorType vec, StringRef name) {
  if (failed(d.expectRank(vec, 1, name)))
    return failure();
  if (input.getRank() == 0)
    return d.error("input must have at least one dimension");
  int64_t features = input.getShape().back();
  if (!compatible(vec.getDimSize(0), features))
    return d.error(name, " has ", vec.getDimSize(0), " elements but the input's last dimension is ",
                   features);
  return d.expectSameElementType(input, vec, "input", name);
}

static LogicalResult checkEpsilon(const OpDiag &d, double eps) {
  if (!(eps > 0.0) || !std::isfinite(eps))
    return d.error("epsilon must be positive and finite, got ", eps);
  return success();
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  if (failed(x) || failed(w) || failed(checkFeatureVector(d, *x, *w, "weight")) ||
      failed(checkEpsilon(d, adaptor.getEpsilon().convertToDouble())))
    return failure();
  types.push_back(*x);
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  auto b = d.ranked(adaptor.getBias().getType(), "bias");
  if (failed(x) || failed(w) || failed(b) || failed(checkFeatureVector(d, *x, *w, "weight")) ||
      failed(checkFeatureVector(d, *x, *b, "bias")) ||
      failed(checkEpsilon(d, adaptor.getEpsilon().convertToDouble())))
    return failure();
  types.push_back(*x);
  return success();
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto w = d.ranked(adaptor.getWeight().getType(), "weight");
  if (failed(x) || failed(w) || failed(d.expectRank(*w, 2, "weight")) ||
      failed(d.expectSameElementType(*x, *w, "input", "weight")))
    return failure();
  if (x->getRank() < 1)
    return d.error("input must have at least one dimension");
  int64_t in = x->getShape().back();
  if (!compatible(in, w->getDimSize(1)))
    return d.error("input has ", in, " features but weight [out, in] expects ", w->getDimSize(1));
  if (Value bias = adaptor.getBias()) {
    auto b = d.ranked(bias.getType(), "bias");
    if (failed(b) || failed(d.expectRank(*b, 1, "bias")) ||
        failed(d.expectSameElementType(*x, *b, "input", "bias")))
      return failure();
    if (!compatible(b->getDimSize(0), w->getDimSize(0)))
      return d.error("bias has ", b->getDimSize(0), " elements but weight has ", w->getDimSize(0),
                     " output features");
  }
  SmallVector<int64_t> shape(x->getShape());
  shape.back() = w->getDimSize(0);
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto a = d.ranked(adaptor.getLhs().getType(), "lhs");
  auto b = d.ranked(adaptor.getRhs().getType(), "rhs");
  if (failed(a) || failed(b) || failed(d.expectSameElementType(*a, *b, "lhs", "rhs")))
    return failure();
  if (a->getRank() < 2 || b->getRank() < 2)
    return d.error("operands must have rank >= 2, got ", *a, " and ", *b);
  ArrayRef<int64_t> as = a->getShape(), bs = b->getShape();
  int64_t ra = as.size(), rb = bs.size();
  bool ta = adaptor.getTransposeLhs(), tb = adaptor.getTransposeRhs();
  int64_t m = ta ? as[ra - 1] : as[ra - 2];
  int64_t ka = ta ? as[ra - 2] : as[ra - 1];
  int64_t kb = tb ? bs[rb - 1] : bs[rb - 2];
  int64_t n = tb ? bs[rb - 2] : bs[rb - 1];
  if (!compatible(ka, kb))
    return d.error("contraction sizes differ: lhs has ", ka, ", rhs has ", kb);
  auto batch = broadcastShapes(as.drop_back(2), bs.drop_back(2));
  if (!batch)
    return d.error("batch dimensions ", formatShape(as.drop_back(2)), " and ",
                   formatShape(bs.drop_back(2)), " do not broadcast");
  batch->push_back(m);
  batch->push_back(n);
  types.push_back(RankedTensorType::get(*batch, a->getElementType()));
  return success();
}

LogicalResult EmbeddingOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto table = d.ranked(adaptor.getTable().getType(), "table");
  auto ids = d.ranked(adaptor.getIds().getType(), "ids");
  if (failed(table) || failed(ids) || failed(d.expectRank(*table, 2, "table")))
    return failure();
  std::optional<int64_t> vocab;
  if (adaptor.getVocabSize())
    vocab = static_cast<int64_t>(*adaptor.getVocabSize());
  if (bool(adaptor.getRowsFrom()) != vocab.has_value())
    return d.error("rows_from and vocab_size go together (a vocab-parallel part)");
  if (adaptor.getRowsFrom()) {
    auto from = d.ranked(adaptor.getRowsFrom().getType(), "rows_from");
    if (failed(from) || from->getRank() != 1 || from->getDimSize(0) != 1 ||
        !from->getElementType().isInteger(64))
      return d.error("rows_from must be a tensor<1xi64>");
    if (!table->isDynamicDim(0) && *vocab < table->getDimSize(0))
      return d.error("vocab_size ", *vocab, " is smaller than the table's ",
                     table->getDimSize(0), " rows");
  }
  SmallVector<int64_t> shape(ids->getShape());
  shape.push_back(table->getDimSize(1));
  types.push_back(RankedTensorType::get(shape, table->getElementType()));
  return success();
}
