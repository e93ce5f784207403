//===- ForwardBackend.h - what the inference engine runs --------*- C++ -*-===//
#ifndef MM_RUNTIME_ENGINE_FORWARDBACKEND_H
#define MM_RUNTIME_ENGINE_FORWARDBACKEND_H

#include "runtime/Tensor.h"

#include <vector>

namespace mm {

/// Something that runs the `@forward` function of models/MiniMaxBuilder.h:
/// the reference executor today, compiled host or CUDA code later.
class ForwardBackend {
public:
  virtual ~ForwardBackend() = default;
  /// Inputs and results in the order of MiniMaxBuilder.h. Callers hand the
  /// caches over (move them in) so a backend may update them in place.
  virtual std::vector<Tensor> forward(std::vector<Tensor> inputs) = 0;
  /// Float type of activations, caches and states.
  virtual DType precision() const = 0;
  /// True if the logits cover every position ([B, T, vocab]).
  virtual bool allLogits() const = 0;
};

} // namespace mm

#endif // MM_RUNTIME_ENGINE_FORWARDBACKEND_H
