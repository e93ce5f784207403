//===- SupervisedLoop.cpp -------------------------------------------------===//
#include "training/SupervisedLoop.h"
#include "runtime/Error.h"
#include "training/LrSchedule.h"
#include "training/TrainMetrics.h"

#include <chrono>
#include <cmath>
#include <iostream>
#include <optional>
#include <unistd.h>

namespace mm::train {

void checkTrainingMemory(const StepProgram &program, const TrainingState &state,
                         const std::string &batchFlags) {
  uint64_t memory = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                    static_cast<uint64_t>(::sysconf(_SC_PAGE_SIZE));
  uint64_t weightBytes = 3 * StepProgram::weightBytes(state); // weights and two moments
  if (program.arenaBytes() + 2 * weightBytes > memory / 10 * 8)
    throw makeError(batchFlags, ": the training step plans ", program.arenaBytes() >> 20,
                    " MiB of activations and ", (2 * weightBytes) >> 20,
                    " MiB of weight state, beyond 80% of this machine's ", memory >> 20, " MiB");
}

int runSupervisedLoop(const SupervisedLoopOptions &o, StepProgram &program, TrainingState &state,
                      const NextBatch &next,
                      const std::function<void(const TrainingState &)> &finish,
                      std::ostream &log) {
  std::string checkpoints = o.out + "/checkpoints";
  LrSchedule schedule{o.lr, o.minLr, o.warmupSteps, o.steps};
  TrainMetrics metrics(o.out, state.step);
  int64_t every = o.logEvery > 0 ? o.logEvery : std::max<int64_t>(1, o.steps / 20);
  Progress progress(log, ::isatty(STDERR_FILENO) && &log == &std::cerr, o.steps, every);
  double elapsed = metrics.rows().empty() ? 0 : metrics.rows().back().elapsedSeconds;
  std::string lastCheckpoint = state.step > 0 ? checkpoints : "";
  for (int64_t step = state.step + 1; step <= o.steps; ++step) {
    Tensor ids, labels;
    DataPosition after = state.data; // applied with the step
    next(step, after, ids, labels);
    double lr = schedule.at(step);
    auto start = std::chrono::steady_clock::now();
    StepProgram::Result r = program.run(ids, labels, state, lr, step);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!std::isfinite(r.loss) || !std::isfinite(r.gradNorm)) {
      progress.finish();
      if (o.writes)
        metrics.flush();
      log << "mm-train: step " << step << ": the loss is " << r.loss << " and the gradient norm "
          << r.gradNorm << "; stopping without applying it. "
          << (lastCheckpoint.empty() ? std::string("No checkpoint was written yet.")
                                     : "The last good checkpoint is in " + lastCheckpoint + ".")
          << "\n";
      return 3;
    }
    elapsed += seconds;
    state.step = step;
    state.tokensSeen += o.tokensPerStep;
    state.data = after;
    MetricRow row{step, r.loss, lr, r.gradNorm, double(o.tokensPerStep) / seconds, elapsed};
    metrics.add(row);
    progress.update(row);
    if (step % o.saveEvery == 0 || step == o.steps) {
      std::optional<TrainingState> whole;
      if (o.checkpointState)
        whole = o.checkpointState(state);
      if (o.writes) {
        // Metrics first: a kill between the two leaves rows past the newest
        // checkpoint, which a resume drops; the other order lost the rows of
        // the checkpoint's steps.
        metrics.flush();
        lastCheckpoint = saveCheckpoint(checkpoints, whole ? *whole : state, o.seed);
      }
    }
  }
  progress.finish();
  std::optional<TrainingState> whole; // (a collective: every rank gathers)
  if (o.checkpointState)
    whole = o.checkpointState(state);
  if (!o.writes)
    return 0;
  finish(whole ? *whole : state);
  metrics.flush();
  const auto &rows = metrics.rows();
  if (!rows.empty())
    log << "mm-train: " << rows.size() << " steps, loss " << rows.front().loss << " -> "
        << rows.back().loss << "; the model is in " << o.out << " (model.safetensors, "
        << "config.json, tokenizer.json), metrics in metrics.csv and loss_curve.svg\n";
  return 0;
}

} // namespace mm::train
