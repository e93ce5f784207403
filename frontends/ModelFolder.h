//===- ModelFolder.h - a Hugging Face model folder, opened ------*- C++ -*-===//
#ifndef MM_FRONTENDS_MODELFOLDER_H
#define MM_FRONTENDS_MODELFOLDER_H

#include "frontends/Checkpoint.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/ModelConfig.h"
#include "frontends/VisionLanguageConfig.h"
#include "frontends/VisionWeights.h"
#include "frontends/tokenizer/Tokenizer.h"

#include <memory>
#include <optional>
#include <string>

namespace mm {

/// config.json, the safetensors checkpoint (validated against the config) and,
/// when present, tokenizer.json of one folder. A MiniMax-VL-01 folder also
/// has `vision`: `config` is then its text_config, and `checkpoint` shows the
/// text model's tensors under the text model's own names.
struct ModelFolder {
  std::string dir;
  MiniMaxConfig config;
  Checkpoint checkpoint;
  std::unique_ptr<minimax::WeightLoader> weights;
  std::optional<Tokenizer> tokenizer;
  std::optional<VisionLanguageConfig> vision;
  std::unique_ptr<vision::WeightLoader> visionWeights;

  /// Throws mm::Error naming the file and field or tensor that is wrong.
  static std::unique_ptr<ModelFolder> open(const std::string &dir);
};

} // namespace mm

#endif // MM_FRONTENDS_MODELFOLDER_H
