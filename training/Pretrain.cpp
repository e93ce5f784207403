//===- Pretrain.cpp -------------------------------------------------------===//
#include "training/Pretrain.h"
#include "frontends/ParallelLayout.h"
#include "frontends/tokenizer/Tokenizer.h"
#include "runtime/Error.h"
#include "runtime/dist/Collectives.h"
#include "training/FlagChecks.h"
#include "training/AtomicFile.h"
#include "training/HfExport.h"
#include "training/Initializer.h"
#include "training/RunDirectory.h"
#include "training/TextData.h"
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

/// --parallel on this world: dp replicas of a tensor-parallel group of tp
/// ranks (world = dp x tp), the experts over ep of a group's ranks and
/// their FFN width over etp, as inference splits the model. cp, and ep
/// across replicas (without tp), are refused until their partitioned
/// training graphs exist.
struct TrainingLayout {
  int64_t dp = 1;
  ModelParallelism model;
};
TrainingLayout trainingLayout(const PretrainOptions &o, const MiniMaxConfig &config) {
  ParallelLayout layout = parseParallelLayout(o.parallel, dist::world().size());
  checkLayoutFitsModel(layout, config);
  auto refuse = [&](const std::string &why) {
    return makeError("--parallel ", o.parallel, " (", layout.str(), "): ", why);
  };
  if (layout.cp > 1)
    throw refuse("context-parallel training (LASP+ and ring attention) is not built yet");
  if (o.batchSize % layout.dp != 0)
    throw makeError("--batch-size ", o.batchSize, " does not split evenly over dp=", layout.dp,
                    " data-parallel replicas");
  if (layout.tp > 1 || layout.ep > 1 || layout.etp > 1) {
    if (layout.tp == 1)
      throw refuse("experts split across data-parallel replicas (ep without tp: the dense part "
                   "data parallel) are not built yet; ep and etp split within the tp group: "
                   "give tp=" + std::to_string(layout.ep * layout.etp) + " or more");
    if (std::string why = modelParallelMismatch(config, layout.tp, layout.ep, layout.etp);
        !why.empty())
      throw refuse(why + " (" + o.config + ")");
    return {layout.dp, {layout.tp, layout.ep, layout.etp}};
  }
  return {layout.dp, {}};
}

} // namespace

int pretrain(const PretrainOptions &o, std::ostream &rankLog) {
  checkOptions(o);
  std::string configText = readFile(o.config);
  MiniMaxConfig config = parseMiniMaxConfig(configText, o.config);
  dist::Collectives &world = dist::world();
  TrainingLayout parallel = trainingLayout(o, config);
  int64_t dp = parallel.dp;
  // Rank 0 writes the run directory and talks; the other ranks train in step.
  bool leader = world.rank() == 0;
  std::ostream nowhere(nullptr);
  std::ostream &log = leader ? rankLog : nowhere;
  if (dp > 1)
    log << "mm-train: data parallel over " << dp
        << (parallel.model.tp > 1 ? " groups of " + std::to_string(parallel.model.tp) + " ranks"
                                   : std::string(" ranks"))
        << ", " << o.batchSize / dp << " sequences each\n";
  if (parallel.model.tp > 1)
    log << "mm-train: the model split over " << parallel.model.tp << " ranks (tp="
        << parallel.model.tp << " ep=" << parallel.model.ep << " etp=" << parallel.model.etp
        << "); each rank holds its parts of the weights and their AdamW moments\n";
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
  uint64_t wholeOptimizerBytes = program.optimizerStateBytes(state);
  uint64_t wholeWeightBytes = StepProgram::weightBytes(state);
  program.keepOwnState(state);
  if (dp > 1)
    log << "mm-train: AdamW moments: " << (program.optimizerStateBytes(state) >> 10)
        << " KiB per rank of " << (wholeOptimizerBytes >> 10) << " KiB"
        << (o.zero1 ? " (ZeRO-1)" : " (replicated; --optimizer-sharding none)") << "\n";
  if (parallel.model.tp > 1) // every rank says what it holds (one write: no interleaving)
    rankLog << ("mm-train: rank " + std::to_string(world.rank()) + " of " +
                std::to_string(world.size()) + ": " +
                std::to_string(StepProgram::weightBytes(state)) + " of " +
                std::to_string(wholeWeightBytes) + " bytes of weights, " +
                std::to_string(program.optimizerStateBytes(state)) + " of " +
                std::to_string(wholeOptimizerBytes) + " bytes of AdamW moments\n")
            << std::flush;
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
    if (dp > 1) { // every rank draws the whole batch, then keeps its replica's rows
      int64_t replica = world.rank() / (world.size() / dp); // (a tp group: consecutive ranks)
      ids = leadingRows(ids, replica * localBatch, localBatch);
      labels = leadingRows(labels, replica * localBatch, localBatch);
    }
  };
  auto finish = [&](const TrainingState &final) {
    exportHuggingFaceModel(o.out, config, final.weights, configText, tokenizerText);
  };
  return runSupervisedLoop(loop, program, state, next, finish, log);
}

} // namespace mm::train
