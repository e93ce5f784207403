//===- WeightShard.h - a rank's part of a split weight ----------*- C++ -*-===//
//
// A weight that a partitioned program splits over a device grid is bound as
// the rank's part only: the executors ask their binder for the whole tensor
// (one at a time) and keep the rank's rows / columns, so a rank holds 1/parts
// of every split weight. Described per tensor dim by the grid axes that split
// it (shard.sharding's split_axes), with shard.grid's row-major device order.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_DIST_WEIGHTSHARD_H
#define MM_RUNTIME_DIST_WEIGHTSHARD_H

#include "runtime/Tensor.h"
#include "runtime/WeightBinder.h"
#include "runtime/dist/Collectives.h"

#include <vector>

namespace mm::dist {

struct WeightShard {
  std::vector<int64_t> gridShape;
  std::vector<std::vector<int64_t>> splitAxes; // per tensor dim; empty: whole

  /// The whole weight's shape, from the shape of one rank's part.
  Shape wholeShape(const Shape &part) const;
  /// `rank`'s part of `whole`. Throws when a split dim does not divide.
  Tensor partOf(const Tensor &whole, int rank) const;
  /// Where `rank`'s part lies in a weight of shape `whole`.
  WeightBlock blockOf(const Shape &whole, int rank) const;
  /// The whole weight from every rank's `part` (a collective over the ranks
  /// along the axes that split it; replicas along other axes gather their
  /// own: each calls it with its own part; `what` names it in a timeout).
  Tensor wholeOf(const Tensor &part, Collectives &ranks, const std::string &what) const;
  /// `rank`'s part of the weight `name` whose part has shape `part`: read as
  /// a block where the binder can, else cut from the whole weight.
  Tensor bind(const WeightBinder &binder, const std::string &name, const Shape &part, DType dtype,
              int rank) const;
};

} // namespace mm::dist

#endif // MM_RUNTIME_DIST_WEIGHTSHARD_H
