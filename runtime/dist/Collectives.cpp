//===- Collectives.cpp ----------------------------------------------------===//
#include "runtime/dist/Collectives.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstring>

namespace mm::dist {

namespace {
void checkSelf(const std::vector<int> &group, const std::string &what) {
  if (group.size() != 1 || group[0] != 0)
    throw makeError(what, ": a collective over ", group.size(),
                    " ranks in a single-process run (launch with mpirun -np N)");
}

std::unique_ptr<Collectives> &instance() {
  static std::unique_ptr<Collectives> current = std::make_unique<SingleProcess>();
  return current;
}
} // namespace

void SingleProcess::allReduce(void *, int64_t, DType, Reduction, const std::vector<int> &group,
                              const std::string &what) {
  checkSelf(group, what);
}

void SingleProcess::allGather(const void *in, void *out, int64_t count, DType dtype,
                              const std::vector<int> &group, const std::string &what) {
  checkSelf(group, what);
  if (in != out)
    std::memmove(out, in, count * dtypeSize(dtype));
}

void SingleProcess::reduceScatter(const void *in, void *out, int64_t count, DType dtype,
                                  Reduction, const std::vector<int> &group,
                                  const std::string &what) {
  checkSelf(group, what);
  if (in != out)
    std::memmove(out, in, count * dtypeSize(dtype));
}

void SingleProcess::broadcast(void *, int64_t, DType, int root, const std::string &what) {
  if (root != 0)
    throw makeError(what, ": broadcast from rank ", root, " in a single-process run");
}

Collectives &world() { return *instance(); }

void setWorld(std::unique_ptr<Collectives> collectives) { instance() = std::move(collectives); }

std::vector<int> gridGroup(const std::vector<int64_t> &gridShape, const std::vector<int64_t> &axes,
                           int rank, int worldSize) {
  int64_t devices = 1;
  for (int64_t s : gridShape) {
    if (s < 1)
      throw makeError("a device grid with a dimension of ", s);
    devices *= s;
  }
  if (devices != worldSize)
    throw makeError("the program is partitioned for a grid of ", devices, " devices, but runs on ",
                    worldSize, " rank", worldSize == 1 ? "" : "s", " (launch with mpirun -np ",
                    devices, ")");
  int64_t rankCount = static_cast<int64_t>(gridShape.size());
  for (int64_t a : axes)
    if (a < 0 || a >= rankCount)
      throw makeError("grid axis ", a, " of a ", rankCount, "-d grid");
  // The caller's coordinates, last axis fastest.
  std::vector<int64_t> coord(gridShape.size());
  for (int64_t i = rankCount - 1, r = rank; i >= 0; --i) {
    coord[i] = r % gridShape[i];
    r /= gridShape[i];
  }
  // Walk the axes' multi-index, first axis slowest.
  int64_t members = 1;
  for (int64_t a : axes)
    members *= gridShape[a];
  std::vector<int> group;
  for (int64_t m = 0; m < members; ++m) {
    std::vector<int64_t> c = coord;
    for (int64_t i = static_cast<int64_t>(axes.size()) - 1, r = m; i >= 0; --i) {
      c[axes[i]] = r % gridShape[axes[i]];
      r /= gridShape[axes[i]];
    }
    int64_t linear = 0;
    for (int64_t i = 0; i < rankCount; ++i)
      linear = linear * gridShape[i] + c[i];
    group.push_back(static_cast<int>(linear));
  }
  return group;
}

} // namespace mm::dist
