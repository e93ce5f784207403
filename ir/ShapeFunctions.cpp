//===- ShapeFunctions.cpp - helpers for mm shape functions ----------------===//
#include "ir/ShapeFunctions.h"
#include "runtime/LightningDecay.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;

namespace mm::shape {

FailureOr<RankedTensorType> OpDiag::ranked(Type type, StringRef what) const {
  if (auto t = llvm::dyn_cast_or_null<RankedTensorType>(type))
    return t;
  return error(what, " must be a ranked tensor, got ", type);
}

FailureOr<int64_t> OpDiag::dimIndex(int64_t dim, RankedTensorType type) const {
  if (auto n = normalizeDim(dim, type.getRank()))
    return *n;
  return error("dim ", dim, " is out of range for ", type);
}

LogicalResult OpDiag::expectRank(RankedTensorType type, int64_t rank, StringRef what) const {
  if (type.getRank() == rank)
    return success();
  return error(what, " must have rank ", rank, ", got ", type);
}

LogicalResult OpDiag::expectDim(int64_t actual, int64_t expected, StringRef what) const {
  if (compatible(actual, expected))
    return success();
  return error(what, " must be ", expected, ", got ", actual);
}

LogicalResult OpDiag::expectSameElementType(RankedTensorType a, RankedTensorType b, StringRef whatA,
                                            StringRef whatB) const {
  if (a.getElementType() == b.getElementType())
    return success();
  return error(whatA, " and ", whatB, " must have the same element type, got ", a.getElementType(),
               " and ", b.getElementType());
}

std::optional<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> a, ArrayRef<int64_t> b) {
  size_t rank = std::max(a.size(), b.size());
  SmallVector<int64_t> out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da == 1)
      out[i] = db;
    else if (db == 1)
      out[i] = da;
    else if (!compatible(da, db))
      return std::nullopt;
    else
      out[i] = refine(da, db);
  }
  return out;
}

std::optional<int64_t> normalizeDim(int64_t dim, int64_t rank) {
  if (dim < -rank || dim >= rank)
    return std::nullopt;
  return dim < 0 ? dim + rank : dim;
}

std::optional<int64_t> mulSizes(int64_t a, int64_t b) {
  if (a == kDynamic || b == kDynamic)
    return kDynamic;
  int64_t r;
  if (llvm::MulOverflow(a, b, r))
    return std::nullopt;
  return r;
}

std::optional<int64_t> numElements(ArrayRef<int64_t> shape) {
  int64_t n = 1;
  bool dynamic = false;
  for (int64_t d : shape) {
    if (d == kDynamic) {
      dynamic = true;
      continue;
    }
    auto m = mulSizes(n, d);
    if (!m)
      return std::nullopt;
    n = *m;
  }
  return dynamic ? kDynamic : n;
}

std::string formatShape(ArrayRef<int64_t> shape) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(
      shape, os,
      [&](int64_t d) {
        if (d == kDynamic)
          os << "?";
        else
          os << d;
      },
      "x");
  return s;
}

LogicalResult checkHeadIndex(const OpDiag &d, Value headIndex, std::optional<uint64_t> totalHeads,
                             int64_t heads) {
  if (bool(headIndex) != totalHeads.has_value())
    return d.error("head_index and total_heads come together (a rank's heads among all)");
  if (!headIndex)
    return success();
  auto h = d.ranked(headIndex.getType(), "head_index");
  if (failed(h) || failed(d.expectRank(*h, 1, "head_index")) ||
      failed(d.expectDim(h->getDimSize(0), heads, "head_index size")))
    return failure();
  int64_t total = static_cast<int64_t>(*totalHeads);
  if (total < 1 || (heads != ShapedType::kDynamic && total < heads))
    return d.error("total_heads ", total, " must be at least the local heads ", heads);
  return success();
}

LogicalResult checkCausalLengths(const OpDiag &d, Value queryStart, bool causal, int64_t querySeq,
                                 int64_t keySeq) {
  if (!queryStart) {
    if (causal && !compatible(querySeq, keySeq))
      return d.error("causal attention without a cache (or a query_start) needs equal query and "
                     "key lengths, got ",
                     querySeq, " and ", keySeq);
    return success();
  }
  if (!causal)
    return d.error("query_start places the queries of a causal attention; this one is not causal");
  auto start = d.ranked(queryStart.getType(), "query_start");
  if (failed(start) || failed(d.expectRank(*start, 1, "query_start")))
    return failure();
  if (start->getDimSize(0) != 1 || !start->getElementType().isInteger(64))
    return d.error("query_start must be one i64 (tensor<1xi64>), got ", *start);
  if (querySeq != ShapedType::kDynamic && keySeq != ShapedType::kDynamic && querySeq > keySeq)
    return d.error("query length ", querySeq, " exceeds the key length ", keySeq,
                   " (query_start + query length must fit among the keys)");
  return success();
}

LogicalResult checkKeyMask(const OpDiag &d, Value keyMask, int64_t batch, int64_t keySeq) {
  if (!keyMask)
    return success();
  auto mask = d.ranked(keyMask.getType(), "key_mask");
  if (failed(mask) || failed(d.expectRank(*mask, 2, "key_mask")))
    return failure();
  if (!compatible(mask->getDimSize(0), batch) || !compatible(mask->getDimSize(1), keySeq))
    return d.error("key_mask ", *mask, " must be [batch, kv_len] = [", batch, ", ", keySeq, "]");
  return success();
}

SmallVector<double> lightningSlopesOf(int64_t heads, int64_t layerIndex, int64_t numLayers) {
  if (heads == ShapedType::kDynamic)
    return {};
  std::vector<double> s = lightningDecaySlopes(heads, layerIndex, numLayers);
  return SmallVector<double>(s.begin(), s.end());
}

} // namespace mm::shape
