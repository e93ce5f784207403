//===- ModelFolder.cpp ----------------------------------------------------===//
#include "frontends/ModelFolder.h"
#include "runtime/Error.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mm {

std::unique_ptr<ModelFolder> ModelFolder::open(const std::string &dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw makeError(dir, ": not a model folder");
  fs::path configPath = fs::path(dir) / "config.json";
  std::ifstream in(configPath, std::ios::binary);
  if (!in)
    throw makeError(configPath.string(), ": cannot open the model config");
  std::stringstream text;
  text << in.rdbuf();
  auto folder = std::make_unique<ModelFolder>();
  folder->dir = dir;
  if (isVisionLanguageConfig(text.str())) {
    folder->vision = loadVisionLanguageConfig(dir);
    folder->config = folder->vision->text;
    Checkpoint files = Checkpoint::open(dir);
    folder->checkpoint = vision::textView(files, vision::detectLayout(files));
    folder->visionWeights = std::make_unique<vision::WeightLoader>(*folder->vision, files);
    folder->visionWeights->validate();
  } else {
    folder->config = parseMiniMaxConfig(text.str(), configPath.string());
    folder->checkpoint = Checkpoint::open(dir);
  }
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
