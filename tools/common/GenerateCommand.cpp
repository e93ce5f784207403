//===- GenerateCommand.cpp ------------------------------------------------===//
#include "tools/common/GenerateCommand.h"
#include "runtime/Error.h"
#include "runtime/Npy.h"
#include "runtime/dist/Collectives.h"
#include "runtime/engine/DelegatingBackend.h"
#include "runtime/engine/Engine.h"
#include "tools/common/NumberValidators.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>

namespace mm {

namespace {
/// Forwards to a backend and keeps, per step, the logits of sequence 0 at its
/// last real token.
class RecordingBackend : public DelegatingBackend {
public:
  using DelegatingBackend::DelegatingBackend;
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override {
    Tensor logits = DelegatingBackend::step(ids, positions, cachePositions, lengths);
    int64_t vocab = logits.dim(logits.rank() - 1);
    int64_t row = 0;
    if (logits.rank() == 3) // [B, T, vocab]: the last real token of sequence 0
      row = std::max<int64_t>(lengths.data<int64_t>()[0] - 1, 0);
    const float *p = logits.data<float>() + row * vocab;
    rows_.insert(rows_.end(), p, p + vocab);
    vocab_ = vocab;
    return logits;
  }
  void write(const std::string &path) const {
    int64_t steps = vocab_ ? static_cast<int64_t>(rows_.size()) / vocab_ : 0;
    writeNpy(path, Tensor::fromVector<float>({steps, vocab_}, rows_));
  }

private:
  std::vector<float> rows_;
  int64_t vocab_ = 0;
};
} // namespace

std::vector<int64_t> parseIds(const std::string &text) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item =
        text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception &) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      throw makeError("--ids: '", item, "' is not an integer token id (expected e.g. 1,2,3)");
    ids.push_back(v);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return ids;
}

void addGenerateOptions(CLI::App &cmd, GenerateArgs &args) {
  cmd.add_option("--ids", args.ids, "prompt token ids, e.g. 1,2,3 (repeat for a batch)");
  cmd.add_option("--prompt", args.prompts, "prompt text (needs tokenizer.json; repeatable)");
  cmd.add_option("--max-new-tokens", args.maxNewTokens, "tokens to generate")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 20));
  auto *greedy = cmd.add_flag("--greedy", args.greedy, "argmax decoding");
  auto *temp = cmd.add_option("--temperature", args.temperature, "sampling temperature")
                   ->check(cli::kPositive);
  auto *topk = cmd.add_option("--top-k", args.topK, "keep the k most likely tokens")
                   ->check(cli::kNonNegative);
  auto *topp =
      cmd.add_option("--top-p", args.topP, "nucleus sampling mass")->check(CLI::Range(0.0, 1.0));
  cmd.add_option("--seed", args.seed, "sampling seed");
  greedy->excludes(temp)->excludes(topk)->excludes(topp);
  cmd.add_flag("--json", args.json, "print one JSON object as the last line");
  cmd.add_flag("--ignore-eos", args.ignoreEos, "do not stop at the config's eos tokens");
  cmd.add_option("--image", args.images,
                 "PNG or JPEG for a MiniMax-VL-01 model: one per image token of the prompts, in order");
  cmd.add_option("--dump-logits", args.dumpLogits,
                 "write each step's logits of the first sequence here (.npy, [steps, vocab])");
}

int runGenerate(ModelFolder &folder, const GenerateArgs &args, const BackendFactory &factory,
                const nlohmann::json &extra,
                const VisionEncoder &encoder) {
  std::vector<std::vector<int64_t>> prompts;
  for (const std::string &s : args.ids)
    prompts.push_back(parseIds(s));
  for (const std::string &p : args.prompts) {
    if (!folder.tokenizer)
      throw makeError("--prompt needs a tokenizer.json in ", folder.dir,
                      "; pass token ids with --ids instead");
    prompts.push_back(folder.tokenizer->encode(p));
  }
  if (prompts.empty())
    throw makeError("give a prompt with --ids or --prompt");

  GenerationOptions options;
  options.maxNewTokens = args.maxNewTokens;
  options.sampling.greedy = args.greedy;
  options.sampling.temperature = args.temperature;
  options.sampling.topK = args.topK;
  options.sampling.topP = args.topP;
  options.sampling.seed = args.seed;
  if (!args.ignoreEos)
    options.stopTokens = folder.config.eosTokenIds;
  Tensor imageFeatures;
  if (folder.vision || !args.images.empty()) {
    if (folder.vision && !encoder)
      throw makeError(folder.dir, ": this tool cannot run MiniMax-VL-01's vision tower");
    ImagePrompts batch = prepareImagePrompts(folder, prompts, args.images, encoder);
    prompts = std::move(batch.ids);
    imageFeatures = std::move(batch.features);
    options.bannedTokens.push_back(folder.vision->imageTokenIndex);
  }

  int64_t longest = 0;
  for (const auto &p : prompts)
    longest = std::max<int64_t>(longest, p.size());
  std::unique_ptr<ForwardBackend> backend =
      factory(folder, static_cast<int64_t>(prompts.size()), longest, longest + args.maxNewTokens);
  RecordingBackend *recorder = nullptr;
  if (!args.dumpLogits.empty()) {
    auto wrapped = std::make_unique<RecordingBackend>(std::move(backend));
    recorder = wrapped.get();
    backend = std::move(wrapped);
  }
  if (folder.vision)
    backend->setImageFeatures(imageFeatures);
  InferenceEngine engine(folder.config, *backend);
  GenerationResult r = engine.generate(prompts, options);
  if (recorder && dist::world().rank() == 0) // under mpirun, rank 0 writes
    recorder->write(args.dumpLogits);

  double total = r.prefillSeconds + r.decodeSeconds;
  nlohmann::json report;
  report["ids"] = prompts.size() == 1 ? nlohmann::json(r.tokens[0]) : nlohmann::json(r.tokens);
  if (folder.tokenizer) {
    std::vector<std::string> texts;
    for (const auto &t : r.tokens)
      texts.push_back(folder.tokenizer->decode(t));
    report["text"] = prompts.size() == 1 ? nlohmann::json(texts[0]) : nlohmann::json(texts);
  }
  report["prompt_tokens"] = r.promptTokens;
  report["generated_tokens"] = r.generatedTokens;
  report["tokens_per_second"] = total > 0 ? r.generatedTokens / total : 0.0;
  report["prefill_tokens_per_second"] =
      r.prefillSeconds > 0 ? r.promptTokens / r.prefillSeconds : 0.0;
  report["decode_tokens_per_second"] =
      r.decodeSeconds > 0 ? (r.generatedTokens - int64_t(prompts.size())) / r.decodeSeconds : 0.0;
  report["backend"] = backend->name();
  report.update(extra);

  if (!args.json) {
    for (size_t b = 0; b < r.tokens.size(); ++b) {
      if (folder.tokenizer)
        std::cout << folder.tokenizer->decode(prompts[b]) << "\u2502"
                  << folder.tokenizer->decode(r.tokens[b]) << "\n";
      std::cout << "ids:";
      for (int64_t id : r.tokens[b])
        std::cout << " " << id;
      std::cout << "\n";
    }
    std::cout << r.generatedTokens << " tokens in " << total << " s ("
              << report["tokens_per_second"].get<double>() << " tokens/s; prefill "
              << report["prefill_tokens_per_second"].get<double>() << " tokens/s, decode "
              << report["decode_tokens_per_second"].get<double>() << " tokens/s) on "
              << backend->name()
              << (report.contains("threads")
                      ? ", " + report["threads"].dump() + " thread(s)"
                      : std::string())
              << "\n";
  } else {
    if (folder.tokenizer)
      for (const auto &t : r.tokens)
        std::cout << folder.tokenizer->decode(t) << "\n";
    std::cout << report.dump() << "\n";
  }
  return 0;
}

} // namespace mm
