//===- CollectiveOps.h - shard collectives on dense buffers -----*- C++ -*-===//
//
// The tensor-level meaning of a compiled or interpreted shard.* collective,
// shared by the reference executor and the compiled backends so both run the
// same code: all_reduce (in place over the group), all_gather (concatenate
// the group's pieces along an axis), all_slice (keep this rank's piece of
// an axis; no communication) and reduce_scatter (reduce, keep this rank's
// piece of the leading axis).
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_DIST_COLLECTIVEOPS_H
#define MM_RUNTIME_DIST_COLLECTIVEOPS_H

#include "runtime/dist/CollectivePlan.h"

namespace mm::dist {

/// The caller's group for `plan` on dist::world(); throws when the grid does
/// not match the world size.
std::vector<int> groupOf(const CollectivePlan &plan);

/// The result's shape from the input's (an interpreter allocates it).
Shape collectiveResultShape(const CollectivePlan &plan, Shape inputShape, int64_t members);

/// The input's shape as the collective reads it, from its result's: a
/// compiled input buffer may be a reshape's source, stored under another
/// shape with the same elements.
Shape collectiveInputShape(const CollectivePlan &plan, Shape resultShape, int64_t members);

/// The length of each group member's piece along an all_gather's axis, in
/// group order: exchanged (one small all_gather) when the plan is uneven,
/// else the caller's own for every member.
std::vector<int64_t> gatherPieces(const CollectivePlan &plan, const std::vector<int> &group,
                                  const Shape &inShape, const std::string &what);

/// An all_gather's result shape from the input's and the pieces' lengths.
Shape gatheredShape(Shape inShape, int64_t axis, const std::vector<int64_t> &pieces);

/// Runs `plan` from `in` (of `inShape`) into `out` (of `outShape`), which
/// may alias `in` for all_reduce. Throws naming `what` on a shape that does
/// not fit the plan. An all_gather takes its `pieces` (gatherPieces) when
/// the caller has them.
void runCollective(const CollectivePlan &plan, const std::vector<int> &group, const void *in,
                   const Shape &inShape, void *out, const Shape &outShape, DType dtype,
                   const std::string &what, const std::vector<int64_t> *pieces = nullptr);

} // namespace mm::dist

#endif // MM_RUNTIME_DIST_COLLECTIVEOPS_H
