//===- RlObjective.h - CISPO, PPO-clip, DAPO and GRPO settings --*- C++ -*-===//
//
// What each --objective of `mm-train rl` means (docs/rl.md has the table):
//
//   objective  loss      eps_low/high  dual clip  normalised per  dynamic sampling, overlong
//   cispo      cispo     10 / 0.2      -          token           yes (as MiniMax-M1)
//   ppo_clip   ppo_clip  0.2 / 0.2     3          token           no
//   dapo       ppo_clip  0.2 / 0.28    3          token           yes
//   grpo       ppo_clip  0.2 / 0.2     -          sequence        no
//
// and the group-relative advantage and DAPO's overlong penalty they share.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_RLOBJECTIVE_H
#define MM_TRAINING_RLOBJECTIVE_H

#include "models/MiniMaxBuilder.h"

#include <string>
#include <vector>

namespace mm::train {

struct RlObjective {
  std::string name;
  MiniMaxGraphOptions::PolicyObjective loss;
  /// DAPO: drop groups whose rewards are all equal (they carry no advantage).
  bool dynamicSampling = false;
  /// DAPO: the soft overlong punishment on the reward.
  bool overlongPenalty = false;
};

/// The preset of cispo, ppo_clip, dapo or grpo; throws mm::Error otherwise.
RlObjective objectivePreset(const std::string &name);

/// A_i = (R_i - mean) / (std + 1e-6) over each group of `groupSize`
/// consecutive rewards, std unbiased (torch.std, as GRPO implementations).
/// Throws for a group size below 2 (the advantage is undefined).
std::vector<double> groupAdvantages(const std::vector<double> &rewards, int64_t groupSize);

/// DAPO's soft overlong punishment: 0 up to maxLength - buffer tokens, then
/// falling linearly to -1 at maxLength.
double overlongPenalty(int64_t length, int64_t maxLength, int64_t buffer);

} // namespace mm::train

#endif // MM_TRAINING_RLOBJECTIVE_H
