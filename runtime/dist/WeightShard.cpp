//===- WeightShard.cpp ----------------------------------------------------===//
#include "runtime/dist/WeightShard.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstring>

namespace mm::dist {

namespace {
/// How many parts the axes cut a dim into, and which part `rank` holds
/// (its grid coordinates on the axes, the first axis slowest).
std::pair<int64_t, int64_t> partIndex(const std::vector<int64_t> &gridShape,
                                      const std::vector<int64_t> &axes, int rank) {
  std::vector<int64_t> coord(gridShape.size());
  for (int64_t i = static_cast<int64_t>(gridShape.size()) - 1, r = rank; i >= 0; --i) {
    coord[i] = r % gridShape[i];
    r /= gridShape[i];
  }
  int64_t parts = 1, index = 0;
  for (int64_t a : axes) {
    if (a < 0 || a >= static_cast<int64_t>(gridShape.size()))
      throw makeError("grid axis ", a, " of a ", gridShape.size(), "-d grid");
    parts *= gridShape[a];
    index = index * gridShape[a] + coord[a];
  }
  return {parts, index};
}
} // namespace

Shape WeightShard::wholeShape(const Shape &part) const {
  if (splitAxes.size() != part.size())
    throw makeError("a weight split over ", splitAxes.size(), " dims has ", part.size());
  Shape whole = part;
  for (size_t d = 0; d < part.size(); ++d)
    whole[d] *= partIndex(gridShape, splitAxes[d], 0).first;
  return whole;
}

WeightBlock WeightShard::blockOf(const Shape &whole, int rank) const {
  int64_t dims = static_cast<int64_t>(whole.size());
  if (static_cast<int64_t>(splitAxes.size()) != dims)
    throw makeError("a weight split over ", splitAxes.size(), " dims has ", dims);
  WeightBlock block{Shape(dims, 0), whole};
  for (int64_t d = 0; d < dims; ++d) {
    auto [parts, index] = partIndex(gridShape, splitAxes[d], rank);
    if (whole[d] % parts != 0)
      throw makeError("dim ", d, " of ", formatShape(whole), " does not split into ", parts,
                      " parts");
    block.size[d] = whole[d] / parts;
    block.offset[d] = index * block.size[d];
  }
  return block;
}

Tensor WeightShard::partOf(const Tensor &whole, int rank) const {
  WeightBlock block = blockOf(whole.shape(), rank);
  Tensor part = Tensor::empty(whole.dtype(), block.size);
  copyBlock(whole.raw(), whole.shape(), dtypeSize(whole.dtype()), block, part.raw());
  return part;
}

Tensor WeightShard::wholeOf(const Tensor &part, Collectives &ranks, const std::string &what) const {
  // The ranks whose parts make the whole: along the axes that split it
  // (replicas along the others, such as a dp axis, gather their own).
  std::vector<int64_t> splitting;
  for (const auto &axes : splitAxes)
    splitting.insert(splitting.end(), axes.begin(), axes.end());
  std::sort(splitting.begin(), splitting.end());
  std::vector<int> group = gridGroup(gridShape, splitting, ranks.rank(), ranks.size());
  Tensor parts = Tensor::empty(part.dtype(), {static_cast<int64_t>(group.size()) * part.numel()});
  ranks.allGather(part.raw(), parts.raw(), part.numel(), part.dtype(), group, what);
  // (group holds world ranks: each part's place is its rank's block.)
  Tensor whole = Tensor::empty(part.dtype(), wholeShape(part.shape()));
  for (size_t r = 0; r < group.size(); ++r)
    placeBlock(static_cast<const char *>(parts.raw()) + r * part.nbytes(), whole.shape(),
               dtypeSize(part.dtype()), blockOf(whole.shape(), group[r]), whole.raw());
  return whole;
}

Tensor WeightShard::bind(const WeightBinder &binder, const std::string &name, const Shape &part,
                         DType dtype, int rank) const {
  Shape whole = wholeShape(part);
  if (std::optional<Tensor> block = binder.block(name, whole, dtype, blockOf(whole, rank)))
    return std::move(*block);
  return partOf(binder(name, whole, dtype), rank);
}

} // namespace mm::dist
