//===- ReferencePolicy.h - the frozen policy of the KL penalty --*- C++ -*-===//
//
// With --kl-coef, the RL loss adds a KL estimate to the starting policy. Its
// log-probs of the sampled tokens come from the same @loss graph (without the
// KL term) compiled forward-only for the host, with the starting weights
// bound once.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_REFERENCEPOLICY_H
#define MM_TRAINING_REFERENCEPOLICY_H

#include "frontends/ModelConfig.h"
#include "models/MiniMaxBuilder.h"
#include "training/TrainCheckpoint.h"

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace mm {
class HostBackend;
}

namespace mm::train {

class ReferencePolicy {
public:
  ReferencePolicy(const MiniMaxConfig &config, MiniMaxGraphOptions::PolicyObjective objective,
                  int64_t batch, int64_t seqLen, const TensorMap &weights,
                  const std::string &cacheDir, std::ostream &log);
  ~ReferencePolicy();

  /// Log-probs [B, T] of `labels` under the starting weights, for @loss's
  /// inputs without ref_logprobs (ids, labels, positions, old_logprobs,
  /// advantages, mask, normalizer).
  Tensor logprobs(const std::vector<Tensor> &inputs);

private:
  std::unique_ptr<HostBackend> backend_;
};

} // namespace mm::train

#endif // MM_TRAINING_REFERENCEPOLICY_H
