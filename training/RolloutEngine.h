//===- RolloutEngine.h - the compiled inference engine of an RL run -*- C++ -*-===//
//
// The policy's rollouts come from mmc's own engine: @forward compiled for the
// host or for CUDA (cached under the run directory), prefill and decode with
// KV caches and lightning states, temperature sampling with the sampled
// tokens' log-probs. The trainer hands it new weights in memory after each
// update (ForwardBackend::rebindWeights), no disk round trip. Weights are stored as
// bf16 (as a serving engine would) or float32; --lm-head-fp32 keeps the LM
// head in float32 (MiniMax-M1's fix for the train / inference mismatch).
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_ROLLOUTENGINE_H
#define MM_TRAINING_ROLLOUTENGINE_H

#include "frontends/ModelConfig.h"
#include "runtime/engine/Engine.h"
#include "training/TrainCheckpoint.h"

#include <iosfwd>
#include <memory>
#include <string>

namespace mm {
class ForwardBackend;
}

namespace mm::train {

struct RolloutEngineOptions {
  int64_t maxBatch = 1, maxPromptTokens = 1, maxNewTokens = 1;
  bool bf16Weights = true;
  bool lmHeadFp32 = false;
  bool cuda = false;    // compiled for CUDA (the GPU found when loaded), else the host
  std::string cacheDir; // empty: no cache
};

class RolloutEngine {
public:
  RolloutEngine(const MiniMaxConfig &config, const std::string &configText,
                const TensorMap &weights, const RolloutEngineOptions &options, std::ostream &log);
  ~RolloutEngine();

  /// Replaces the engine's weights with `weights` (same names and shapes).
  void loadWeights(const TensorMap &weights);

  /// Generates for any number of prompts, in batches of at most maxBatch;
  /// a seeded call is reproducible.
  GenerationResult generate(const std::vector<std::vector<int64_t>> &prompts,
                            const GenerationOptions &options);

private:
  MiniMaxConfig config_;
  RolloutEngineOptions options_;
  std::unique_ptr<ForwardBackend> backend_;
};

} // namespace mm::train

#endif // MM_TRAINING_ROLLOUTENGINE_H
