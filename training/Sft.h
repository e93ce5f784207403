//===- Sft.h - `mm-train sft`: a supervised warm-up on a task ---*- C++ -*-===//
//
// Next-token training on generated task text ("a+b=" then the answer and the
// end of sequence) with the loss on the answer tokens only (the prompt's
// labels are ignored), through the same compiled step, checkpoints, metrics
// and Hugging Face export as pretraining. See docs/rl.md.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_SFT_H
#define MM_TRAINING_SFT_H

#include "training/StepProgram.h"

#include <iosfwd>
#include <string>

namespace mm::train {

struct SftOptions {
  std::string task, model, config, tokenizer, out;
  int64_t steps = 0, batchSize = 64, saveEvery = 0, logEvery = 0;
  double lr = 1e-3;
  int64_t warmupSteps = -1; // -1: steps / 10
  double minLr = -1;        // -1: lr / 10
  uint64_t seed = 0;
  int threads = 1;
  bool resume = false;
  StepBackend backend = StepBackend::CPU;
  OptimizerOptions optimizer;
  /// Under mpirun: the layout (training/TrainingLayout.h), and ZeRO-1 over
  /// data-parallel replicas.
  std::string parallel;
  bool zero1 = true;
};

/// Returns the exit code (0, or 3 for a NaN / Inf loss). Throws mm::Error
/// for bad input. Under mpirun every rank calls it; rank 0 writes the run
/// directory and talks (`log`), the others train in step. Under data
/// parallelism each replica's mean over its answer tokens counts by its
/// share of the step's answer tokens (their counts differ), so the run is
/// the one-process run.
int supervisedFineTune(const SftOptions &options, std::ostream &log);

} // namespace mm::train

#endif // MM_TRAINING_SFT_H
