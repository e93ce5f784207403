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
#include "runtime/engine/ForwardBackend.h"

#include <memory>

namespace mm {

class RankZeroLogits : public ForwardBackend {
public:
  explicit RankZeroLogits(std::unique_ptr<ForwardBackend> inner) : inner_(std::move(inner)) {}
  void reset(int64_t batch, int64_t capacity) override { inner_->reset(batch, capacity); }
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override {
    Tensor logits = inner_->step(ids, positions, cachePositions, lengths);
    dist::world().broadcast(logits.raw(), logits.numel(), logits.dtype(), 0, "the step's logits");
    return logits;
  }
  bool allLogits() const override { return inner_->allLogits(); }
  const char *name() const override { return inner_->name(); }
  uint64_t weightBytes() const override { return inner_->weightBytes(); }
  void setImageFeatures(Tensor features) override { inner_->setImageFeatures(std::move(features)); }

private:
  std::unique_ptr<ForwardBackend> inner_;
};

} // namespace mm

#endif // MM_TOOLS_COMMON_RANKZEROLOGITS_H
