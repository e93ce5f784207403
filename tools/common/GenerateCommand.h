//===- GenerateCommand.h - the `generate` command of mmc tools --*- C++ -*-===//
//
// One implementation of "prompt in, tokens out" for mm-run (reference or
// in-process compiled backend) and for AOT binaries (their embedded
// executable), so both accept the same flags and print the same JSON.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TOOLS_COMMON_GENERATECOMMAND_H
#define MM_TOOLS_COMMON_GENERATECOMMAND_H

#include "frontends/ModelFolder.h"
#include "tools/common/ImagePrompt.h"
#include "runtime/engine/ForwardBackend.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mm {

struct GenerateArgs {
  std::vector<std::string> ids, prompts;
  int64_t maxNewTokens = 16;
  bool greedy = false, json = false, ignoreEos = false;
  double temperature = 1.0, topP = 1.0;
  int64_t topK = 0;
  uint64_t seed = 0;
  /// Writes the logits of every step of the first sequence, [steps, vocab]
  /// (float32 .npy), to compare backends step by step.
  std::string dumpLogits;
  /// MiniMax-VL-01: images for the prompts' image tokens, in batch order.
  std::vector<std::string> images;
};

/// --ids, --prompt, --max-new-tokens, --greedy | --temperature --top-k
/// --top-p --seed, --json, --ignore-eos, --dump-logits.
void addGenerateOptions(CLI::App &command, GenerateArgs &args);

/// Makes the backend for a batch of `batch` prompts, the longest `tokens`
/// long, generating up to `context` tokens in all.
using BackendFactory = std::function<std::unique_ptr<ForwardBackend>(
    ModelFolder &folder, int64_t batch, int64_t tokens, int64_t context)>;

/// Runs generation and prints the text (with a tokenizer), the ids and
/// tokens/s, or with --json the text then one JSON object as the last line.
/// `extra` fields are added to the JSON report ("threads" to the text's
/// last line too). A VL folder's prompts take
/// `args.images` through `encoder`: each prompt takes, in order, one image per
/// image token it holds (a single prompt may instead hold every image's count).
int runGenerate(ModelFolder &folder, const GenerateArgs &args, const BackendFactory &factory,
                const nlohmann::json &extra = nlohmann::json::object(),
                const VisionEncoder &encoder = nullptr);

/// "1,2,3" as token ids; throws mm::Error naming the bad item.
std::vector<int64_t> parseIds(const std::string &text);

} // namespace mm

#endif // MM_TOOLS_COMMON_GENERATECOMMAND_H
