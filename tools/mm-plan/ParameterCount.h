//===- ParameterCount.h - MiniMax parameters, whole or per rank -*- C++ -*-===//
//
// Counts from the config fields alone (layer kinds from the config's list):
// at full size 456.09B in total and 45.94B active per token without the
// embedding and the LM head, the figures the MiniMax-01 report publishes.
// With a layout, the counts are what one rank holds: attention heads, the
// embedding and the LM head split over tp (KV heads replicated past their
// count), experts over ep and their FFN width over etp; norms and the router
// are replicated.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TOOLS_MMPLAN_PARAMETERCOUNT_H
#define MM_TOOLS_MMPLAN_PARAMETERCOUNT_H

#include "frontends/ModelConfig.h"
#include "frontends/ParallelLayout.h"

#include <cstdint>

namespace mm::plan {

struct ParameterCounts {
  int64_t embedding = 0, lmHead = 0; // vocab x hidden each (the head is 0 when tied)
  int64_t attention = 0;             // projections and the lightning output norm, every layer
  int64_t router = 0;                // every layer
  int64_t experts = 0;               // every layer, every expert (of this rank)
  int64_t norms = 0;                 // the two block norms per layer and the final norm
  int64_t activeExperts = 0;         // the top-k experts a token runs, every layer

  int64_t total() const { return embedding + lmHead + attention + router + experts + norms; }
  /// Replicated over dp x cp (everything but the experts).
  int64_t dense() const { return total() - experts; }
  /// Per token, without the embedding and the LM head (how the reports count).
  int64_t active() const { return attention + router + activeExperts + norms; }
};

/// Parameters of the whole model (the default layout) or of one rank under `layout`,
/// which must have passed checkLayoutFitsModel.
ParameterCounts countParameters(const MiniMaxConfig &config, const ParallelLayout &layout = {});

} // namespace mm::plan

#endif // MM_TOOLS_MMPLAN_PARAMETERCOUNT_H
