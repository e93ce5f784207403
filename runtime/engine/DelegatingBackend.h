//===- DelegatingBackend.h - a backend wrapped by another -------*- C++ -*-===//
#ifndef MM_RUNTIME_ENGINE_DELEGATINGBACKEND_H
#define MM_RUNTIME_ENGINE_DELEGATINGBACKEND_H

#include "runtime/engine/ForwardBackend.h"

#include <memory>

namespace mm {

/// Forwards every call to `inner`; a wrapper overrides what it adds to (the
/// step's logits: recording them, agreeing on them across ranks).
class DelegatingBackend : public ForwardBackend {
public:
  explicit DelegatingBackend(std::unique_ptr<ForwardBackend> inner) : inner_(std::move(inner)) {}
  void reset(int64_t batch, int64_t capacity) override { inner_->reset(batch, capacity); }
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override {
    return inner_->step(ids, positions, cachePositions, lengths);
  }
  bool allLogits() const override { return inner_->allLogits(); }
  const char *name() const override { return inner_->name(); }
  uint64_t weightBytes() const override { return inner_->weightBytes(); }
  void setImageFeatures(Tensor features) override { inner_->setImageFeatures(std::move(features)); }
  void rebindWeights(const WeightBinder &weights) override { inner_->rebindWeights(weights); }

private:
  std::unique_ptr<ForwardBackend> inner_;
};

} // namespace mm

#endif // MM_RUNTIME_ENGINE_DELEGATINGBACKEND_H
