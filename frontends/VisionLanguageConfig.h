//===- VisionLanguageConfig.h - MiniMax-VL-01's config.json -----*- C++ -*-===//
//
// The released layout: `vision_config` (a CLIP vision tower), `text_config`
// (MiniMax-Text-01, either naming), `image_token_index`,
// `image_grid_pinpoints`, `vision_feature_layer`,
// `vision_feature_select_strategy` and `projector_hidden_act`. The processor's
// mean/std come from preprocessor_config.json when the folder has one, else
// CLIP's. Every field is validated; errors name the file and the field.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_VISIONLANGUAGECONFIG_H
#define MM_FRONTENDS_VISIONLANGUAGECONFIG_H

#include "frontends/ModelConfig.h"
#include "frontends/image/AnyRes.h"

#include <string>

namespace mm {

enum class VisionActivation { Gelu, GeluTanh, QuickGelu };

/// A CLIP vision transformer: patch conv, CLS, learned positions,
/// pre-LayerNorm, pre-norm encoder layers.
struct VisionTowerConfig {
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t intermediateSize = 0;
  int64_t patchSize = 0;
  int64_t imageSize = 0; // the tile
  int64_t numChannels = 3;
  double layerNormEps = 1e-5;
  VisionActivation act = VisionActivation::Gelu;

  int64_t patchesPerSide() const { return imageSize / patchSize; }
  int64_t tokensPerTile() const { return patchesPerSide() * patchesPerSide() + 1; } // + CLS
  int64_t headDim() const { return hiddenSize / numHeads; }
};

struct VisionLanguageConfig {
  std::string source;
  MiniMaxConfig text;
  VisionTowerConfig vision;
  int64_t imageTokenIndex = 0;
  /// How many encoder layers run: vision_feature_layer -1 is the last layer's
  /// output, 0 the embeddings after pre_layrnorm (CLIP's hidden_states index).
  int64_t featureLayers = 0;
  bool dropCls = true; // vision_feature_select_strategy "default"
  VisionActivation projectorAct = VisionActivation::Gelu;
  image::AnyResConfig anyres;
};

/// True when config.json describes a vision-language model (model_type
/// minimax_vl_01, or a vision_config next to a text_config).
bool isVisionLanguageConfig(const std::string &jsonText);

/// Parses config.json (`source` names it); `preprocessorJson` is
/// preprocessor_config.json's text or empty.
VisionLanguageConfig parseVisionLanguageConfig(const std::string &jsonText, const std::string &source,
                                               const std::string &preprocessorJson = "",
                                               const std::string &preprocessorSource = "");
/// Reads DIR/config.json and, when present, DIR/preprocessor_config.json.
VisionLanguageConfig loadVisionLanguageConfig(const std::string &dir);

} // namespace mm

#endif // MM_FRONTENDS_VISIONLANGUAGECONFIG_H
