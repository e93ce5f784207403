//===- RankZeroLogits.h - every rank steps on rank 0's logits ---*- C++ -*-===//
//
// Under tensor parallelism every rank runs the LM head on the same reduced
// activations, so their logits agree unless two ranks' all-reduces summed in
// different orders. Sampling on logits that differ by one rounding could pick
// different tokens and split the ranks' sequences; as vLLM and Megatron do,
// rank 0's logits (vocab floats per sequence) are broadcast before sampling.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TOOLS_COMMON_RANKZEROLOGITS_H
#define MM_TOOLS_COMMON_RANKZEROLOGITS_H

#include "runtime/dist/Collectives.h"
#include "runtime/engine/DelegatingBackend.h"

namespace mm {

class RankZeroLogits : public DelegatingBackend {
public:
  using DelegatingBackend::DelegatingBackend;
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override {
    Tensor logits = DelegatingBackend::step(ids, positions, cachePositions, lengths);
    dist::world().broadcast(logits.raw(), logits.numel(), logits.dtype(), 0, "the step's logits");
    return logits;
  }
};

} // namespace mm

#endif // MM_TOOLS_COMMON_RANKZEROLOGITS_H
