//===- ModelConfig.h - typed MiniMax-Text-01 configuration ------*- C++ -*-===//
//
// Reads a MiniMax config.json in either naming that exists:
//   * the official MiniMax-Text-01 / M1 one (attn_type_list, layernorm_*_alpha
//     and _beta, postnorm, rotary_dim, rope_theta; no block size: 256);
//   * Hugging Face transformers' `minimax` one (layer_types, *_alpha_factor /
//     *_beta_factor, rope_parameters, block_size).
// Every field is validated; an error names the file and the field.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_MODELCONFIG_H
#define MM_FRONTENDS_MODELCONFIG_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mm {

enum class LayerKind { Lightning, Softmax };
enum class ConfigNaming { Official, HuggingFace };

struct MiniMaxConfig {
  std::string source; // the file it was read from, for messages
  ConfigNaming naming = ConfigNaming::HuggingFace;

  int64_t vocabSize = 0;
  int64_t hiddenSize = 0;
  int64_t numLayers = 0;
  int64_t numHeads = 0;
  int64_t numKvHeads = 0;
  int64_t headDim = 0;
  int64_t intermediateSize = 0; // per expert
  int64_t numExperts = 0;
  int64_t topK = 0;
  int64_t rotaryDim = 0;
  int64_t blockSize = 256;
  double ropeTheta = 10000.0;
  double rmsNormEps = 1e-5;
  /// eps of the RMSNorm over the lightning output (all heads): 1e-6 in the
  /// reference and HF code, not configurable there.
  double lightningNormEps = 1e-6;
  std::vector<LayerKind> layerKinds;
  double linearAlpha = 1, linearBeta = 1; // residual scaling, lightning layers
  double fullAlpha = 1, fullBeta = 1;     // softmax layers
  double mlpAlpha = 1, mlpBeta = 1;       // MoE
  /// Post-norm: the residual branch starts after the norm (MiniMax-Text-01).
  bool postnorm = true;
  bool tieWordEmbeddings = false;
  // Training (mm-train): the load-balancing loss weight, the std of the
  // initial weights, and the longest sequence the positions were made for.
  double routerAuxLossCoef = 0.001;
  bool outputRouterLogits = false; // transformers adds the aux loss only then
  double initializerRange = 0.02;
  std::optional<int64_t> maxPositionEmbeddings;
  std::optional<int64_t> bosTokenId;
  std::vector<int64_t> eosTokenIds;

  int64_t attentionWidth() const { return numHeads * headDim; }
  int64_t countLayers(LayerKind kind) const;
};

/// Parses and validates; throws mm::Error naming `source` and the field.
MiniMaxConfig parseMiniMaxConfig(const std::string &jsonText, const std::string &source);
MiniMaxConfig loadMiniMaxConfig(const std::string &path);

} // namespace mm

#endif // MM_FRONTENDS_MODELCONFIG_H
