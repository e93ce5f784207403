//===- StartingModel.cpp --------------------------------------------------===//
#include "training/StartingModel.h"
#include "frontends/ModelFolder.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"
#include "training/Initializer.h"
#include "training/RunDirectory.h"

#include <filesystem>

namespace fs = std::filesystem;

namespace mm::train {

StartingModel loadStartingModel(const std::string &modelDir, const std::string &config,
                                const std::string &tokenizer, uint64_t seed) {
  if (modelDir.empty() == (config.empty() && tokenizer.empty()))
    throw makeError("give either --model DIR or --config CONFIG.json with --tokenizer "
                    "tokenizer.json");
  StartingModel m;
  if (!modelDir.empty()) {
    std::unique_ptr<ModelFolder> folder = ModelFolder::open(modelDir);
    if (!folder->tokenizer)
      throw makeError("--model ", modelDir, " has no tokenizer.json: the task's prompts and "
                      "answers are text");
    m.config = folder->config;
    m.configText = readFile((fs::path(modelDir) / "config.json").string());
    m.tokenizerText = readFile((fs::path(modelDir) / "tokenizer.json").string());
    m.tokenizer = std::move(folder->tokenizer);
    // The names and shapes come from the config; the values from the folder.
    WeightBinder binder = folder->weights->binder();
    for (auto &[name, w] : initialWeights(m.config, seed))
      m.weights[name] = binder(name, w.shape(), DType::F32);
    m.describe = "model " + fs::absolute(modelDir).string() + " config " +
                 hexChecksum(m.configText);
  } else {
    if (config.empty() || tokenizer.empty())
      throw makeError("--config and --tokenizer go together (or give --model DIR)");
    m.configText = readFile(config);
    m.config = parseMiniMaxConfig(m.configText, config);
    m.tokenizerText = readFile(tokenizer);
    m.tokenizer = Tokenizer::fromJson(m.tokenizerText, tokenizer);
    if (m.tokenizer->vocabSize() > m.config.vocabSize)
      throw makeError(tokenizer, ": the tokenizer has ", m.tokenizer->vocabSize(),
                      " tokens but the model's vocab_size is ", m.config.vocabSize, " (", config,
                      "): they do not belong together");
    m.weights = initialWeights(m.config, seed);
    m.describe = "config " + hexChecksum(m.configText) + " seed " + std::to_string(seed);
  }
  if (m.config.eosTokenIds.empty())
    throw makeError(m.config.source, ": eos_token_id is not set; the task's answers end with it");
  m.eos = m.config.eosTokenIds.front();
  return m;
}

} // namespace mm::train
