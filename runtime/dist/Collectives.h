//===- Collectives.h - the ranks of a distributed run -----------*- C++ -*-===//
//
// What a partitioned program needs from the machine: its rank, the world size,
// and collectives over groups of ranks. One process-wide instance, as
// torch.distributed's default process group: the compiled backends and the
// reference executor run a program's shard.* collectives through `world()`.
// A plain run is world size 1, where every collective is the identity; an
// mpirun launch installs MPI (MpiCollectives.h). No MLIR here: AOT binaries
// link it.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_DIST_COLLECTIVES_H
#define MM_RUNTIME_DIST_COLLECTIVES_H

#include "runtime/Tensor.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace mm::dist {

enum class Reduction { Sum, Max, Min, Product };

/// A group is the world ranks taking part, holding the caller, in the order
/// their pieces combine (gridGroup's order). `what` names the collective in
/// timeout and failure messages (the op's location, the tensor).
class Collectives {
public:
  virtual ~Collectives() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  /// In place over the group's ranks.
  virtual void allReduce(void *data, int64_t count, DType dtype, Reduction op,
                         const std::vector<int> &group, const std::string &what) = 0;
  /// `in` holds `count` elements; `out` the group's, in group order.
  virtual void allGather(const void *in, void *out, int64_t count, DType dtype,
                         const std::vector<int> &group, const std::string &what) = 0;
  /// `in` holds the group's pieces of `count` elements each, in group order;
  /// `out` gets the reduction of the caller's piece over the group.
  virtual void reduceScatter(const void *in, void *out, int64_t count, DType dtype, Reduction op,
                             const std::vector<int> &group, const std::string &what) = 0;
  /// Rank `root`'s data to every rank of the world.
  virtual void broadcast(void *data, int64_t count, DType dtype, int root,
                         const std::string &what) = 0;
  virtual void barrier(const std::string &what) = 0;
};

/// One process: every group is {0}.
class SingleProcess final : public Collectives {
public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  void allReduce(void *, int64_t, DType, Reduction, const std::vector<int> &group,
                 const std::string &what) override;
  void allGather(const void *in, void *out, int64_t count, DType dtype,
                 const std::vector<int> &group, const std::string &what) override;
  void reduceScatter(const void *in, void *out, int64_t count, DType dtype, Reduction op,
                     const std::vector<int> &group, const std::string &what) override;
  void broadcast(void *, int64_t, DType, int root, const std::string &what) override;
  void barrier(const std::string &) override {}
};

/// The process's ranks: SingleProcess until setWorld.
Collectives &world();
void setWorld(std::unique_ptr<Collectives> collectives);

/// The world ranks that share the caller's coordinates on every axis of
/// `gridShape` except `axes` (shard.grid's row-major device order, last axis
/// fastest): the group a collective over those grid axes spans. In the
/// order of the axes' multi-index, as shard.all_gather concatenates. Throws
/// when the grid's device count is not `worldSize`.
std::vector<int> gridGroup(const std::vector<int64_t> &gridShape, const std::vector<int64_t> &axes,
                           int rank, int worldSize);

} // namespace mm::dist

#endif // MM_RUNTIME_DIST_COLLECTIVES_H
