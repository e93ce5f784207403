//===- CollectiveOps.cpp --------------------------------------------------===//
#include "runtime/dist/CollectiveOps.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstring>

namespace mm::dist {

namespace {
int64_t product(const Shape &s, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end; ++i)
    n *= s[i];
  return n;
}

/// Sizes around `axis`: rows before it, the axis, bytes of one step after it.
struct AxisView {
  int64_t outer, extent, innerBytes;
};
AxisView viewAt(const Shape &s, int64_t axis, DType dtype) {
  return {product(s, 0, axis), s[axis],
          product(s, axis + 1, s.size()) * static_cast<int64_t>(dtypeSize(dtype))};
}
} // namespace

namespace {
/// The shape on the other side of a collective: with `grows` the axis is
/// multiplied by the group's size (an all_gather's result, a slice's input),
/// else divided.
Shape otherSide(const CollectivePlan &plan, Shape shape, int64_t members, bool grows) {
  if (plan.kind == "all_reduce")
    return shape;
  if (plan.axis < 0 || plan.axis >= static_cast<int64_t>(shape.size()))
    throw makeError(plan.kind, " along axis ", plan.axis, " of a rank-", shape.size(), " tensor");
  if (grows)
    shape[plan.axis] *= members;
  else
    shape[plan.axis] /= members;
  return shape;
}
} // namespace

Shape collectiveResultShape(const CollectivePlan &plan, Shape shape, int64_t members) {
  return otherSide(plan, std::move(shape), members, plan.kind == "all_gather");
}

Shape collectiveInputShape(const CollectivePlan &plan, Shape shape, int64_t members) {
  return otherSide(plan, std::move(shape), members, plan.kind != "all_gather");
}

std::vector<int> groupOf(const CollectivePlan &plan) {
  return gridGroup(plan.gridShape, plan.axes, world().rank(), world().size());
}

std::vector<int64_t> gatherPieces(const CollectivePlan &plan, const std::vector<int> &group,
                                  const Shape &inShape, const std::string &what) {
  if (plan.axis < 0 || plan.axis >= static_cast<int64_t>(inShape.size()))
    throw makeError(what, ": ", plan.kind, " along axis ", plan.axis, " of a rank-",
                    inShape.size(), " tensor");
  std::vector<int64_t> pieces(group.size(), inShape[plan.axis]);
  if (plan.uneven)
    world().allGather(&inShape[plan.axis], pieces.data(), 1, DType::I64, group,
                      what + " (the pieces' lengths)");
  return pieces;
}

Shape gatheredShape(Shape inShape, int64_t axis, const std::vector<int64_t> &pieces) {
  int64_t total = 0;
  for (int64_t p : pieces)
    total += p;
  inShape[axis] = total;
  return inShape;
}

namespace {
/// An all_gather whose pieces differ in length: each rank sends its piece
/// padded to the longest, then the pieces are placed side by side along the
/// axis without the padding.
void gatherUneven(const std::vector<int> &group, const void *in, const Shape &inShape, void *out,
                  DType dtype, int64_t axis, const std::vector<int64_t> &pieces,
                  const std::string &what) {
  AxisView v = viewAt(inShape, axis, dtype);
  int64_t longest = *std::max_element(pieces.begin(), pieces.end());
  int64_t members = static_cast<int64_t>(group.size()), total = 0;
  for (int64_t p : pieces)
    total += p;
  int64_t rowBytes = longest * v.innerBytes, paddedBytes = v.outer * rowBytes;
  std::vector<char> mine(paddedBytes, 0), gathered(paddedBytes * members);
  for (int64_t o = 0; o < v.outer && v.extent * v.innerBytes > 0; ++o)
    std::memcpy(mine.data() + o * rowBytes,
                static_cast<const char *>(in) + o * v.extent * v.innerBytes,
                v.extent * v.innerBytes);
  int64_t elementBytes = static_cast<int64_t>(dtypeSize(dtype));
  world().allGather(mine.data(), gathered.data(), paddedBytes / elementBytes, dtype, group, what);
  for (int64_t m = 0, before = 0; m < members; before += pieces[m++])
    for (int64_t o = 0; o < v.outer && pieces[m] * v.innerBytes > 0; ++o)
      std::memcpy(static_cast<char *>(out) + (o * total + before) * v.innerBytes,
                  gathered.data() + m * paddedBytes + o * rowBytes, pieces[m] * v.innerBytes);
}
} // namespace

void runCollective(const CollectivePlan &plan, const std::vector<int> &group, const void *in,
                   const Shape &inShape, void *out, const Shape &outShape, DType dtype,
                   const std::string &what, const std::vector<int64_t> *givenPieces) {
  int64_t members = static_cast<int64_t>(group.size());
  auto bad = [&](const std::string &why) {
    return makeError(what, ": ", plan.kind, " ", why, " (input ", formatShape(inShape), ", result ",
                     formatShape(outShape), ", ", members, " ranks)");
  };
  if (plan.kind == "all_reduce") {
    if (inShape != outShape)
      throw bad("changes the shape");
    if (in != out && product(inShape, 0, inShape.size()) > 0)
      std::memcpy(out, in, product(inShape, 0, inShape.size()) * dtypeSize(dtype));
    world().allReduce(out, product(outShape, 0, outShape.size()), dtype, plan.reduction, group,
                      what);
    return;
  }
  int64_t axis = plan.axis;
  if (axis < 0 || axis >= static_cast<int64_t>(inShape.size()) ||
      inShape.size() != outShape.size())
    throw bad("has a bad axis");
  if (plan.kind == "all_slice") {
    AxisView v = viewAt(inShape, axis, dtype);
    if (v.extent % members != 0 || outShape[axis] != v.extent / members)
      throw bad("does not split the axis evenly");
    int64_t position = std::find(group.begin(), group.end(), world().rank()) - group.begin();
    int64_t piece = v.extent / members;
    if (piece * v.innerBytes == 0) // (an empty part; its pointers may be null)
      return;
    for (int64_t o = 0; o < v.outer; ++o)
      std::memcpy(static_cast<char *>(out) + o * piece * v.innerBytes,
                  static_cast<const char *>(in) + (o * v.extent + position * piece) * v.innerBytes,
                  piece * v.innerBytes);
    return;
  }
  if (plan.kind == "all_gather") {
    AxisView v = viewAt(inShape, axis, dtype);
    std::vector<int64_t> pieces =
        givenPieces ? *givenPieces : gatherPieces(plan, group, inShape, what);
    std::string lengths;
    for (int64_t p : pieces)
      lengths += (lengths.empty() ? "" : ", ") + std::to_string(p);
    bool even = std::all_of(pieces.begin(), pieces.end(),
                            [&](int64_t p) { return p == pieces.front(); });
    // A caller without the pieces (a compiled program, its result sized as
    // the group's size times its own piece) refuses uneven ones on every
    // rank alike, even one whose size happens to fit: no rank waits alone.
    if (!even && !givenPieces)
      throw bad("gets uneven pieces (" + lengths + " along axis " + std::to_string(axis) +
                "); a compiled program sizes the result as the group's size times its own "
                "piece, so uneven pieces run on the reference executor (--backend reference)");
    if (outShape != gatheredShape(inShape, axis, pieces))
      throw bad("does not concatenate the group's pieces (of " + lengths + " along axis " +
                std::to_string(axis) + ")");
    if (!even) {
      gatherUneven(group, in, inShape, out, dtype, axis, pieces, what);
      return;
    }
    int64_t count = product(inShape, 0, inShape.size());
    // Gathered rank-major, then interleaved so the pieces sit side by side
    // along the axis.
    std::vector<char> gathered(count * members * dtypeSize(dtype));
    world().allGather(in, gathered.data(), count, dtype, group, what);
    int64_t pieceBytes = v.extent * v.innerBytes;
    if (pieceBytes == 0) // (an empty piece: nothing to place; data() may be null)
      return;
    for (int64_t m = 0; m < members; ++m)
      for (int64_t o = 0; o < v.outer; ++o)
        std::memcpy(static_cast<char *>(out) + (o * members + m) * pieceBytes,
                    gathered.data() + (m * v.outer + o) * pieceBytes, pieceBytes);
    return;
  }
  if (plan.kind == "reduce_scatter") {
    // Pieces along the axis are contiguous only for the leading axis (or
    // when every dim before it is 1), which is what ZeRO's shards use.
    if (product(inShape, 0, axis) != 1)
      throw bad("scatters along an axis with non-trivial dims before it (only the leading axis "
                "runs so far)");
    if (inShape[axis] != outShape[axis] * members)
      throw bad("does not split the axis evenly");
    world().reduceScatter(in, out, product(outShape, 0, outShape.size()), dtype, plan.reduction,
                          group, what);
    return;
  }
  throw bad("is not a supported collective");
}

} // namespace mm::dist
