//===- HfExport.h - a trained model as a Hugging Face folder ----*- C++ -*-===//
//
// DIR/config.json and DIR/tokenizer.json (copies of the run's inputs) and
// DIR/model.safetensors in the published tensor names, experts unstacked
// (model.layers.{i}.block_sparse_moe.experts.{e}.w1.weight, ...), so mm-run,
// mm-compile and transformers' MiniMaxForCausalLM load it. Written atomically.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_HFEXPORT_H
#define MM_TRAINING_HFEXPORT_H

#include "frontends/ModelConfig.h"
#include "training/TrainCheckpoint.h"

#include <string>

namespace mm::train {

void exportHuggingFaceModel(const std::string &dir, const MiniMaxConfig &config,
                            const TensorMap &weights, const std::string &configJson,
                            const std::string &tokenizerJson);

} // namespace mm::train

#endif // MM_TRAINING_HFEXPORT_H
