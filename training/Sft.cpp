//===- Sft.cpp ------------------------------------------------------------===//
#include "training/Sft.h"
#include "frontends/ParallelLayout.h"
#include "runtime/Error.h"
#include "training/FlagChecks.h"
#include "training/AdditionTask.h"
#include "training/HfExport.h"
#include "training/RunDirectory.h"
#include "training/StartingModel.h"
#include "training/SupervisedLoop.h"
#include "training/TrainingLayout.h"
#include "runtime/dist/Collectives.h"

#include <algorithm>
#include <cmath>
#include <ostream>

namespace mm::train {

/// Stream of the SFT examples (the RL prompts and the evaluation set draw
/// from others).
constexpr uint64_t kSftStream = 1ULL << 40;

int supervisedFineTune(const SftOptions &o, std::ostream &rankLog) {
  AdditionTask task = AdditionTask::parse(o.task);
  requirePositive(o.steps, "--steps");
  requirePositive(o.batchSize, "--batch-size");
  requirePositive(o.threads, "--threads");
  requirePositiveRate(o.lr, "--lr");
  if (o.out.empty())
    throw makeError("--out is required");
  StartingModel model = loadStartingModel(o.model, o.config, o.tokenizer, o.seed);
  dist::Collectives &world = dist::world();
  const Tokenizer &tokenizer = *model.tokenizer;
  int64_t T = task.maxPromptTokens(tokenizer) + task.maxAnswerTokens(tokenizer) - 1;
  int64_t taskLength = T;
  TrainingLayout parallel;
  if (!o.parallel.empty() || world.size() > 1) {
    std::string configPath = o.config.empty() ? o.model + "/config.json" : o.config;
    T = contextParallelLength(T, parseParallelLayout(o.parallel, world.size()).cp, model.config,
                              configPath);
    parallel = trainingLayout(o.parallel, o.batchSize, model.config, configPath, T);
  }
  // Rank 0 writes the run directory and talks; the other ranks train in step.
  bool leader = world.rank() == 0;
  std::ostream nowhere(nullptr);
  std::ostream &log = leader ? rankLog : nowhere;
  describeLayout(parallel, o.batchSize, log);
  if (T != taskLength)
    log << "mm-train: rows padded from " << taskLength << " to " << T << " tokens to split into "
        << parallel.model.cp << " equal chunks\n";

  SupervisedLoopOptions loop;
  loop.out = o.out;
  loop.steps = o.steps;
  loop.saveEvery = o.saveEvery > 0 ? o.saveEvery : std::max<int64_t>(1, o.steps / 5);
  loop.logEvery = o.logEvery;
  loop.warmupSteps = o.warmupSteps >= 0 ? o.warmupSteps : o.steps / 10;
  loop.lr = o.lr;
  loop.minLr = o.minLr >= 0 ? o.minLr : o.lr / 10;
  loop.seed = o.seed;
  loop.tokensPerStep = o.batchSize * T;
  nlohmann::json identity = {
      {"command", "sft"},       {"task", task.spec()},        {"start", model.describe},
      {"tokenizer_crc32", hexChecksum(model.tokenizerText)},  {"steps", o.steps},
      {"batch_size", o.batchSize}, {"lr", o.lr},              {"min_lr", loop.minLr},
      {"warmup_steps", loop.warmupSteps}, {"seed", o.seed},   {"threads", o.threads},
      {"backend", backendName(o.backend)},
      {"optimizer", optimizerIdentity(o.optimizer)}};
  if (leader)
    claimRunDirectory(o.out, o.resume, identity);
  world.barrier("the run directory claimed by rank 0");

  TrainingState state = startingState(std::move(model.weights));
  if (o.resume) {
    auto found = loadNewestCheckpoint(o.out + "/checkpoints", state.weights, o.seed, log);
    if (found) {
      state = std::move(found->second);
      log << "mm-train: resuming from " << found->first << " (step " << state.step << ")\n";
    }
  }
  // Data parallel: each replica's mean over its answer tokens is weighed by
  // its share of the step's answer tokens (their counts differ), so the
  // average is the one-process mean.
  int64_t dp = parallel.dp, localBatch = o.batchSize / dp;
  StepProgram program(model.config, o.optimizer, o.backend, localBatch, T, o.out + "/cache", log,
                      "", std::nullopt, dp, o.zero1, parallel.model, /*weighReplicas=*/dp > 1);
  keepOwnStateAndReport(program, state, parallel, o.zero1, log, rankLog);
  checkTrainingMemory(program, state, "--batch-size " + std::to_string(o.batchSize));
  loop.writes = leader;
  if (program.splitsState()) // checkpoints and the export hold the whole state
    loop.checkpointState = [&](const TrainingState &s) { return program.wholeState(s); };

  // Row: prompt, answer, end of sequence, then padding (ids: eos, labels:
  // ignored). Labels are the next token on the answer only.
  // The examples of a step come from (seed, step): no data position to keep.
  auto next = [&](int64_t step, DataPosition &, Tensor &ids, Tensor &labels) {
    ids = Tensor::zeros(DType::I64, {o.batchSize, T});
    labels = Tensor::zeros(DType::I64, {o.batchSize, T});
    int64_t *id = ids.data<int64_t>(), *label = labels.data<int64_t>();
    for (int64_t b = 0; b < o.batchSize; ++b) {
      TaskExample e = task.example(o.seed, kSftStream + uint64_t(step), uint64_t(b), tokenizer,
                                   model.eos);
      std::vector<int64_t> row = e.promptIds;
      row.insert(row.end(), e.answerIds.begin(), e.answerIds.end());
      if (static_cast<int64_t>(row.size()) > T + 1)
        throw makeError("task example '", e.prompt, e.answer, "' is ", row.size(),
                        " tokens, longer than the ", T + 1, " planned");
      int64_t prompt = static_cast<int64_t>(e.promptIds.size());
      for (int64_t t = 0; t < T; ++t) {
        bool inside = t + 1 < static_cast<int64_t>(row.size());
        id[b * T + t] = t < static_cast<int64_t>(row.size()) ? row[t] : model.eos;
        label[b * T + t] = inside && t + 1 >= prompt ? row[t + 1] : -100;
      }
    }
    if (dp > 1) { // every rank makes the whole batch, then keeps its replica's rows
      auto counted = [&](const Tensor &rows) {
        const int64_t *l = rows.data<int64_t>();
        return std::count_if(l, l + rows.numel(), [](int64_t x) { return x != -100; });
      };
      int64_t total = counted(labels);
      keepReplicaRows(parallel, ids, labels);
      program.setReplicaWeight(total > 0 ? double(counted(labels)) / double(total) : 1.0 / dp);
    }
  };
  auto finish = [&](const TrainingState &final) {
    exportHuggingFaceModel(o.out, model.config, final.weights, model.configText,
                           model.tokenizerText);
  };
  return runSupervisedLoop(loop, program, state, next, finish, log);
}

} // namespace mm::train
