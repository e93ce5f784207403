//===- CollectivePlan.h - what the runtime does at a collective launch -*- C++ -*-===//
//
// A collective in a compiled program is a kernel (the copy of its input into
// its result) plus this plan, stored as the kernel's launch_plan JSON: the
// runtime then reduces the result over the ranks of the group that the
// shard.grid's shape and axes give (gridGroup). Written by codegen, read by
// the backends.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_DIST_COLLECTIVEPLAN_H
#define MM_RUNTIME_DIST_COLLECTIVEPLAN_H

#include "runtime/dist/Collectives.h"

#include <optional>
#include <string>
#include <vector>

namespace mm::dist {

struct CollectivePlan {
  std::string kind = "all_reduce"; // all_reduce, all_gather, all_slice, reduce_scatter
  Reduction reduction = Reduction::Sum; // all_reduce, reduce_scatter
  std::vector<int64_t> gridShape, axes;
  int64_t axis = 0; // the tensor axis all_gather concatenates, all_slice / reduce_scatter split
  // all_gather of a dynamic axis: the pieces' lengths may differ (a context-
  // parallel chunk of any prompt), so they are exchanged first.
  bool uneven = false;

  std::string json() const;
  /// Throws mm::Error naming `where` (the kernel's location) on a bad plan.
  static CollectivePlan parse(const std::string &json, const std::string &where);
};

const char *reductionName(Reduction r);
std::optional<Reduction> parseReduction(const std::string &name);

} // namespace mm::dist

#endif // MM_RUNTIME_DIST_COLLECTIVEPLAN_H
