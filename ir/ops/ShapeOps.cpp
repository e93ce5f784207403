//===- ShapeOps.cpp - reshape, transpose, concat, slice, gather, scatter --===//
#include "ir/MMOps.h"
#include "ir/ShapeFunctions.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mm;
using namespace mm::shape;

//===----------------------------------------------------------------------===//
// reshape
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                          Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  if (failed(x))
    return failure();
  ArrayRef<int64_t> spec = adaptor.getShape();
  SmallVector<int64_t> shape;
  std::optional<size_t> inferAt;
  for (auto [i, s] : llvm::enumerate(spec)) {
    if (s == -1) {
      if (inferAt)
        return d.error("shape has more than one -1 entry");
      inferAt = i;
      shape.push_back(kDynamic);
    } else if (s == 0) {
      if (static_cast<int64_t>(i) >= x->getRank())
        return d.error("shape entry ", i, " is 0 (copy) but the input has rank ", x->getRank());
      shape.push_back(x->getDimSize(i));
    } else if (s < 0) {
      return d.error("shape entry ", i, " is ", s, "; entries are sizes, 0 (copy) or -1 (infer)");
    } else {
      shape.push_back(s);
    }
  }
  auto inCount = numElements(x->getShape());
  SmallVector<int64_t> known(shape);
  if (inferAt)
    known.erase(known.begin() + *inferAt);
  auto knownCount = numElements(known);
  if (!inCount || !knownCount)
    return d.error("element count overflows");
  if (inferAt && *inCount != kDynamic && *knownCount != kDynamic) {
    if (*knownCount == 0 || *inCount % *knownCount != 0)
      return d.error("cannot infer the -1 entry: ", *inCount, " elements do not divide into ",
                     formatShape(known));
    shape[*inferAt] = *inCount / *knownCount;
  }
  if (!inferAt && *inCount != kDynamic && *knownCount != kDynamic && *inCount != *knownCount)
    return d.error("cannot reshape ", *inCount, " elements into ", formatShape(shape));
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

// Reshaping to the input's own type is the identity: every result dim either
// copies the input dim at its index, is a static size equal to it, or is the
// one inferred dim, which then equals the remaining input dim.
OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // A constant reshaped is a constant (row-major order is unchanged), so it
  // can be inlined into the kernels that read it.
  if (auto constant = llvm::dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput()))
    if (getType().hasStaticShape())
      return constant.reshape(getType());
  return {};
}

namespace {
/// reshape(reshape(x, s1), s2) -> reshape(x, s2') when s2' can say the same
/// thing in terms of x.
struct ComposeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    ArrayRef<int64_t> s1 = inner.getShape();
    RankedTensorType mid = inner.getType();
    bool hasInfer = llvm::is_contained(op.getShape(), -1);
    SmallVector<int64_t> spec;
    for (auto [i, e] : llvm::enumerate(op.getShape())) {
      if (e != 0) {
        spec.push_back(e);
        continue;
      }
      // A copy of intermediate dim i: a static size, a copy of x's dim i, or
      // (once) whatever remains.
      if (!mid.isDynamicDim(i))
        spec.push_back(mid.getDimSize(i));
      else if (s1[i] == 0 && static_cast<int64_t>(i) < inner.getInput().getType().getRank())
        spec.push_back(0);
      else if (!hasInfer) {
        spec.push_back(-1);
        hasInfer = true;
      } else
        return failure();
    }
    auto composed = ReshapeOp::create(rewriter, op.getLoc(), inner.getInput(),
                                      rewriter.getDenseI64ArrayAttr(spec));
    if (composed.getType() != op.getType()) {
      rewriter.eraseOp(composed);
      return failure();
    }
    rewriter.replaceOp(op, composed.getResult());
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ComposeReshapes>(context);
}

//===----------------------------------------------------------------------===//
// transpose
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                            Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  if (failed(x))
    return failure();
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  int64_t rank = x->getRank();
  if (static_cast<int64_t>(perm.size()) != rank)
    return d.error("permutation has ", perm.size(), " entries for rank ", rank);
  llvm::SmallBitVector seen(rank);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= rank || seen.test(p))
      return d.error("permutation [", formatShape(perm), "] is not a permutation of [0, ", rank,
                     ")");
    seen.set(p);
    shape.push_back(x->getDimSize(p));
  }
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPermutation()))
    if (static_cast<int64_t>(i) != p)
      return {};
  return getInput();
}

namespace {
/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2).
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    ArrayRef<int64_t> p1 = inner.getPermutation(), p2 = op.getPermutation();
    SmallVector<int64_t> composed;
    for (int64_t p : p2)
      composed.push_back(p1[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, inner.getInput(),
                                             rewriter.getDenseI64ArrayAttr(composed));
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}

//===----------------------------------------------------------------------===//
// concat
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return d.error("needs at least one input");
  auto first = d.ranked(inputs.front().getType(), "input 0");
  if (failed(first))
    return failure();
  int64_t rank = first->getRank();
  int64_t dimAttr = static_cast<int64_t>(adaptor.getDim());
  auto dim = normalizeDim(dimAttr, rank);
  if (!dim)
    return d.error("dim ", dimAttr, " is out of range for rank ", rank);
  SmallVector<int64_t> shape(first->getShape());
  for (auto [i, v] : llvm::enumerate(inputs.drop_front())) {
    auto t = d.ranked(v.getType(), "input");
    if (failed(t))
      return failure();
    if (t->getRank() != rank || t->getElementType() != first->getElementType())
      return d.error("input ", i + 1, " ", *t, " differs in rank or element type from input 0 ",
                     *first);
    for (int64_t j = 0; j < rank; ++j) {
      if (j == *dim) {
        if (t->isDynamicDim(j) || shape[j] == kDynamic)
          shape[j] = kDynamic;
        else if (llvm::AddOverflow(shape[j], t->getDimSize(j), shape[j]))
          return d.error("concatenated size overflows");
      } else if (!compatible(shape[j], t->getDimSize(j))) {
        return d.error("input ", i + 1, " has size ", t->getDimSize(j), " in dim ", j,
                       " where input 0 has ", shape[j]);
      } else {
        shape[j] = refine(shape[j], t->getDimSize(j));
      }
    }
  }
  types.push_back(RankedTensorType::get(shape, first->getElementType()));
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor) {
  if (getInputs().size() == 1 && getInputs().front().getType() == getType())
    return getInputs().front();
  return {};
}

//===----------------------------------------------------------------------===//
// slice
//===----------------------------------------------------------------------===//

/// Python's slice length over a dimension of size n.
static int64_t pythonSliceSize(int64_t n, int64_t start, std::optional<int64_t> end, int64_t step) {
  auto clampIndex = [n](int64_t i) {
    if (i < 0)
      i = i < -n ? 0 : i + n;
    return std::min(i, n);
  };
  int64_t b = clampIndex(start), e = end ? clampIndex(*end) : n;
  return e > b ? (e - b + step - 1) / step : 0;
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  if (failed(x))
    return failure();
  auto dim = d.dimIndex(static_cast<int64_t>(adaptor.getDim()), *x);
  if (failed(dim))
    return failure();
  int64_t step = static_cast<int64_t>(adaptor.getStep());
  if (step < 1)
    return d.error("step must be positive, got ", step);
  int64_t start = static_cast<int64_t>(adaptor.getStart());
  std::optional<int64_t> end;
  if (auto e = adaptor.getEnd())
    end = static_cast<int64_t>(*e);
  SmallVector<int64_t> shape(x->getShape());
  int64_t n = shape[*dim];
  shape[*dim] = n == kDynamic ? kDynamic : pythonSliceSize(n, start, end, step);
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor) {
  if (static_cast<int64_t>(getStart()) == 0 && !getEnd() && getStep() == 1 &&
      getInput().getType() == getType())
    return getInput();
  return {};
}

//===----------------------------------------------------------------------===//
// gather / scatter_add
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto x = d.ranked(adaptor.getInput().getType(), "input");
  auto idx = d.ranked(adaptor.getIndices().getType(), "indices");
  if (failed(x) || failed(idx))
    return failure();
  auto dim = d.dimIndex(static_cast<int64_t>(adaptor.getDim()), *x);
  if (failed(dim))
    return failure();
  int64_t b = static_cast<int64_t>(adaptor.getBatchDims());
  if (b < 0 || b > *dim || b > idx->getRank())
    return d.error("batch_dims ", b, " must be in [0, min(dim, indices rank)]");
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < b; ++i) {
    if (!compatible(x->getDimSize(i), idx->getDimSize(i)))
      return d.error("batch dim ", i, " of input (", x->getDimSize(i), ") and indices (",
                     idx->getDimSize(i), ") differ");
    shape.push_back(refine(x->getDimSize(i), idx->getDimSize(i)));
  }
  for (int64_t i = b; i < *dim; ++i)
    shape.push_back(x->getDimSize(i));
  llvm::append_range(shape, idx->getShape().drop_front(b));
  llvm::append_range(shape, x->getShape().drop_front(*dim + 1));
  types.push_back(RankedTensorType::get(shape, x->getElementType()));
  return success();
}

LogicalResult ScatterAddOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                             Adaptor adaptor, SmallVectorImpl<Type> &types) {
  OpDiag d(loc, getOperationName());
  auto dest = d.ranked(adaptor.getDest().getType(), "dest");
  auto idx = d.ranked(adaptor.getIndices().getType(), "indices");
  auto upd = d.ranked(adaptor.getUpdates().getType(), "updates");
  if (failed(dest) || failed(idx) || failed(upd) ||
      failed(d.expectSameElementType(*dest, *upd, "dest", "updates")))
    return failure();
  int64_t b = static_cast<int64_t>(adaptor.getBatchDims());
  if (failed(d.expectRank(*idx, b + 1, "indices")))
    return failure();
  auto dim = d.dimIndex(static_cast<int64_t>(adaptor.getDim()), *dest);
  if (failed(dim))
    return failure();
  if (b < 0 || *dim < b)
    return d.error("batch_dims ", b, " must be in [0, dim] (dim ", *dim, ")");
  for (int64_t i = 0; i < b; ++i)
    if (!compatible(idx->getDimSize(i), dest->getDimSize(i)))
      return d.error("indices batch dim ", i, " is ", idx->getDimSize(i), ", dest's is ",
                     dest->getDimSize(i));
  if (upd->getRank() != dest->getRank())
    return d.error("updates ", *upd, " must have the rank of dest ", *dest);
  for (int64_t i = 0; i < dest->getRank(); ++i) {
    int64_t want = i == *dim ? idx->getDimSize(b) : dest->getDimSize(i);
    if (!compatible(upd->getDimSize(i), want))
      return d.error("updates dim ", i, " is ", upd->getDimSize(i), ", expected ", want);
  }
  types.push_back(*dest);
  return success();
}
