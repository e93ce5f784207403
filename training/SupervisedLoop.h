//===- SupervisedLoop.h - the loop of pretraining and SFT -------*- C++ -*-===//
//
// Steps the compiled training step over batches of (ids, labels): the
// learning-rate schedule, checkpoints every --save-every steps and at the
// end, metrics.csv and the loss curve, the progress bar, and a stop without
// applying the update when the loss or the gradient norm is not finite.
// `mm-train pretrain` and `mm-train sft` differ only in their batches.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_SUPERVISEDLOOP_H
#define MM_TRAINING_SUPERVISEDLOOP_H

#include "training/StepProgram.h"

#include <functional>
#include <iosfwd>
#include <string>

namespace mm::train {

struct SupervisedLoopOptions {
  std::string out;
  int64_t steps = 0, saveEvery = 0, logEvery = 0, warmupSteps = 0;
  double lr = 0, minLr = 0;
  uint64_t seed = 0;
  int64_t tokensPerStep = 0; // for tokens/s and tokens seen
  /// False on the data-parallel ranks other than 0: they train in step but
  /// write no checkpoint, metrics or model.
  bool writes = true;
  /// The state a checkpoint and the exported model hold (ZeRO-1: the
  /// moments gathered from every rank; model parallel: the weights and
  /// moments; every rank calls it at a save and at the end). Empty: the
  /// state itself.
  std::function<TrainingState(const TrainingState &)> checkpointState;
};

/// Fills the batch of step `step` (1-based) and sets `position` to where the
/// data stands after it (for resuming).
using NextBatch = std::function<void(int64_t step, DataPosition &position, Tensor &ids,
                                     Tensor &labels)>;

/// Runs steps state.step + 1 .. steps; `finish` runs once after the last one
/// (the Hugging Face export). Returns the exit code: 0, or 3 when a NaN / Inf
/// loss stopped the run.
int runSupervisedLoop(const SupervisedLoopOptions &options, StepProgram &program,
                      TrainingState &state, const NextBatch &next,
                      const std::function<void(const TrainingState &)> &finish, std::ostream &log);

/// Refuses a batch whose planned activations and weight state exceed 80% of
/// this machine's memory, naming the flags.
void checkTrainingMemory(const StepProgram &program, const TrainingState &state,
                         const std::string &batchFlags);

} // namespace mm::train

#endif // MM_TRAINING_SUPERVISEDLOOP_H
