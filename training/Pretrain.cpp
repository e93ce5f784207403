//===- Pretrain.cpp -------------------------------------------------------===//
#include "training/Pretrain.h"
#include "frontends/tokenizer/Tokenizer.h"
#include "runtime/Error.h"
#include "runtime/dist/Collectives.h"
#include "training/FlagChecks.h"
#include "training/AtomicFile.h"
#include "training/HfExport.h"
#include "training/Initializer.h"
#include "training/RunDirectory.h"
#include "training/TextData.h"
#include "training/TrainingLayout.h"
#include "training/SupervisedLoop.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mm::train {

namespace {
void checkOptions(const PretrainOptions &o) {
  requirePositive(o.steps, "--steps");
  requirePositive(o.batchSize, "--batch-size");
  requirePositive(o.seqLen, "--seq-len");
  requirePositive(o.saveEvery, "--save-every");
  requirePositive(o.threads, "--threads");
  requirePositiveRate(o.lr, "--lr");
  if (o.out.empty())
    throw makeError("--out is required");
}

/// What makes two runs the same run: resuming requires all of it to match.
json runIdentity(const PretrainOptions &o, const std::string &configText,
                 const std::string &tokenizerText) {
  json data = json::array();
  for (const std::string &file : o.data)
    data.push_back({{"file", fs::absolute(file).string()}, {"crc32", hexChecksum(readFile(file))}});
  return {{"config_crc32", hexChecksum(configText)},
          {"tokenizer_crc32", hexChecksum(tokenizerText)},
          {"data", data},
          {"steps", o.steps},
          {"batch_size", o.batchSize},
          {"seq_len", o.seqLen},
          {"lr", o.lr},
          {"min_lr", o.minLr},
          {"warmup_steps", o.warmupSteps},
          {"seed", o.seed},
          {"threads", o.threads},
          {"backend", backendName(o.backend)},
          {"optimizer", optimizerIdentity(o.optimizer)}};
}

} // namespace

int pretrain(const PretrainOptions &o, std::ostream &rankLog) {
  checkOptions(o);
  std::string configText = readFile(o.config);
  MiniMaxConfig config = parseMiniMaxConfig(configText, o.config);
  dist::Collectives &world = dist::world();
  TrainingLayout parallel = trainingLayout(o.parallel, o.batchSize, config, o.config, o.seqLen);
  int64_t dp = parallel.dp;
  // Rank 0 writes the run directory and talks; the other ranks train in step.
  bool leader = world.rank() == 0;
  std::ostream nowhere(nullptr);
  std::ostream &log = leader ? rankLog : nowhere;
  describeLayout(parallel, o.batchSize, log);
  if (config.maxPositionEmbeddings && o.seqLen > *config.maxPositionEmbeddings)
    throw makeError("--seq-len ", o.seqLen, " exceeds the model's max_position_embeddings ",
                    *config.maxPositionEmbeddings, " (", o.config, ")");
  std::string tokenizerText = readFile(o.tokenizer);
  Tokenizer tokenizer = Tokenizer::fromJson(tokenizerText, o.tokenizer);
  if (tokenizer.vocabSize() > config.vocabSize)
    throw makeError(o.tokenizer, ": the tokenizer has ", tokenizer.vocabSize(),
                    " tokens but the model's vocab_size is ", config.vocabSize, " (", o.config,
                    "): they do not belong together");
  std::optional<int64_t> eos;
  if (!config.eosTokenIds.empty())
    eos = config.eosTokenIds.front();
  PackedBatches batches(loadCorpus(o.data, tokenizer, eos), o.seqLen, o.batchSize, o.seed);

  PretrainOptions resolved = o;
  if (resolved.warmupSteps < 0)
    resolved.warmupSteps = o.steps / 10;
  if (resolved.minLr < 0)
    resolved.minLr = o.lr / 10;
  if (leader)
    claimRunDirectory(o.out, o.resume, runIdentity(resolved, configText, tokenizerText));
  world.barrier("the run directory claimed by rank 0");

  TrainingState state = startingState(initialWeights(config, o.seed));
  std::string checkpoints = o.out + "/checkpoints";
  if (o.resume) {
    auto found = loadNewestCheckpoint(checkpoints, state.weights, o.seed, log);
    if (found) {
      state = std::move(found->second);
      batches.seek(state.data);
      log << "mm-train: resuming from " << found->first << " (step " << state.step << ")\n";
    } else {
      log << "mm-train: --resume: no checkpoint yet, starting from step 0\n";
    }
  }

  int64_t localBatch = o.batchSize / dp;
  StepProgram program(config, o.optimizer, o.backend, localBatch, o.seqLen, o.out + "/cache",
                      log, leader ? o.emitIR : "", std::nullopt, dp, o.zero1, parallel.model);
  keepOwnStateAndReport(program, state, parallel, o.zero1, log, rankLog);
  checkTrainingMemory(program, state,
                      "--batch-size " + std::to_string(o.batchSize) + " x --seq-len " +
                          std::to_string(o.seqLen));
  if (program.arenaBytes())
    log << "mm-train: the compiled step plans " << (program.arenaBytes() >> 10)
        << " KiB of activations" << (o.optimizer.recompute ? " (layers recomputed)" : "") << "\n";
  SupervisedLoopOptions loop;
  loop.out = o.out;
  loop.steps = o.steps;
  loop.saveEvery = o.saveEvery;
  loop.logEvery = o.logEvery;
  loop.warmupSteps = resolved.warmupSteps;
  loop.lr = o.lr;
  loop.minLr = resolved.minLr;
  loop.seed = o.seed;
  loop.tokensPerStep = o.batchSize * o.seqLen;
  loop.writes = leader;
  if (program.splitsState())
    loop.checkpointState = [&](const TrainingState &s) { return program.wholeState(s); };
  auto next = [&](int64_t, DataPosition &position, Tensor &ids, Tensor &labels) {
    batches.next(ids, labels);
    position = batches.position();
    keepReplicaRows(parallel, ids, labels);
  };
  auto finish = [&](const TrainingState &final) {
    exportHuggingFaceModel(o.out, config, final.weights, configText, tokenizerText);
  };
  return runSupervisedLoop(loop, program, state, next, finish, log);
}

} // namespace mm::train
