//===- StartingModel.h - the model a fine-tuning run starts from -*- C++ -*-===//
//
// `--model DIR` (a Hugging Face folder: config.json, weights, tokenizer.json)
// or `--config CONFIG.json --tokenizer tokenizer.json` (fresh weights drawn
// from the seed). SFT and RL start from either.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_STARTINGMODEL_H
#define MM_TRAINING_STARTINGMODEL_H

#include "frontends/ModelConfig.h"
#include "frontends/tokenizer/Tokenizer.h"
#include "training/TrainCheckpoint.h"

#include <optional>
#include <string>

namespace mm::train {

struct StartingModel {
  MiniMaxConfig config;
  std::string configText, tokenizerText;
  std::optional<Tokenizer> tokenizer;
  TensorMap weights; // float32, by mm.param name
  int64_t eos = 0;   // the first of the config's eos_token_id
  /// What identifies the source in run.json.
  std::string describe;
};

/// Exactly one of `modelDir` and (`config`, `tokenizer`) is given; throws
/// mm::Error naming the file or the missing piece (no tokenizer, no eos).
StartingModel loadStartingModel(const std::string &modelDir, const std::string &config,
                                const std::string &tokenizer, uint64_t seed);

} // namespace mm::train

#endif // MM_TRAINING_STARTINGMODEL_H
