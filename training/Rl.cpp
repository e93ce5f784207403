//===- Rl.cpp -------------------------------------------------------------===//
#include "training/Rl.h"
#include "runtime/Error.h"
#include "training/FlagChecks.h"
#include "training/AdditionTask.h"
#include "training/AtomicFile.h"
#include "training/CurveSvg.h"
#include "training/HfExport.h"
#include "training/MetricsTable.h"
#include "training/ReferencePolicy.h"
#include "training/RlObjective.h"
#include "training/RolloutEngine.h"
#include "training/RunDirectory.h"
#include "training/SharedRollouts.h"
#include "training/StartingModel.h"
#include "training/TrainingLayout.h"
#include "runtime/dist/Collectives.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <iostream>
#include <unistd.h>

namespace mm::train {

namespace {
using Clock = std::chrono::steady_clock;

/// Streams of task examples: RL prompts per step, and one fixed evaluation
/// set (the same for every --seed, so runs compare on it).
constexpr uint64_t kEvalStream = 1ULL << 41;
constexpr uint64_t kEvalSeed = 0;

double secondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

void checkOptions(const RlOptions &o) {
  requirePositive(o.maxNewTokens, "--max-new-tokens");
  requirePositive(o.threads, "--threads");
  requirePositive(o.evalPrompts, "--eval-prompts");
  requirePositive(o.evalSamples, "--eval-samples");
  if (o.model.empty())
    throw makeError("--model DIR is required (the policy to start from, e.g. mm-train sft's "
                    "output)");
  if (o.evalOnly)
    return;
  requirePositive(o.steps, "--steps");
  requirePositive(o.promptsPerStep, "--prompts-per-step");
  requirePositive(o.updatesPerBatch, "--updates-per-batch");
  requirePositive(o.evalEvery, "--eval-every");
  if (o.groupSize < 2)
    throw makeError("--group-size ", o.groupSize, ": the group-relative advantage (R - mean) / "
                    "std needs at least 2 responses per prompt");
  requirePositiveRate(o.lr, "--lr");
  for (auto [v, flag] : {std::pair{o.epsLow, "--eps-low"}, {o.epsHigh, "--eps-high"}})
    if (v && !(*v >= 0))
      throw makeError(flag, " must be non-negative, got ", *v);
  if (o.ratioCap && !(*o.ratioCap > 0))
    throw makeError("--ratio-cap must be positive, got ", *o.ratioCap);
  if (o.dualClip && !(*o.dualClip == 0 || *o.dualClip > 1))
    throw makeError("--dual-clip must be greater than 1 (or 0: off), got ", *o.dualClip);
  if (!(o.klCoef >= 0))
    throw makeError("--kl-coef must be non-negative, got ", o.klCoef);
  if (!(o.temperature > 0))
    throw makeError("--temperature must be positive, got ", o.temperature);
  if (o.out.empty())
    throw makeError("--out is required");
}

/// The preset with the command line's overrides, checked against the kind.
RlObjective resolveObjective(const RlOptions &o) {
  RlObjective objective = objectivePreset(o.objective);
  auto &l = objective.loss;
  if (o.epsLow)
    l.epsLow = *o.epsLow;
  if (o.epsHigh)
    l.epsHigh = *o.epsHigh;
  if (o.ratioCap) {
    if (!l.cispo)
      throw makeError("--ratio-cap is CISPO's absolute cap; ", o.objective,
                      " clips with --eps-low / --eps-high");
    l.ratioCap = *o.ratioCap;
    l.logRatioClamp = 700; // that convention has no log-ratio clamp (exp stays finite)
  }
  if (o.dualClip) {
    if (l.cispo && *o.dualClip > 0)
      throw makeError("--dual-clip applies to the PPO-style objectives, not cispo");
    l.dualClip = *o.dualClip > 0 ? o.dualClip : std::nullopt;
  }
  l.temperature = o.temperature;
  l.klCoef = o.klCoef;
  return objective;
}

/// Pearson correlation of the paired samples (NaN with fewer than 2).
double pearson(const std::vector<double> &x, const std::vector<double> &y) {
  size_t n = x.size();
  if (n < 2)
    return NAN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) {
    mx += x[i];
    my += y[i];
  }
  mx /= double(n);
  my /= double(n);
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx > 0 && syy > 0 ? sxy / std::sqrt(sxx * syy) : NAN;
}

/// One sampled response, ready for the policy update.
struct Rollout {
  std::vector<int64_t> prompt, response;
  std::vector<double> logprobs; // the engine's, per response token
  double reward = 0, advantage = 0;
};

/// Positions of `r` that predict a response token in a row of T: t + 1 in
/// [prompt, n) for t < T (the mask of updateInputs).
int64_t maskedTokens(const Rollout &r, int64_t T) {
  int64_t prompt = static_cast<int64_t>(r.prompt.size());
  int64_t n = prompt + static_cast<int64_t>(r.response.size());
  return std::max<int64_t>(0, std::min(T, n - 1) - std::max<int64_t>(0, prompt - 1));
}

/// The update inputs of `rows` (in @loss's argument order) for sequences of
/// T tokens: ids, labels (-100 off the response), positions, old log-probs,
/// advantages, mask, normaliser (token count, or rows per sequence).
std::vector<Tensor> updateInputs(const std::vector<const Rollout *> &rows, int64_t T, int64_t pad,
                                 bool perSequence) {
  int64_t B = static_cast<int64_t>(rows.size());
  Tensor ids = Tensor::zeros(DType::I64, {B, T}), labels = Tensor::zeros(DType::I64, {B, T});
  Tensor positions = Tensor::zeros(DType::I64, {B, T});
  Tensor old = Tensor::zeros(DType::F32, {B, T}), mask = Tensor::zeros(DType::F32, {B, T});
  Tensor advantages = Tensor::zeros(DType::F32, {B});
  double tokens = 0;
  for (const Rollout *r : rows)
    tokens += double(maskedTokens(*r, T));
  for (int64_t b = 0; b < B; ++b) {
    const Rollout &r = *rows[b];
    std::vector<int64_t> seq = r.prompt;
    seq.insert(seq.end(), r.response.begin(), r.response.end());
    int64_t prompt = static_cast<int64_t>(r.prompt.size()), n = static_cast<int64_t>(seq.size());
    advantages.data<float>()[b] = static_cast<float>(r.advantage);
    for (int64_t t = 0; t < T; ++t) {
      int64_t i = b * T + t;
      ids.data<int64_t>()[i] = t < n ? seq[t] : pad;
      positions.data<int64_t>()[i] = t;
      bool response = t + 1 >= prompt && t + 1 < n; // position t predicts token t + 1
      labels.data<int64_t>()[i] = response ? seq[t + 1] : -100;
      if (response) {
        old.data<float>()[i] = static_cast<float>(r.logprobs[t + 1 - prompt]);
        mask.data<float>()[i] = 1;
      }
    }
  }
  float normalizer = perSequence ? float(B) : float(tokens);
  return {ids, labels, positions, old, advantages, mask,
          Tensor::fromVector<float>({}, {normalizer})};
}

struct Accuracy {
  double sampled, greedy;
};

/// Accuracy on the fixed evaluation set: the mean reward of `samples`
/// responses per prompt at the rollout temperature (avg@k, as MiniMax-M1
/// reports its benchmarks; the quantity RL optimises), and greedy. Under
/// mpirun each rank answers its share of the prompts with the streams they
/// have in one process, and the rewards are summed over the ranks.
Accuracy evaluate(RolloutEngine &engine, const AdditionTask &task, const Tokenizer &tokenizer,
                  int64_t eos, int64_t prompts, int64_t samples, double temperature,
                  int64_t maxNewTokens) {
  Share share = shareOf(prompts, dist::world().size(), dist::world().rank());
  std::vector<TaskExample> examples;
  std::vector<std::vector<int64_t>> ids, repeated;
  for (int64_t i = share.begin; i < share.end; ++i) {
    examples.push_back(task.example(kEvalSeed, kEvalStream, uint64_t(i), tokenizer, eos));
    ids.push_back(examples.back().promptIds);
    for (int64_t k = 0; k < samples; ++k)
      repeated.push_back(examples.back().promptIds);
  }
  GenerationOptions options;
  options.maxNewTokens = maxNewTokens;
  options.stopTokens = {eos};
  GenerationResult greedy = engine.generate(ids, options);
  options.sampling.greedy = false;
  options.sampling.temperature = temperature;
  options.sampling.seed = kEvalStream;
  options.firstSequence = share.begin * samples;
  GenerationResult sampled = engine.generate(repeated, options);
  std::vector<double> sums{0, 0}; // greedy, sampled
  for (int64_t i = 0; i < share.size(); ++i) {
    sums[0] += task.reward(examples[i], greedy.tokens[i], tokenizer, eos);
    for (int64_t k = 0; k < samples; ++k)
      sums[1] += task.reward(examples[i], sampled.tokens[i * samples + k], tokenizer, eos);
  }
  sumOverWorld(sums, "summing the evaluation rewards");
  return {sums[1] / double(prompts * samples), sums[0] / double(prompts)};
}

/// A progress bar on a terminal, else a line every `every` steps.
void reportProgress(std::ostream &log, bool terminal, int64_t step, int64_t steps, int64_t every,
                    const MetricsTable &metrics) {
  char line[320];
  double reward = metrics.last("reward_mean"), accuracy = metrics.last("accuracy");
  if (terminal) {
    int filled = static_cast<int>(30.0 * double(step) / double(steps));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(30, '.');
    std::snprintf(line, sizeof line, "\r[%s] %lld/%lld  reward %.3f  accuracy %.3f ", bar.c_str(),
                  static_cast<long long>(step), static_cast<long long>(steps), reward, accuracy);
    log << line << (step == steps ? "\n" : "") << std::flush;
    return;
  }
  if (step % every != 0 && step != steps)
    return;
  std::snprintf(line, sizeof line,
                "step %lld/%lld  reward %.3f  accuracy %.3f  response_len %.2f  clip_frac %.3f  "
                "prob_corr %.4f  %.0f tok/s\n",
                static_cast<long long>(step), static_cast<long long>(steps), reward, accuracy,
                metrics.last("response_len"), metrics.last("clip_frac"),
                metrics.last("prob_corr"), metrics.last("tokens_per_s"));
  log << line << std::flush;
}

const std::vector<std::string> kColumns = {
    "step",          "reward_mean",  "accuracy",  "response_len",         "clip_frac",
    "prob_corr",     "tokens_per_s", "rollout_accuracy", "loss",          "grad_norm",
    "kept_groups",   "truncated",    "rollout_tokens_per_s", "update_tokens_per_s", "greedy_accuracy", "elapsed_s"};
} // namespace

int reinforce(const RlOptions &o, std::ostream &rankLog, std::ostream &rankOut) {
  checkOptions(o);
  AdditionTask task = AdditionTask::parse(o.task);
  RlObjective objective = o.evalOnly ? RlObjective{} : resolveObjective(o);
  StartingModel model = loadStartingModel(o.model, "", "", o.seed);
  // Rank 0 writes the run directory and talks; the others sample and train
  // in step.
  dist::Collectives &world = dist::world();
  bool leader = world.rank() == 0;
  std::ostream nowhere(nullptr);
  std::ostream &log = leader ? rankLog : nowhere, &out = leader ? rankOut : nowhere;
  if (o.evalOnly && !o.parallel.empty())
    throw makeError("--parallel '", o.parallel, "' lays out the policy update; --eval-only has "
                    "none (its evaluation spreads over every mpirun rank by itself)");
  TrainingLayout parallel;
  if (!o.evalOnly && (!o.parallel.empty() || world.size() > 1))
    parallel = trainingLayout(o.parallel, /*batchSize=*/0, model.config, o.model + "/config.json");
  const Tokenizer &tokenizer = *model.tokenizer;
  int64_t promptTokens = task.maxPromptTokens(tokenizer), M = o.maxNewTokens;
  int64_t rollouts = o.promptsPerStep * o.groupSize;

  RolloutEngineOptions engineOptions;
  engineOptions.maxBatch =
      o.evalOnly ? std::min<int64_t>(o.evalPrompts * o.evalSamples, 256) : rollouts;
  engineOptions.maxPromptTokens = promptTokens;
  engineOptions.maxNewTokens = M;
  if (o.engineWeights != "bf16" && o.engineWeights != "f32")
    throw makeError("--engine-weights '", o.engineWeights, "': expected bf16 or f32");
  engineOptions.bf16Weights = o.engineWeights == "bf16";
  engineOptions.lmHeadFp32 = o.lmHeadFp32;
  engineOptions.cuda = o.backend == StepBackend::CUDA; // rollouts and updates on the GPU
  engineOptions.cacheDir = o.out.empty() ? "" : o.out + "/cache";

  if (o.evalOnly) {
    RolloutEngine engine(model.config, model.configText, model.weights, engineOptions, log);
    Accuracy a = evaluate(engine, task, tokenizer, model.eos, o.evalPrompts, o.evalSamples,
                          o.temperature, M);
    out << nlohmann::json{{"accuracy", a.sampled},
                          {"greedy_accuracy", a.greedy},
                          {"task", task.spec()},
                          {"prompts", o.evalPrompts},
                          {"samples_per_prompt", o.evalSamples},
                          {"temperature", o.temperature}}
               .dump()
        << "\n";
    return 0;
  }

  int64_t overlongBuffer = o.overlongBuffer >= 0 ? o.overlongBuffer : std::max<int64_t>(1, M / 4);
  const auto &loss = objective.loss;
  nlohmann::json identity = {
      {"command", "rl"},
      {"task", task.spec()},
      {"start", model.describe},
      {"objective",
       {{"name", objective.name},
        {"eps_low", loss.epsLow},
        {"eps_high", loss.epsHigh},
        {"ratio_cap", loss.ratioCap ? *loss.ratioCap : 0.0},
        {"dual_clip", loss.dualClip ? *loss.dualClip : 0.0},
        {"kl_coef", loss.klCoef},
        {"overlong_buffer", overlongBuffer}}},
      {"steps", o.steps},
      {"prompts_per_step", o.promptsPerStep},
      {"group_size", o.groupSize},
      {"max_new_tokens", M},
      {"updates_per_batch", o.updatesPerBatch},
      {"lr", o.lr},
      {"seed", o.seed},
      {"threads", o.threads},
      {"temperature", o.temperature},
      {"lm_head_fp32", o.lmHeadFp32},
      {"engine_weights", o.engineWeights},
      {"backend", backendName(o.backend)},
      {"repeat", {o.repeatWindow, o.repeatProbability}},
      {"eval", {o.evalPrompts, o.evalSamples, o.evalEvery}},
      {"optimizer", optimizerIdentity(o.optimizer)}};
  if (leader)
    claimRunDirectory(o.out, o.resume, identity);
  world.barrier("the run directory claimed by rank 0");

  std::unique_ptr<ReferencePolicy> reference;
  int64_t T = promptTokens + M - 1; // the longest prompt + response, less the last token
  if (loss.klCoef > 0) // the starting policy, before any checkpoint is loaded
    reference = std::make_unique<ReferencePolicy>(model.config, loss, rollouts, T,
                                                  model.weights, o.out + "/cache", log);
  TrainingState state = startingState(std::move(model.weights));
  std::string checkpoints = o.out + "/checkpoints";
  if (o.resume) {
    auto found = loadNewestCheckpoint(checkpoints, state.weights, o.seed, log);
    if (found) {
      state = std::move(found->second);
      log << "mm-train: resuming from " << found->first << " (step " << state.step << ")\n";
    }
  }

  // Data parallel: each replica updates on its share of a mini-batch's
  // rows, weighed by its share of the loss's terms (response tokens, or
  // rows per sequence), so the average is the one-process update.
  int64_t dp = parallel.dp, replica = replicaOf(dp);
  StepProgram program(model.config, o.optimizer, o.backend, rollouts, T, o.out + "/cache", log,
                      leader ? o.emitIR : "", objective.loss, dp, o.zero1, parallel.model,
                      /*weighReplicas=*/dp > 1);
  int64_t updateRows = (o.promptsPerStep + o.updatesPerBatch - 1) / o.updatesPerBatch * o.groupSize;
  describeLayout(parallel, updateRows, log); // (the most rows of one update)
  keepOwnStateAndReport(program, state, parallel, o.zero1, log, rankLog);
  // The engine samples with whole weights on every rank (the update's parts
  // gathered after each step, as verl reshards a Megatron trainer's weights
  // for a rollout engine of its own layout).
  auto engineWeights = [&] { return program.wholeWeights(state.weights); };
  RolloutEngine engine(model.config, model.configText, engineWeights(), engineOptions, log);
  // Within a tp group every rank holds the same rows: its first rank speaks
  // for the replica in the step's metrics.
  bool speaksForReplica = world.rank() % (world.size() / dp) == 0;

  MetricsTable metrics(o.out + "/metrics.csv", kColumns, state.step);
  int64_t every = o.logEvery > 0 ? o.logEvery : std::max<int64_t>(1, o.steps / 20);
  int64_t saveEvery = o.saveEvery > 0 ? o.saveEvery : std::max<int64_t>(1, o.steps / 5);
  bool terminal = ::isatty(STDERR_FILENO) && &log == &std::cerr;
  double elapsed = metrics.rows().empty() ? 0 : metrics.last("elapsed_s");
  auto flush = [&] {
    if (!leader)
      return;
    metrics.flush();
    writeFileAtomically(o.out + "/reward_curve.svg",
                        curvesSvg({metrics.series("reward_mean"), metrics.series("accuracy")},
                                  "reward / accuracy"));
  };

  for (int64_t step = state.step + 1; step <= o.steps; ++step) {
    auto stepStart = Clock::now();
    engine.loadWeights(engineWeights()); // the policy being trained, in memory

    // Rollouts: G samples of each prompt; under mpirun each rank samples
    // its share of the prompts and every rank gathers all.
    std::vector<TaskExample> examples;
    std::vector<std::vector<int64_t>> prompts, mine;
    Share share = shareOf(o.promptsPerStep, world.size(), world.rank());
    for (int64_t p = 0; p < o.promptsPerStep; ++p) {
      examples.push_back(task.example(o.seed, uint64_t(step), uint64_t(p), tokenizer, model.eos));
      for (int64_t g = 0; g < o.groupSize; ++g) {
        prompts.push_back(examples.back().promptIds);
        if (p >= share.begin && p < share.end)
          mine.push_back(examples.back().promptIds);
      }
    }
    GenerationOptions generation;
    generation.maxNewTokens = M;
    generation.sampling.greedy = false;
    generation.sampling.temperature = o.temperature;
    generation.sampling.seed = o.seed * 1000003ULL + uint64_t(step) * 7919ULL;
    generation.firstSequence = share.begin * o.groupSize; // (its streams in one process)
    generation.stopTokens = {model.eos};
    generation.logprobs = true;
    generation.repeatWindow = o.repeatWindow;
    generation.repeatProbability = o.repeatProbability;
    auto rolloutStart = Clock::now();
    GenerationResult generated =
        gatherGenerations(engine.generate(mine, generation), "gathering the step's rollouts");
    double rolloutSeconds = secondsSince(rolloutStart);

    std::vector<Rollout> batch(static_cast<size_t>(rollouts));
    std::vector<double> rewards;
    double correct = 0, responseTokens = 0, truncated = 0;
    for (int64_t i = 0; i < rollouts; ++i) {
      Rollout &r = batch[i];
      r.prompt = prompts[i];
      r.response = generated.tokens[i];
      r.logprobs = generated.logprobs[i];
      const TaskExample &e = examples[i / o.groupSize];
      double score = task.reward(e, r.response, tokenizer, model.eos);
      correct += score;
      int64_t length = static_cast<int64_t>(r.response.size());
      responseTokens += double(length);
      truncated += generated.truncated[i] ? 1 : 0;
      r.reward = score + (objective.overlongPenalty ? overlongPenalty(length, M, overlongBuffer) : 0);
      rewards.push_back(r.reward);
    }
    std::vector<double> advantages = groupAdvantages(rewards, o.groupSize);
    std::vector<std::vector<const Rollout *>> groups;
    for (int64_t p = 0; p < o.promptsPerStep; ++p) {
      bool varied = false;
      for (int64_t g = 0; g < o.groupSize; ++g) {
        int64_t i = p * o.groupSize + g;
        batch[i].advantage = advantages[i];
        varied |= rewards[i] != rewards[p * o.groupSize];
      }
      if (varied || !objective.dynamicSampling) {
        groups.emplace_back();
        for (int64_t g = 0; g < o.groupSize; ++g)
          groups.back().push_back(&batch[p * o.groupSize + g]);
      }
    }

    // The policy update: one AdamW step per mini-batch of groups.
    double lossSum = 0, normSum = 0, clipped = 0, counted = 0, trainedTokens = 0;
    std::vector<double> engineProbs, trainerProbs;
    int64_t updates = std::min<int64_t>(o.updatesPerBatch, static_cast<int64_t>(groups.size()));
    auto updateStart = Clock::now();
    if (groups.empty())
      log << "mm-train: step " << step << ": every group's rewards are equal; "
          << objective.name << "'s dynamic sampling drops them all, so this step makes no update\n";
    for (int64_t u = 0; u < updates; ++u) {
      std::vector<const Rollout *> rows;
      size_t from = groups.size() * size_t(u) / size_t(updates);
      size_t to = groups.size() * size_t(u + 1) / size_t(updates);
      for (size_t g = from; g < to; ++g)
        rows.insert(rows.end(), groups[g].begin(), groups[g].end());
      int64_t n = static_cast<int64_t>(rows.size());
      Share part = shareOf(n, dp, replica);
      std::vector<const Rollout *> local(rows.begin() + part.begin, rows.begin() + part.end);
      // A replica with no row of this update runs one with nothing to learn
      // (mask 0), at weight 0: every replica must join the step's collectives.
      bool idle = local.empty();
      if (idle)
        local.push_back(rows.front());
      std::vector<Tensor> inputs = updateInputs(local, T, model.eos, loss.perSequence);
      if (idle) {
        inputs[5] = Tensor::zeros(DType::F32, inputs[5].shape());
        inputs[6] = Tensor::fromVector<float>({}, {1.0f});
      }
      if (dp > 1) {
        auto terms = [&](const std::vector<const Rollout *> &of) {
          double sum = 0;
          for (const Rollout *r : of)
            sum += loss.perSequence ? 1.0 : double(maskedTokens(*r, T));
          return sum;
        };
        double all = terms(rows), own = idle ? 0 : terms(local);
        program.setReplicaWeight(all > 0 ? own / all : 0.0);
      }
      Tensor old = inputs[3], mask = inputs[5], adv = inputs[4];
      if (reference)
        inputs.push_back(reference->logprobs(inputs));
      StepProgram::Result r = program.run(inputs, state, o.lr, state.step * o.updatesPerBatch + u + 1);
      if (!std::isfinite(r.loss) || !std::isfinite(r.gradNorm)) {
        flush();
        log << "mm-train: step " << step << ", update " << u + 1 << ": the loss is " << r.loss
            << " and the gradient norm " << r.gradNorm << "; stopping without applying it\n";
        return 3;
      }
      lossSum += r.loss;
      normSum += r.gradNorm;
      // Before this update, the trainer's log-probs of the sampled tokens:
      // against the engine's for the first (same weights), and the ratio's
      // clipping for all; this replica's rows, gathered below.
      trainedTokens += double(rows.size()) * double(T);
      if (!speaksForReplica)
        continue;
      const float *now = r.aux.at(0).data<float>(), *before = old.data<float>();
      const float *m = mask.data<float>(), *a = adv.data<float>();
      int64_t Tm = old.dim(1);
      for (int64_t i = 0; i < old.numel(); ++i) {
        if (m[i] == 0)
          continue;
        double ratio = std::exp(double(now[i]) - double(before[i]));
        double A = a[i / Tm];
        bool clip = loss.cispo ? (loss.ratioCap ? ratio > *loss.ratioCap
                                                : ratio > 1 + loss.epsHigh || ratio < 1 - loss.epsLow)
                               : (A > 0 && ratio > 1 + loss.epsHigh) ||
                                     (A < 0 && ratio < 1 - loss.epsLow);
        clipped += clip ? 1 : 0;
        counted += 1;
        if (u == 0) {
          engineProbs.push_back(std::exp(double(before[i])));
          trainerProbs.push_back(std::exp(double(now[i])));
        }
      }
    }
    std::vector<double> clipCounts{clipped, counted};
    sumOverWorld(clipCounts, "summing the clipped tokens");
    clipped = clipCounts[0];
    counted = clipCounts[1];
    engineProbs = gatherAll(engineProbs, "gathering the engine's probabilities");
    trainerProbs = gatherAll(trainerProbs, "gathering the trainer's probabilities");
    double updateSeconds = secondsSince(updateStart);
    state.step = step;
    state.tokensSeen += static_cast<int64_t>(trainedTokens);

    double trainSeconds = secondsSince(stepStart); // rollouts and updates, not evaluation
    Accuracy accuracy{NAN, NAN};
    if (step % o.evalEvery == 0 || step == o.steps) {
      engine.loadWeights(engineWeights());
      accuracy = evaluate(engine, task, tokenizer, model.eos, o.evalPrompts, o.evalSamples,
                          o.temperature, M);
    }
    double seconds = secondsSince(stepStart);
    elapsed += seconds;
    double rewardMean = std::accumulate(rewards.begin(), rewards.end(), 0.0) / double(rollouts);
    metrics.add({double(step), rewardMean,
                 accuracy.sampled, responseTokens / double(rollouts), counted ? clipped / counted : NAN,
                 pearson(engineProbs, trainerProbs),
                 double(generated.generatedTokens) / trainSeconds,
                 correct / double(rollouts), updates ? lossSum / double(updates) : NAN,
                 updates ? normSum / double(updates) : NAN, double(groups.size()), truncated,
                 double(generated.generatedTokens) / rolloutSeconds,
                 updates ? trainedTokens / updateSeconds : NAN, accuracy.greedy, elapsed});
    reportProgress(log, terminal, step, o.steps, every, metrics);
    if (step % saveEvery == 0 || step == o.steps) {
      std::optional<TrainingState> whole; // (gathering is a collective: every rank joins)
      if (program.splitsState())
        whole = program.wholeState(state);
      flush(); // before the checkpoint (see SupervisedLoop.cpp)
      if (leader)
        saveCheckpoint(checkpoints, whole ? *whole : state, o.seed);
    }
  }
  TensorMap finalWeights = engineWeights();
  if (leader)
    exportHuggingFaceModel(o.out, model.config, finalWeights, model.configText,
                           model.tokenizerText);
  flush();
  log << "mm-train: " << o.steps << " RL steps (" << objective.name << "); accuracy "
      << metrics.last("accuracy") << "; the model is in " << o.out
      << ", metrics in metrics.csv and reward_curve.svg\n";
  return 0;
}

} // namespace mm::train
