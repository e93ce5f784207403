//===- ParallelInference.h - --parallel for mm-run and AOT binaries -*- C++ -*-===//
#ifndef MM_TOOLS_COMMON_PARALLELINFERENCE_H
#define MM_TOOLS_COMMON_PARALLELINFERENCE_H

#include "frontends/ModelConfig.h"

#include <cstdint>
#include <string>

namespace mm {

/// The tensor-parallel group size that `--parallel` text asks of inference
/// on the current world (mpirun's ranks): the layout parsed, and what
/// inference cannot split yet (cp, ep, etp, dp > 1; heads or KV heads that do
/// not divide) refused with the flag and the config field named.
int64_t inferenceTensorParallel(const std::string &parallel, const MiniMaxConfig &config);

/// Under mpirun, rank 0 alone prints to stdout (the others' reports would
/// repeat it); errors still reach stderr from every rank.
void printOnRankZeroOnly();

} // namespace mm

#endif // MM_TOOLS_COMMON_PARALLELINFERENCE_H
