//===- Sampler.h - next-token sampling --------------------------*- C++ -*-===//
#ifndef MM_RUNTIME_ENGINE_SAMPLER_H
#define MM_RUNTIME_ENGINE_SAMPLER_H

#include <cstdint>
#include <random>
#include <vector>

namespace mm {

struct SamplingParams {
  /// Argmax (ties to the lowest id); the other fields are then ignored.
  bool greedy = true;
  double temperature = 1.0;
  /// Keep the k most likely tokens (0: all).
  int64_t topK = 0;
  /// Keep the smallest set whose probability reaches p (1: all).
  double topP = 1.0;
  uint64_t seed = 0;

  /// Throws mm::Error for a non-positive temperature, p outside (0, 1], k < 0.
  void validate() const;
};

/// One sampler per sequence; its stream is fixed by (seed, sequence index), so
/// a seeded run is reproducible whatever the batch composition.
class Sampler {
public:
  Sampler(const SamplingParams &params, uint64_t sequenceIndex);
  /// Picks a token from `vocab` logits.
  int64_t sample(const double *logits, int64_t vocab);

private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<double, int64_t>> scratch_;
};

} // namespace mm

#endif // MM_RUNTIME_ENGINE_SAMPLER_H
