//===- ParallelInference.cpp ----------------------------------------------===//
#include "tools/common/ParallelInference.h"
#include "frontends/ParallelLayout.h"
#include "runtime/Error.h"
#include "runtime/dist/Collectives.h"

#include <iostream>

namespace mm {

InferenceParallelism inferenceParallelism(const std::string &parallel,
                                          const MiniMaxConfig &config) {
  int64_t world = dist::world().size();
  if (parallel.empty() && world == 1)
    return {};
  ParallelLayout layout = parseParallelLayout(parallel, world);
  std::string flag = "--parallel '" + parallel + "' on " + std::to_string(world) + " rank(s)";
  if (layout.cp > 1)
    throw makeError(flag, ": inference splits tp, ep and etp only so far (cp is refused)");
  if (layout.dp > 1)
    throw makeError(flag, " leaves dp=", layout.dp,
                    ": every rank of one request must be in its tensor-parallel group (give tp=",
                    world, ")");
  // (checkLayoutFitsModel asks more, for splits not built here yet: the
  // vocabulary stays whole where it does not divide.) The MoE part: ep of
  // the tp ranks hold a block of the experts each; the rest (edp) replicas.
  if (std::string why = modelParallelMismatch(config, layout.tp, layout.ep, layout.etp);
      !why.empty())
    throw makeError(flag, ": ", config.source, ": ", why);
  return {layout.tp, layout.ep, layout.etp};
}

void printOnRankZeroOnly() {
  if (dist::world().rank() != 0)
    std::cout.setstate(std::ios::badbit);
}

} // namespace mm
