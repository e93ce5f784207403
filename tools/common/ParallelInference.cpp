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
  if (layout.cp > 1 || layout.etp > 1)
    throw makeError(flag, ": inference splits tp and ep only so far (cp and etp are refused)");
  if (layout.dp > 1)
    throw makeError(flag, " leaves dp=", layout.dp,
                    ": every rank of one request must be in its tensor-parallel group (give tp=",
                    world, ")");
  // (checkLayoutFitsModel asks more, for splits not built here yet: the
  // embedding and LM head stay whole, so the vocabulary need not divide.)
  if (config.numHeads % layout.tp != 0)
    throw makeError(flag, ": ", config.source, ": num_attention_heads ", config.numHeads,
                    " does not split over tp=", layout.tp);
  if (config.numKvHeads % layout.tp != 0)
    throw makeError(flag, ": ", config.source, ": num_key_value_heads ", config.numKvHeads,
                    " does not split over tp=", layout.tp,
                    " (replicated KV heads are not built yet)");
  // The MoE part: ep of the tp ranks hold a block of the experts each; the
  // rest of the MoE world (edp) holds replicas.
  if (config.numExperts % layout.ep != 0)
    throw makeError(flag, ": ", config.source, ": num_local_experts ", config.numExperts,
                    " does not split over ep=", layout.ep);
  return {layout.tp, layout.ep};
}

void printOnRankZeroOnly() {
  if (dist::world().rank() != 0)
    std::cout.setstate(std::ios::badbit);
}

} // namespace mm
