//===- ModelConfig.cpp - config.json in both MiniMax namings --------------===//
#include "frontends/ModelConfig.h"
#include "frontends/ConfigFields.h"
#include "runtime/Error.h"

#include <cmath>
#include <fstream>
#include <sstream>

namespace mm {

using json = nlohmann::json;
using Fields = ConfigFields;

int64_t MiniMaxConfig::countLayers(LayerKind kind) const {
  int64_t n = 0;
  for (LayerKind k : layerKinds)
    n += k == kind;
  return n;
}

namespace {

std::vector<LayerKind> officialLayerKinds(const Fields &f, int64_t layers) {
  const json &list = f.obj["attn_type_list"];
  if (!list.is_array())
    f.fail("attn_type_list", "expected a list of 0 (lightning) / 1 (softmax)");
  if (static_cast<int64_t>(list.size()) != layers)
    f.fail("attn_type_list", "has " + std::to_string(list.size()) +
                                 " entries for num_hidden_layers = " + std::to_string(layers));
  std::vector<LayerKind> kinds;
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == 0)
      kinds.push_back(LayerKind::Lightning);
    else if (list[i] == 1)
      kinds.push_back(LayerKind::Softmax);
    else
      f.fail("attn_type_list", "entry " + std::to_string(i) + " is " + list[i].dump() +
                                   "; expected 0 (lightning) or 1 (softmax)");
  }
  return kinds;
}

std::vector<LayerKind> hfLayerKinds(const Fields &f, int64_t layers) {
  std::vector<LayerKind> kinds;
  if (!f.has("layer_types")) {
    // transformers' default when the list is absent: full, linear, full, ...
    for (int64_t i = 0; i < layers; ++i)
      kinds.push_back((i + 1) % 2 ? LayerKind::Softmax : LayerKind::Lightning);
    return kinds;
  }
  const json &list = f.obj["layer_types"];
  if (!list.is_array())
    f.fail("layer_types", "expected a list of \"linear_attention\" / \"full_attention\"");
  if (static_cast<int64_t>(list.size()) != layers)
    f.fail("layer_types", "has " + std::to_string(list.size()) +
                              " entries for num_hidden_layers = " + std::to_string(layers));
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i] == "linear_attention")
      kinds.push_back(LayerKind::Lightning);
    else if (list[i] == "full_attention")
      kinds.push_back(LayerKind::Softmax);
    else
      f.fail("layer_types", "entry " + std::to_string(i) + " is " + list[i].dump() +
                                "; expected \"linear_attention\" or \"full_attention\"");
  }
  return kinds;
}

/// rope_theta and the rotary width: top-level (official, older HF) or in
/// rope_parameters (HF 5).
void readRope(const Fields &f, MiniMaxConfig &c) {
  std::optional<double> partialFactor;
  if (f.has("rope_parameters")) {
    const json &rp = f.obj["rope_parameters"];
    if (!rp.is_object())
      f.fail("rope_parameters", "expected an object");
    Fields r(rp, f.source);
    std::string type = r.string("rope_type");
    if (!type.empty() && type != "default")
      f.fail("rope_parameters", "rope_type '" + type + "' is not supported (only 'default')");
    if (r.has("rope_theta"))
      c.ropeTheta = r.positiveNumber("rope_theta");
    if (r.has("partial_rotary_factor"))
      partialFactor = r.number("partial_rotary_factor");
  }
  if (f.has("rope_theta"))
    c.ropeTheta = f.positiveNumber("rope_theta");
  if (f.has("partial_rotary_factor"))
    partialFactor = f.number("partial_rotary_factor");
  c.rotaryDim = c.headDim;
  if (partialFactor) {
    if (!(*partialFactor > 0 && *partialFactor <= 1))
      f.fail("partial_rotary_factor", "expected a number in (0, 1]");
    c.rotaryDim = static_cast<int64_t>(std::llround(*partialFactor * double(c.headDim)));
  }
  if (f.has("rotary_dim"))
    c.rotaryDim = f.positive("rotary_dim");
  if (c.rotaryDim % 2 || c.rotaryDim > c.headDim)
    f.fail("rotary_dim", "must be even and at most head_dim (" + std::to_string(c.headDim) +
                             "), got " + std::to_string(c.rotaryDim));
}
} // namespace

MiniMaxConfig parseMiniMaxConfig(const std::string &text, const std::string &source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) { // parse_error, or out_of_range for 1e999
    throw makeError(source, ": invalid JSON: ", e.what());
  }
  if (!root.is_object())
    throw makeError(source, ": expected a JSON object at the top level");
  Fields f(root, source);
  MiniMaxConfig c;
  c.source = source;
  bool official = f.has("attn_type_list");
  c.naming = official ? ConfigNaming::Official : ConfigNaming::HuggingFace;
  if (!official && !f.has("layer_types") && f.string("model_type") != "minimax")
    throw makeError(source, ": not a MiniMax config: neither 'attn_type_list' (official) nor "
                            "'layer_types' (transformers) is present, and model_type is not "
                            "'minimax'");

  c.vocabSize = f.positive("vocab_size");
  c.hiddenSize = f.positive("hidden_size", std::nullopt, 1 << 20);
  c.numLayers = f.positive("num_hidden_layers", std::nullopt, 4096);
  c.numHeads = f.positive("num_attention_heads", std::nullopt, 4096);
  c.numKvHeads = f.positive("num_key_value_heads", c.numHeads, 4096);
  if (c.numHeads % c.numKvHeads)
    f.fail("num_key_value_heads", "must divide num_attention_heads (" + std::to_string(c.numHeads) +
                                      "), got " + std::to_string(c.numKvHeads));
  if (!f.has("head_dim") && c.hiddenSize % c.numHeads)
    f.fail("head_dim", "is missing and hidden_size is not a multiple of num_attention_heads");
  c.headDim = f.positive("head_dim", c.hiddenSize / c.numHeads, 1 << 16);
  c.intermediateSize = f.positive("intermediate_size", std::nullopt, 1 << 20);
  c.numExperts = f.positive("num_local_experts", std::nullopt, 1 << 16);
  c.topK = f.positive("num_experts_per_tok", std::nullopt, 1 << 16);
  if (c.topK > c.numExperts)
    f.fail("num_experts_per_tok",
           "exceeds num_local_experts (" + std::to_string(c.numExperts) + ")");
  c.rmsNormEps = f.positiveNumber("rms_norm_eps", 1e-5);
  readRope(f, c);
  c.tieWordEmbeddings = f.boolean("tie_word_embeddings", false);
  c.routerAuxLossCoef = f.number("router_aux_loss_coef", 0.001);
  if (!(c.routerAuxLossCoef >= 0))
    f.fail("router_aux_loss_coef", "must be non-negative");
  c.initializerRange = f.positiveNumber("initializer_range", 0.02);
  c.outputRouterLogits = f.boolean("output_router_logits", false);
  if (f.has("max_position_embeddings"))
    c.maxPositionEmbeddings = f.positive("max_position_embeddings");
  auto bos = f.ids("bos_token_id");
  if (!bos.empty())
    c.bosTokenId = bos.front();
  c.eosTokenIds = f.ids("eos_token_id");
  for (int64_t id : c.eosTokenIds)
    if (id >= c.vocabSize)
      f.fail("eos_token_id", "id " + std::to_string(id) + " is outside the vocabulary");

  if (official) {
    c.layerKinds = officialLayerKinds(f, c.numLayers);
    c.linearAlpha = f.number("layernorm_linear_attention_alpha", 1.0);
    c.linearBeta = f.number("layernorm_linear_attention_beta", 1.0);
    c.fullAlpha = f.number("layernorm_full_attention_alpha", 1.0);
    c.fullBeta = f.number("layernorm_full_attention_beta", 1.0);
    c.mlpAlpha = f.number("layernorm_mlp_alpha", 1.0);
    c.mlpBeta = f.number("layernorm_mlp_beta", 1.0);
    c.postnorm = f.boolean("postnorm", false);
    c.blockSize = f.positive("block_size", 256);
    // MiniMax-VL-01's text_config writes it as a list, [0].
    const json *shared = f.has("shared_intermediate_size") ? &f.obj["shared_intermediate_size"] : nullptr;
    if (shared && *shared != 0 && *shared != json::array({0}))
      f.fail("shared_intermediate_size", "a shared expert is not supported (MiniMax-Text-01 "
                                         "has none); expected 0");
  } else {
    c.layerKinds = hfLayerKinds(f, c.numLayers);
    c.linearAlpha = f.number("linear_attn_alpha_factor", 1.0);
    c.linearBeta = f.number("linear_attn_beta_factor", 1.0);
    c.fullAlpha = f.number("full_attn_alpha_factor", 1.0);
    c.fullBeta = f.number("full_attn_beta_factor", 1.0);
    c.mlpAlpha = f.number("mlp_alpha_factor", 1.0);
    c.mlpBeta = f.number("mlp_beta_factor", 1.0);
    c.postnorm = true; // transformers' MiniMaxDecoderLayer is always post-norm
    c.blockSize = f.positive("block_size", 256);
    std::string act = f.string("hidden_act");
    if (!act.empty() && act != "silu")
      f.fail("hidden_act", "'" + act + "' is not supported (MiniMax uses 'silu')");
  }
  return c;
}

MiniMaxConfig loadMiniMaxConfig(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw makeError(path, ": cannot open the model config");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parseMiniMaxConfig(buffer.str(), path);
}

} // namespace mm
