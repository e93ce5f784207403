//===- WeightBinder.cpp ---------------------------------------------------===//
#include "runtime/WeightBinder.h"
#include "runtime/Error.h"

#include <cstring>
#include <vector>

namespace mm {

namespace {
/// Walks the runs of the last dim of `block` in a row-major whole of
/// `shape`: packed block -> whole (`intoWhole`) or whole -> packed block.
void moveBlock(const void *from, const Shape &shape, size_t element, const WeightBlock &block,
               void *to, bool intoWhole) {
  for (size_t d = 0; d < shape.size(); ++d)
    if (block.offset.size() != shape.size() || block.size.size() != shape.size() ||
        block.offset[d] < 0 || block.size[d] < 0 || block.offset[d] + block.size[d] > shape[d])
      throw makeError("a block at ", formatShape(block.offset), " of ", formatShape(block.size),
                      " does not lie in ", formatShape(shape));
  // Copy runs of the last dim, walking the other dims' block indices.
  int64_t dims = static_cast<int64_t>(shape.size());
  int64_t runs = 1;
  for (int64_t d = 0; d + 1 < dims; ++d)
    runs *= block.size[d];
  int64_t run = dims ? block.size[dims - 1] : 1;
  std::vector<int64_t> at(dims, 0);
  for (int64_t r = 0; r < runs; ++r) {
    int64_t rest = r, inWhole = 0;
    for (int64_t d = dims - 2; d >= 0; --d) {
      at[d] = rest % block.size[d];
      rest /= block.size[d];
    }
    for (int64_t d = 0; d < dims; ++d)
      inWhole = inWhole * shape[d] + (d + 1 < dims ? at[d] : 0) + block.offset[d];
    int64_t packed = r * run;
    std::memcpy(static_cast<char *>(to) + (intoWhole ? inWhole : packed) * element,
                static_cast<const char *>(from) + (intoWhole ? packed : inWhole) * element,
                run * element);
  }
}
} // namespace

void copyBlock(const void *from, const Shape &shape, size_t element, const WeightBlock &block,
               void *to) {
  moveBlock(from, shape, element, block, to, /*intoWhole=*/false);
}

void placeBlock(const void *from, const Shape &shape, size_t element, const WeightBlock &block,
                void *to) {
  moveBlock(from, shape, element, block, to, /*intoWhole=*/true);
}

} // namespace mm
