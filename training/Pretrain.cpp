//===- Pretrain.cpp -------------------------------------------------------===//
#include "training/Pretrain.h"
#include "frontends/tokenizer/Tokenizer.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"
#include "training/HfExport.h"
#include "training/Initializer.h"
#include "training/LrSchedule.h"
#include "training/TextData.h"
#include "training/TrainMetrics.h"

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
  auto positive = [](int64_t v, const char *flag) {
    if (v <= 0)
      throw makeError(flag, " must be positive, got ", v);
  };
  positive(o.steps, "--steps");
  positive(o.batchSize, "--batch-size");
  positive(o.seqLen, "--seq-len");
  positive(o.saveEvery, "--save-every");
  positive(o.threads, "--threads");
  if (!(o.lr > 0) || !std::isfinite(o.lr))
    throw makeError("--lr must be a positive number, got ", o.lr);
  if (o.out.empty())
    throw makeError("--out is required");
}

std::string hexChecksum(const std::string &bytes) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%08x", tensorChecksum(bytes.data(), bytes.size()));
  return buffer;
}

/// What makes two runs the same run: resuming requires all of it to match.
json runIdentity(const PretrainOptions &o, const std::string &configText,
                 const std::string &tokenizerText) {
  json data = json::array();
  for (const std::string &file : o.data)
    data.push_back({{"file", fs::absolute(file).string()}, {"crc32", hexChecksum(readFile(file))}});
  const OptimizerOptions &opt = o.optimizer;
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
          {"backend", o.backend == StepBackend::CPU ? "cpu" : "reference"},
          {"optimizer",
           {{"beta1", opt.beta1},
            {"beta2", opt.beta2},
            {"epsilon", opt.epsilon},
            {"weight_decay", opt.weightDecay},
            {"max_grad_norm", opt.maxGradNorm},
            {"recompute", opt.recompute}}}};
}

/// Refuses an --out that holds something else; with --resume, a run whose
/// settings differ. Writes run.json for a new run.
void claimOutput(const PretrainOptions &o, const json &identity) {
  std::string runFile = o.out + "/run.json";
  bool nonEmpty = fs::exists(o.out) && !fs::is_empty(o.out);
  if (nonEmpty && !fs::exists(runFile))
    throw makeError("--out ", o.out, ": the directory is not empty and holds no mm-train run "
                    "(run.json); choose an empty or new directory");
  if (fs::exists(runFile)) {
    if (!o.resume)
      throw makeError("--out ", o.out, " holds another run (run.json); pass --resume to "
                      "continue it, or choose an empty directory");
    json previous = json::parse(readFile(runFile));
    std::string differences;
    for (auto it = identity.begin(); it != identity.end(); ++it)
      if (!previous.contains(it.key()) || previous[it.key()] != it.value())
        differences += " " + it.key();
    if (!differences.empty())
      throw makeError("--resume: ", runFile, " was written by a run with different settings:",
                      differences, " (resume with the same command line)");
    return;
  }
  fs::create_directories(o.out);
  writeFileAtomically(runFile, identity.dump(1) + "\n");
}
} // namespace

int pretrain(const PretrainOptions &o, std::ostream &log) {
  checkOptions(o);
  std::string configText = readFile(o.config);
  MiniMaxConfig config = parseMiniMaxConfig(configText, o.config);
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
  claimOutput(resolved, runIdentity(resolved, configText, tokenizerText));

  TrainingState state;
  state.weights = initialWeights(config, o.seed);
  for (const auto &[name, w] : state.weights) {
    state.firstMoments[name] = Tensor::zeros(DType::F32, w.shape());
    state.secondMoments[name] = Tensor::zeros(DType::F32, w.shape());
  }
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

  StepProgram program(config, o.optimizer, o.backend, o.batchSize, o.seqLen, o.out + "/cache",
                      log, o.emitIR);
  uint64_t memory = static_cast<uint64_t>(::sysconf(_SC_PHYS_PAGES)) *
                    static_cast<uint64_t>(::sysconf(_SC_PAGE_SIZE));
  uint64_t weightBytes = 0;
  for (const auto &[name, w] : state.weights)
    weightBytes += 3 * w.nbytes(); // weights and two moments
  if (program.arenaBytes() + 2 * weightBytes > memory / 10 * 8)
    throw makeError("--batch-size ", o.batchSize, " x --seq-len ", o.seqLen, ": the training step "
                    "plans ", program.arenaBytes() >> 20, " MiB of activations and ",
                    (2 * weightBytes) >> 20, " MiB of weight state, beyond 80% of this machine's ",
                    memory >> 20, " MiB");

  if (program.arenaBytes())
    log << "mm-train: the compiled step plans " << (program.arenaBytes() >> 10)
        << " KiB of activations" << (o.optimizer.recompute ? " (layers recomputed)" : "") << "\n";
  LrSchedule schedule{o.lr, resolved.minLr, resolved.warmupSteps, o.steps};
  TrainMetrics metrics(o.out, state.step);
  int64_t every = o.logEvery > 0 ? o.logEvery : std::max<int64_t>(1, o.steps / 20);
  Progress progress(log, ::isatty(STDERR_FILENO) && &log == &std::cerr, o.steps, every);
  double elapsed = metrics.rows().empty() ? 0 : metrics.rows().back().elapsedSeconds;
  std::string lastCheckpoint = state.step > 0 ? checkpoints : "";
  for (int64_t step = state.step + 1; step <= o.steps; ++step) {
    Tensor ids, labels;
    batches.next(ids, labels);
    double lr = schedule.at(step);
    auto start = std::chrono::steady_clock::now();
    StepProgram::Result r = program.run(ids, labels, state, lr, step);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!std::isfinite(r.loss) || !std::isfinite(r.gradNorm)) {
      progress.finish();
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
    state.tokensSeen += o.batchSize * o.seqLen;
    state.data = batches.position();
    MetricRow row{step, r.loss, lr, r.gradNorm, double(o.batchSize * o.seqLen) / seconds, elapsed};
    metrics.add(row);
    progress.update(row);
    if (step % o.saveEvery == 0 || step == o.steps) {
      lastCheckpoint = saveCheckpoint(checkpoints, state, o.seed);
      metrics.flush();
    }
  }
  progress.finish();
  exportHuggingFaceModel(o.out, config, state.weights, configText, tokenizerText);
  metrics.flush();
  const auto &rows = metrics.rows();
  if (!rows.empty())
    log << "mm-train: " << rows.size() << " steps, loss " << rows.front().loss << " -> "
        << rows.back().loss << "; the model is in " << o.out << " (model.safetensors, "
        << "config.json, tokenizer.json), metrics in metrics.csv and loss_curve.svg\n";
  return 0;
}

} // namespace mm::train
