//===- ForwardBackend.h - what the inference engine runs --------*- C++ -*-===//
#ifndef MM_RUNTIME_ENGINE_FORWARDBACKEND_H
#define MM_RUNTIME_ENGINE_FORWARDBACKEND_H

#include "runtime/Error.h"
#include "runtime/Tensor.h"
#include "runtime/WeightBinder.h"

namespace mm {

/// Runs the model's `@forward` (models/MiniMaxBuilder.h) one step at a time.
/// The backend owns the KV caches and lightning states, wherever they live
/// (host memory for the reference and host backends, device memory for CUDA),
/// so the engine never copies them.
class ForwardBackend {
public:
  virtual ~ForwardBackend() = default;
  /// Starts a batch: empty caches for `batch` sequences of up to `capacity`
  /// tokens each.
  virtual void reset(int64_t batch, int64_t capacity) = 0;
  /// One prefill or decode step on the current caches. `ids` and `positions`
  /// are [B, T]; `cachePositions` and `lengths` are [B]. Returns host logits,
  /// [B, vocab] (last real token) or [B, T, vocab] with allLogits().
  virtual Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
                      const Tensor &lengths) = 0;
  /// True if the logits cover every position.
  virtual bool allLogits() const = 0;
  /// A short name for reports ("reference", "cpu", "cuda").
  virtual const char *name() const = 0;
  /// Bytes of weights this process holds (a tensor-parallel rank: its
  /// parts); 0 where the backend does not count them.
  virtual uint64_t weightBytes() const { return 0; }
  /// Copies new values into the bound weights (same names, shapes and
  /// storage types): a trainer hands its weights to the engine in memory.
  virtual void rebindWeights(const WeightBinder &weights) {
    (void)weights;
    throw makeError("the ", name(), " backend cannot take new weights in memory");
  }
  /// MiniMax-VL-01: the rows [I, hidden] that replace the image-token
  /// embeddings of the next step, in batch-then-position order; a step
  /// without them has no image tokens. Backends that cannot take images say so.
  virtual void setImageFeatures(Tensor features) {
    (void)features;
    throw makeError("the ", name(), " backend does not take images yet (use --backend reference)");
  }
};

} // namespace mm

#endif // MM_RUNTIME_ENGINE_FORWARDBACKEND_H
