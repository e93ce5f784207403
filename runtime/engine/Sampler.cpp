//===- Sampler.cpp - greedy, temperature, top-k, top-p --------------------===//
#include "runtime/engine/Sampler.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cmath>

namespace mm {

void SamplingParams::validate() const {
  if (greedy)
    return;
  if (!(temperature > 0) || !std::isfinite(temperature))
    throw makeError("sampling: temperature must be positive, got ", temperature);
  if (!(topP > 0 && topP <= 1))
    throw makeError("sampling: top-p must be in (0, 1], got ", topP);
  if (topK < 0)
    throw makeError("sampling: top-k must be >= 0, got ", topK);
}

Sampler::Sampler(const SamplingParams &params, uint64_t sequenceIndex)
    : params_(params), rng_(params.seed * 0x9E3779B97F4A7C15ull + sequenceIndex) {
  params_.validate();
}

int64_t Sampler::sample(const double *logits, int64_t vocab) {
  if (params_.greedy) {
    int64_t best = 0;
    for (int64_t i = 1; i < vocab; ++i)
      if (logits[i] > logits[best])
        best = i;
    return best;
  }
  // Candidates sorted by logit, descending (ties: lower id first).
  scratch_.resize(vocab);
  for (int64_t i = 0; i < vocab; ++i)
    scratch_[i] = {logits[i] / params_.temperature, i};
  std::stable_sort(scratch_.begin(), scratch_.end(),
                   [](const auto &a, const auto &b) { return a.first > b.first; });
  int64_t keep = params_.topK > 0 ? std::min(params_.topK, vocab) : vocab;
  double maxLogit = scratch_[0].first, total = 0;
  for (int64_t i = 0; i < keep; ++i)
    total += scratch_[i].first = std::exp(scratch_[i].first - maxLogit);
  if (params_.topP < 1) {
    double mass = 0;
    int64_t n = 0;
    while (n < keep) {
      mass += scratch_[n++].first / total;
      if (mass >= params_.topP)
        break;
    }
    keep = n;
    total = 0;
    for (int64_t i = 0; i < keep; ++i)
      total += scratch_[i].first;
  }
  double u = std::uniform_real_distribution<double>(0.0, total)(rng_);
  for (int64_t i = 0; i < keep; ++i) {
    u -= scratch_[i].first;
    if (u < 0)
      return scratch_[i].second;
  }
  return scratch_[keep - 1].second;
}

} // namespace mm
