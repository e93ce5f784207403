//===- Pretrain.h - `mm-train pretrain`: a MiniMax model from text -*- C++ -*-===//
//
// The training loop: data, the compiled step, the learning-rate schedule,
// checkpoints every --save-every steps and at the end, metrics, and the
// final Hugging Face folder. See docs/training.md.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_PRETRAIN_H
#define MM_TRAINING_PRETRAIN_H

#include "training/StepProgram.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace mm::train {

struct PretrainOptions {
  std::string config, tokenizer, out;
  std::vector<std::string> data;
  int64_t steps = 0, batchSize = 0, seqLen = 0, saveEvery = 0;
  double lr = 0;
  uint64_t seed = 0;
  int threads = 1;
  bool resume = false;
  StepBackend backend = StepBackend::CPU;
  int64_t warmupSteps = -1; // -1: steps / 10
  double minLr = -1;        // -1: lr / 10
  int64_t logEvery = 0;     // 0: about 20 lines per run
  std::string emitIR;       // write @loss, @loss_grad and @loss_train_step here
  /// --parallel over dist::world()'s ranks (ParallelLayout.h); training runs
  /// data parallel: each of dp ranks takes batch-size / dp of every batch.
  std::string parallel;
  /// ZeRO-1 under data parallelism: each rank keeps its rows of the moments.
  bool zero1 = true;
  OptimizerOptions optimizer;
};

/// Runs the training; returns the process exit code (0, or 3 when a NaN /
/// Inf loss stopped it). Throws mm::Error for bad input.
int pretrain(const PretrainOptions &options, std::ostream &log);

} // namespace mm::train

#endif // MM_TRAINING_PRETRAIN_H
