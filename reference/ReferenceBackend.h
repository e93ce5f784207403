//===- ReferenceBackend.h - the engine on the reference executor -*- C++ -*-===//
#ifndef MM_REFERENCE_REFERENCEBACKEND_H
#define MM_REFERENCE_REFERENCEBACKEND_H

#include "frontends/MiniMaxWeights.h"
#include "reference/Executor.h"
#include "runtime/engine/ForwardBackend.h"

#include <memory>

namespace mm {

/// Builds the MiniMax graph for `config` and runs it with the reference
/// executor, binding weights from `loader` on first use.
class ReferenceBackend : public ForwardBackend {
public:
  ReferenceBackend(const MiniMaxConfig &config, const minimax::WeightLoader &loader,
                   ExecutorOptions options, bool allLogits);
  ~ReferenceBackend() override;

  std::vector<Tensor> forward(std::vector<Tensor> inputs) override;
  DType precision() const override;
  bool allLogits() const override { return allLogits_; }

private:
  struct Graph;
  std::unique_ptr<Graph> graph_;
  bool allLogits_;
};

} // namespace mm

#endif // MM_REFERENCE_REFERENCEBACKEND_H
