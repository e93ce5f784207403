//===- ModelFolder.cpp ----------------------------------------------------===//
#include "frontends/ModelFolder.h"
#include "runtime/Error.h"

#include <filesystem>

namespace mm {

std::unique_ptr<ModelFolder> ModelFolder::open(const std::string &dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw makeError(dir, ": not a model folder");
  auto folder = std::unique_ptr<ModelFolder>(
      new ModelFolder{dir, loadMiniMaxConfig((fs::path(dir) / "config.json").string()),
                      Checkpoint::open(dir), nullptr, std::nullopt});
  folder->weights = std::make_unique<minimax::WeightLoader>(folder->config, folder->checkpoint);
  folder->weights->validate();
  fs::path tok = fs::path(dir) / "tokenizer.json";
  if (fs::exists(tok)) {
    folder->tokenizer = Tokenizer::fromFile(tok.string());
    if (folder->tokenizer->vocabSize() > folder->config.vocabSize)
      throw makeError(tok.string(), ": ", folder->tokenizer->vocabSize(),
                      " tokens do not fit the model's vocab_size ", folder->config.vocabSize, " (",
                      folder->config.source, ")");
  }
  return folder;
}

} // namespace mm
