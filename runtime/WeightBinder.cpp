//===- WeightBinder.cpp ---------------------------------------------------===//
#include "runtime/WeightBinder.h"
#include "runtime/Error.h"

#include <cstring>
#include <vector>

namespace mm {

void copyBlock(const void *from, const Shape &shape, size_t element, const WeightBlock &block,
               void *to) {
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
    int64_t rest = r, source = 0;
    for (int64_t d = dims - 2; d >= 0; --d) {
      at[d] = rest % block.size[d];
      rest /= block.size[d];
    }
    for (int64_t d = 0; d < dims; ++d)
      source = source * shape[d] + (d + 1 < dims ? at[d] : 0) + block.offset[d];
    std::memcpy(static_cast<char *>(to) + r * run * element,
                static_cast<const char *>(from) + source * element, run * element);
  }
}

} // namespace mm
