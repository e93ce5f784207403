//===- ReferenceBackend.h - the engine on the reference executor -*- C++ -*-===//
#ifndef MM_REFERENCE_REFERENCEBACKEND_H
#define MM_REFERENCE_REFERENCEBACKEND_H

#include "frontends/MiniMaxWeights.h"
#include "passes/Pipelines.h"
#include "reference/Executor.h"
#include "runtime/engine/ForwardBackend.h"

#include <memory>
#include <optional>

namespace mm {

/// Builds the MiniMax graph for `config` and runs it with the reference
/// executor. With `fused`, the graph first goes through the compiler's
/// mm-inference-pipeline (fusion into mm.kernel ops, memory planning), so the
/// executor checks that compilation preserves the model's numbers.
class ReferenceBackend : public ForwardBackend {
public:
  /// With `imageTokenId` (MiniMax-VL-01) the graph merges image features.
  /// With `parallelism.tp` > 1 the graph is this rank's part of a
  /// model-parallel program (passes/Pipelines.h: buildModelParallelPipeline)
  /// and the caches and states hold this rank's heads.
  ReferenceBackend(const MiniMaxConfig &config, const minimax::WeightLoader &loader,
                   ExecutorOptions options, bool allLogits, bool fused = false,
                   std::optional<int64_t> imageTokenId = std::nullopt,
                   ModelParallelism parallelism = {});
  ~ReferenceBackend() override;

  void reset(int64_t batch, int64_t capacity) override;
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override;
  bool allLogits() const override { return allLogits_; }
  const char *name() const override { return "reference"; }
  uint64_t weightBytes() const override;
  void setImageFeatures(Tensor features) override;

  /// Runs @forward on explicit inputs (tests of the graph's state semantics).
  std::vector<Tensor> forward(std::vector<Tensor> inputs);

private:
  struct Graph;
  std::unique_ptr<Graph> graph_;
  const MiniMaxConfig &config_;
  bool allLogits_;
  ModelParallelism parallelism_;
  std::vector<Tensor> state_;
  bool stepped_ = false; // reset has run
  std::optional<int64_t> imageTokenId_;
  Tensor imageFeatures_; // for the next step only
};

} // namespace mm

#endif // MM_REFERENCE_REFERENCEBACKEND_H
