//===- Engine.h - prefill and decode with KV and lightning caches -*- C++ -*-===//
//
// Generation for a batch of prompts of different lengths: one prefill of the
// right-padded batch, then one decode step per new token. Softmax layers keep
// a KV cache of capacity (longest prompt + max new tokens); lightning layers
// keep their constant-size [heads, d, d] state.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_ENGINE_ENGINE_H
#define MM_RUNTIME_ENGINE_ENGINE_H

#include "frontends/ModelConfig.h"
#include "runtime/engine/ForwardBackend.h"
#include "runtime/engine/Sampler.h"

#include <vector>

namespace mm {

struct GenerationOptions {
  int64_t maxNewTokens = 16;
  SamplingParams sampling;
  /// A sequence ends after emitting one of these (it is kept in the output).
  std::vector<int64_t> stopTokens;
  /// Never sampled (their logits are set to -inf first), as vLLM's bad words:
  /// MiniMax-VL-01's image token, which only a prompt may hold.
  std::vector<int64_t> bannedTokens;
  /// Record each generated token's log-probability under softmax(logits /
  /// temperature) (temperature 1 when greedy), before top-k / top-p.
  bool logprobs = false;
  /// Early truncation of repetition loops (MiniMax-M1): a sequence stops once
  /// `repeatWindow` consecutive tokens each had probability above
  /// `repeatProbability` (0: never).
  int64_t repeatWindow = 0;
  double repeatProbability = 0.99;
  /// Sequence b of the call samples from stream (seed, firstSequence + b):
  /// a share of a larger batch (another rank's, another chunk's) samples as
  /// it would inside it.
  int64_t firstSequence = 0;
};

struct GenerationResult {
  std::vector<std::vector<int64_t>> tokens;   // generated ids per prompt
  std::vector<std::vector<double>> logprobs;  // per token, with options.logprobs
  std::vector<bool> truncated;                // stopped by the repetition rule
  int64_t promptTokens = 0;
  int64_t generatedTokens = 0;
  double prefillSeconds = 0, decodeSeconds = 0;
  int64_t decodeSteps = 0;
};

class InferenceEngine {
public:
  InferenceEngine(const MiniMaxConfig &config, ForwardBackend &backend);

  GenerationResult generate(const std::vector<std::vector<int64_t>> &prompts,
                            const GenerationOptions &options);

  /// Logits [T, vocab] of every position of one sequence, in one prefill
  /// (the backend must be built with all logits).
  Tensor scoreAll(const std::vector<int64_t> &ids);

private:
  void checkIds(const std::vector<int64_t> &ids, size_t prompt) const;

  const MiniMaxConfig &config_;
  ForwardBackend &backend_;
};

} // namespace mm

#endif // MM_RUNTIME_ENGINE_ENGINE_H
