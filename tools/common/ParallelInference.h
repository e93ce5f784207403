//===- ParallelInference.h - --parallel for mm-run and AOT binaries -*- C++ -*-===//
#ifndef MM_TOOLS_COMMON_PARALLELINFERENCE_H
#define MM_TOOLS_COMMON_PARALLELINFERENCE_H

#include "frontends/ModelConfig.h"

#include <cstdint>
#include <string>

namespace mm {

/// One group of `tp` ranks runs a request: attention split over all of
/// them, experts over `ep` of them, each expert's FFN width over `etp`.
struct InferenceParallelism {
  int64_t tp = 1, ep = 1, etp = 1;
};

/// What `--parallel` text asks of inference on the current world (mpirun's
/// ranks): the layout parsed, and what inference cannot split yet (cp,
/// dp > 1; heads, KV heads or experts that do not divide) refused with the
/// flag and the config field named.
InferenceParallelism inferenceParallelism(const std::string &parallel,
                                          const MiniMaxConfig &config);

/// Under mpirun, rank 0 alone prints to stdout (the others' reports would
/// repeat it); errors still reach stderr from every rank.
void printOnRankZeroOnly();

} // namespace mm

#endif // MM_TOOLS_COMMON_PARALLELINFERENCE_H
