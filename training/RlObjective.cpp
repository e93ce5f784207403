//===- RlObjective.cpp ----------------------------------------------------===//
#include "training/RlObjective.h"
#include "runtime/Error.h"

#include <cmath>

namespace mm::train {

RlObjective objectivePreset(const std::string &name) {
  RlObjective o;
  o.name = name;
  auto &l = o.loss;
  if (name == "cispo") {
    l.cispo = true;
    l.epsLow = 10; // no lower bound on the weight, as the report and verl's example
    l.epsHigh = 0.2;
    o.dynamicSampling = o.overlongPenalty = true;
  } else if (name == "ppo_clip") {
    l.cispo = false;
    l.dualClip = 3;
  } else if (name == "dapo") {
    l.cispo = false;
    l.epsHigh = 0.28; // clip-higher
    l.dualClip = 3;
    o.dynamicSampling = o.overlongPenalty = true;
  } else if (name == "grpo") {
    l.cispo = false;
    l.perSequence = true;
  } else {
    throw makeError("--objective '", name, "': expected cispo, ppo_clip, dapo or grpo");
  }
  return o;
}

std::vector<double> groupAdvantages(const std::vector<double> &rewards, int64_t groupSize) {
  if (groupSize < 2)
    throw makeError("--group-size ", groupSize, ": the group-relative advantage needs at least "
                    "2 responses per prompt");
  if (rewards.size() % static_cast<size_t>(groupSize) != 0)
    throw makeError(rewards.size(), " rewards do not form groups of ", groupSize);
  std::vector<double> advantages(rewards.size());
  for (size_t g = 0; g < rewards.size(); g += groupSize) {
    double mean = 0, squares = 0;
    for (int64_t i = 0; i < groupSize; ++i)
      mean += rewards[g + i];
    mean /= double(groupSize);
    for (int64_t i = 0; i < groupSize; ++i)
      squares += (rewards[g + i] - mean) * (rewards[g + i] - mean);
    double std = std::sqrt(squares / double(groupSize - 1));
    for (int64_t i = 0; i < groupSize; ++i)
      advantages[g + i] = (rewards[g + i] - mean) / (std + 1e-6);
  }
  return advantages;
}

double overlongPenalty(int64_t length, int64_t maxLength, int64_t buffer) {
  int64_t expected = maxLength - buffer;
  if (buffer <= 0 || length <= expected)
    return 0;
  if (length > maxLength)
    return -1;
  return double(expected - length) / double(buffer);
}

} // namespace mm::train
