//===- WeightShard.cpp ----------------------------------------------------===//
#include "runtime/dist/WeightShard.h"
#include "runtime/Error.h"

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

Tensor WeightShard::partOf(const Tensor &whole, int rank) const {
  int64_t dims = whole.rank();
  if (static_cast<int64_t>(splitAxes.size()) != dims)
    throw makeError("a weight split over ", splitAxes.size(), " dims has ", dims);
  Shape size = whole.shape(), offset(dims, 0);
  for (int64_t d = 0; d < dims; ++d) {
    auto [parts, index] = partIndex(gridShape, splitAxes[d], rank);
    if (whole.dim(d) % parts != 0)
      throw makeError("dim ", d, " of ", formatShape(whole.shape()), " does not split into ",
                      parts, " parts");
    size[d] = whole.dim(d) / parts;
    offset[d] = index * size[d];
  }
  Tensor part = Tensor::empty(whole.dtype(), size);
  // Copy runs of the last dim, walking the other dims' part indices.
  size_t element = dtypeSize(whole.dtype());
  int64_t runs = 1;
  for (int64_t d = 0; d + 1 < dims; ++d)
    runs *= size[d];
  int64_t run = dims ? size[dims - 1] : 1;
  for (int64_t r = 0; r < runs; ++r) {
    int64_t from = 0, rest = r;
    std::vector<int64_t> at(dims, 0);
    for (int64_t d = dims - 2; d >= 0; --d) {
      at[d] = rest % size[d];
      rest /= size[d];
    }
    for (int64_t d = 0; d < dims; ++d)
      from = from * whole.dim(d) + (d + 1 < dims ? at[d] + offset[d] : offset[d]);
    std::memcpy(static_cast<char *>(part.raw()) + r * run * element,
                static_cast<const char *>(whole.raw()) + from * element, run * element);
  }
  return part;
}

} // namespace mm::dist
