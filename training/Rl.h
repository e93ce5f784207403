//===- Rl.h - `mm-train rl`: CISPO, PPO-clip, DAPO and GRPO -----*- C++ -*-===//
//
// MiniMax-M1's RL loop at any scale: each step samples --group-size
// responses to each of --prompts-per-step task prompts from the compiled
// inference engine (temperature sampling, the sampled tokens' log-probs
// recorded), scores them with the task's verifiable reward, forms
// group-relative advantages, and runs --updates-per-batch AdamW updates of
// the compiled training graph (mm.policy_loss over the policy's log-probs),
// one per mini-batch of groups; the new weights go to the engine in memory.
// See docs/rl.md.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_RL_H
#define MM_TRAINING_RL_H

#include "training/StepProgram.h"

#include <iosfwd>
#include <optional>
#include <string>

namespace mm::train {

struct RlOptions {
  std::string model, task, objective, out;
  int64_t steps = 0, promptsPerStep = 0, groupSize = 0, maxNewTokens = 0, updatesPerBatch = 1;
  double lr = 0;
  uint64_t seed = 0;
  int threads = 1;
  bool lmHeadFp32 = false, evalOnly = false, resume = false;
  double temperature = 1.0;
  /// Overrides of the objective's preset (RlObjective.h); dualClip 0 turns
  /// the dual clip off.
  std::optional<double> epsLow, epsHigh, dualClip, ratioCap;
  double klCoef = 0;
  int64_t overlongBuffer = -1; // -1: max(1, maxNewTokens / 4)
  int64_t repeatWindow = 3000; // MiniMax-M1's early truncation
  double repeatProbability = 0.99;
  int64_t evalPrompts = 128, evalSamples = 4, evalEvery = 1, saveEvery = 0, logEvery = 0;
  /// Weight storage of the rollout engine: "bf16" (as served) or "f32".
  std::string engineWeights = "bf16";
  /// Where the policy update runs (the reference executor is the oracle).
  StepBackend backend = StepBackend::CPU;
  std::string emitIR; // write @loss, @loss_grad and @loss_train_step here
  /// Under mpirun: the update's layout (TrainingLayout.h; empty: dp over
  /// every rank), and ZeRO-1 over the data-parallel replicas. Rollouts and
  /// evaluation spread over every rank whatever the layout.
  std::string parallel;
  bool zero1 = true;
  OptimizerOptions optimizer{0.9, 0.95, 1e-15, 0.01, 1.0, false};
};

/// Returns the exit code: 0, or 3 when a NaN / Inf loss stopped the run.
/// With evalOnly, prints {"accuracy": A, ...} as the last line of `out`
/// (A: the mean reward of --eval-samples responses per evaluation prompt at
/// the rollout temperature; also the greedy accuracy). Throws
/// mm::Error for bad input. Under mpirun every rank calls it; rank 0 alone
/// writes the run directory, `log` and `out`.
int reinforce(const RlOptions &options, std::ostream &log, std::ostream &out);

} // namespace mm::train

#endif // MM_TRAINING_RL_H
