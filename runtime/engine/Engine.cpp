//===- Engine.cpp ---------------------------------------------------------===//
#include "runtime/engine/Engine.h"
#include "runtime/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <set>

namespace mm {

InferenceEngine::InferenceEngine(const MiniMaxConfig &config, ForwardBackend &backend)
    : config_(config), backend_(backend) {}

void InferenceEngine::checkIds(const std::vector<int64_t> &ids, size_t prompt) const {
  if (ids.empty())
    throw makeError("prompt ", prompt, " is empty");
  for (size_t i = 0; i < ids.size(); ++i)
    if (ids[i] < 0 || ids[i] >= config_.vocabSize)
      throw makeError("prompt ", prompt, ": token id ", ids[i], " at position ", i,
                      " is outside the vocabulary [0, ", config_.vocabSize, ") of ",
                      config_.source);
}

/// Throws unless a step's logits are [B, vocab] (a backend's bug or a
/// mis-declared executable would otherwise read past them).
static void checkLogits(const Tensor &logits, int64_t B, int64_t vocab) {
  if (logits.rank() != 2 || logits.dim(0) != B || logits.dim(1) != vocab)
    throw makeError("the step's logits are ", formatShape(logits.shape()), ", expected ", B, "x",
                    vocab);
}

/// Logits of sequence b as doubles, from [B, V] (F32 or F64).
static std::vector<double> rowOf(const Tensor &logits, int64_t b) {
  int64_t V = logits.dim(-1);
  std::vector<double> row(V);
  if (logits.dtype() == DType::F32)
    std::copy(logits.data<float>() + b * V, logits.data<float>() + (b + 1) * V, row.begin());
  else
    std::copy(logits.data<double>() + b * V, logits.data<double>() + (b + 1) * V, row.begin());
  return row;
}

/// log softmax(row / temperature)[token], in double.
static double tokenLogprob(const std::vector<double> &row, int64_t token, double temperature) {
  double top = *std::max_element(row.begin(), row.end()) / temperature, sum = 0;
  for (double x : row)
    sum += std::exp(x / temperature - top);
  return row[token] / temperature - top - std::log(sum);
}

GenerationResult InferenceEngine::generate(const std::vector<std::vector<int64_t>> &prompts,
                                           const GenerationOptions &options) {
  using Clock = std::chrono::steady_clock;
  if (backend_.allLogits())
    throw makeError("generate needs a backend built for last-token logits");
  if (prompts.empty())
    throw makeError("generate: no prompts");
  if (options.maxNewTokens < 1)
    throw makeError("max new tokens must be at least 1, got ", options.maxNewTokens);
  if (options.repeatWindow < 0 || !(options.repeatProbability >= 0 && options.repeatProbability < 1))
    throw makeError("repetition truncation: the window must be >= 0 and the probability in "
                    "[0, 1), got ", options.repeatWindow, " and ", options.repeatProbability);
  options.sampling.validate();
  for (size_t p = 0; p < prompts.size(); ++p)
    checkIds(prompts[p], p);
  for (int64_t s : options.stopTokens)
    if (s < 0 || s >= config_.vocabSize)
      throw makeError("stop token ", s, " is outside the vocabulary");
  for (int64_t s : options.bannedTokens)
    if (s < 0 || s >= config_.vocabSize)
      throw makeError("banned token ", s, " is outside the vocabulary");

  int64_t B = static_cast<int64_t>(prompts.size()), T = 0;
  for (const auto &p : prompts)
    T = std::max<int64_t>(T, p.size());
  int64_t capacity = T + options.maxNewTokens;

  GenerationResult result;
  result.tokens.resize(B);
  result.logprobs.resize(B);
  result.truncated.assign(B, false);
  std::vector<int64_t> confidentRun(B, 0); // consecutive tokens above repeatProbability
  double temperature = options.sampling.greedy ? 1.0 : options.sampling.temperature;
  bool needProbability = options.logprobs || options.repeatWindow > 0;
  std::vector<Sampler> samplers;
  for (int64_t b = 0; b < B; ++b)
    samplers.emplace_back(options.sampling, uint64_t(options.firstSequence + b));
  std::set<int64_t> stops(options.stopTokens.begin(), options.stopTokens.end());
  std::vector<bool> finished(B, false);
  std::vector<int64_t> cacheLen(B);

  // Prefill: right-padded prompts, each sequence's logits at its last real token.
  Tensor ids = Tensor::zeros(DType::I64, {B, T}), positions = Tensor::zeros(DType::I64, {B, T});
  Tensor cachePositions = Tensor::zeros(DType::I64, {B}), lengths = Tensor::zeros(DType::I64, {B});
  for (int64_t b = 0; b < B; ++b) {
    const auto &p = prompts[b];
    std::copy(p.begin(), p.end(), ids.data<int64_t>() + b * T);
    for (int64_t t = 0; t < T; ++t)
      positions.data<int64_t>()[b * T + t] = t;
    lengths.data<int64_t>()[b] = cacheLen[b] = p.size();
    result.promptTokens += p.size();
  }
  backend_.reset(B, capacity);
  auto start = Clock::now();
  Tensor logits = backend_.step(ids, positions, cachePositions, lengths);
  result.prefillSeconds = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<int64_t> next(B);
  auto pick = [&](const Tensor &logits) {
    checkLogits(logits, B, config_.vocabSize);
    for (int64_t b = 0; b < B; ++b) {
      if (finished[b])
        continue;
      std::vector<double> row = rowOf(logits, b);
      for (int64_t banned : options.bannedTokens)
        row[banned] = -std::numeric_limits<double>::infinity();
      next[b] = samplers[b].sample(row.data(), config_.vocabSize);
      result.tokens[b].push_back(next[b]);
      ++result.generatedTokens;
      if (stops.count(next[b]))
        finished[b] = true;
      if (!needProbability)
        continue;
      double logprob = tokenLogprob(row, next[b], temperature);
      if (options.logprobs)
        result.logprobs[b].push_back(logprob);
      confidentRun[b] = std::exp(logprob) > options.repeatProbability ? confidentRun[b] + 1 : 0;
      if (options.repeatWindow > 0 && confidentRun[b] >= options.repeatWindow && !finished[b]) {
        finished[b] = true;
        result.truncated[b] = true;
      }
    }
  };
  pick(logits);

  start = Clock::now();
  for (int64_t step = 1; step < options.maxNewTokens; ++step) {
    if (std::all_of(finished.begin(), finished.end(), [](bool f) { return f; }))
      break;
    Tensor stepIds = Tensor::empty(DType::I64, {B, 1}), stepPos = Tensor::empty(DType::I64, {B, 1});
    Tensor stepCache = Tensor::empty(DType::I64, {B}), stepLen = Tensor::empty(DType::I64, {B});
    for (int64_t b = 0; b < B; ++b) {
      // A finished sequence keeps stepping with its last token; its output is dropped.
      stepIds.data<int64_t>()[b] = next[b];
      stepPos.data<int64_t>()[b] = stepCache.data<int64_t>()[b] = cacheLen[b]++;
      stepLen.data<int64_t>()[b] = 1;
    }
    logits = backend_.step(stepIds, stepPos, stepCache, stepLen);
    ++result.decodeSteps;
    pick(logits);
  }
  result.decodeSeconds = std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

Tensor InferenceEngine::scoreAll(const std::vector<int64_t> &sequence) {
  if (!backend_.allLogits())
    throw makeError("scoring needs a backend built for all-position logits");
  checkIds(sequence, 0);
  int64_t T = static_cast<int64_t>(sequence.size());
  Tensor ids = Tensor::fromVector<int64_t>({1, T}, sequence);
  std::vector<int64_t> pos(T);
  for (int64_t t = 0; t < T; ++t)
    pos[t] = t;
  backend_.reset(1, T);
  Tensor logits =
      backend_.step(ids, Tensor::fromVector<int64_t>({1, T}, pos), Tensor::zeros(DType::I64, {1}),
                    Tensor::fromVector<int64_t>({1}, {T}));
  if (logits.numel() != T * config_.vocabSize)
    throw makeError("the step's logits are ", formatShape(logits.shape()), ", expected 1x", T, "x",
                    config_.vocabSize);
  return logits.reshaped({T, config_.vocabSize});
}

} // namespace mm
