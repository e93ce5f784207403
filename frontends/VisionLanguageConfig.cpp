//===- VisionLanguageConfig.cpp - MiniMax-VL-01's config.json -------------===//
#include "frontends/VisionLanguageConfig.h"

#include "frontends/ConfigFields.h"
#include "runtime/Error.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mm {

using json = nlohmann::json;

namespace {

json parseObject(const std::string &text, const std::string &source) {
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception &e) {
    throw makeError(source, ": invalid JSON: ", e.what());
  }
  if (!root.is_object())
    throw makeError(source, ": expected a JSON object at the top level");
  return root;
}

VisionActivation activation(const ConfigFields &f, const char *key, const char *fallback) {
  std::string name = f.has(key) ? f.string(key) : fallback;
  if (name == "gelu")
    return VisionActivation::Gelu;
  if (name == "gelu_pytorch_tanh" || name == "gelu_new")
    return VisionActivation::GeluTanh;
  if (name == "quick_gelu")
    return VisionActivation::QuickGelu;
  f.fail(key, "'" + name + "' is not supported (gelu, gelu_pytorch_tanh, quick_gelu)");
}

VisionTowerConfig parseVisionTower(const json &obj, const std::string &source) {
  if (!obj.is_object())
    throw makeError(source, ": expected an object");
  ConfigFields f(obj, source);
  std::string type = f.string("model_type");
  if (!type.empty() && type != "clip_vision_model")
    f.fail("model_type", "'" + type + "' is not supported (clip_vision_model)");
  VisionTowerConfig v;
  v.hiddenSize = f.positive("hidden_size", std::nullopt, 1 << 16);
  v.numLayers = f.positive("num_hidden_layers", std::nullopt, 1024);
  v.numHeads = f.positive("num_attention_heads", std::nullopt, 1024);
  if (v.hiddenSize % v.numHeads)
    f.fail("num_attention_heads", "must divide hidden_size (" + std::to_string(v.hiddenSize) + ")");
  v.intermediateSize = f.positive("intermediate_size", std::nullopt, 1 << 20);
  v.patchSize = f.positive("patch_size", std::nullopt, 1024);
  v.imageSize = f.positive("image_size", std::nullopt, 1 << 14);
  if (v.imageSize % v.patchSize)
    f.fail("image_size", "must be a multiple of patch_size (" + std::to_string(v.patchSize) + ")");
  v.numChannels = f.positive("num_channels", 3, 3);
  if (v.numChannels != 3)
    f.fail("num_channels", "must be 3 (RGB)");
  // The released config has no layer_norm_eps: CLIPVisionConfig's 1e-5.
  v.layerNormEps = f.positiveNumber("layer_norm_eps", 1e-5);
  // CLIPVisionConfig defaults to quick_gelu; the released config says gelu.
  v.act = activation(f, "hidden_act", "quick_gelu");
  return v;
}

std::vector<std::pair<int64_t, int64_t>> pinpoints(const ConfigFields &f) {
  const json &list = f.obj["image_grid_pinpoints"];
  if (!list.is_array() || list.empty())
    f.fail("image_grid_pinpoints", "expected a non-empty list of [width, height] pairs");
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const json &p : list) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer() || !p[1].is_number_integer() ||
        p[0].get<int64_t>() <= 0 || p[1].get<int64_t>() <= 0 || p[0].get<int64_t>() > (1 << 16) ||
        p[1].get<int64_t>() > (1 << 16))
      f.fail("image_grid_pinpoints", "entry " + p.dump() + " is not a pair of positive integers");
    out.push_back({p[0].get<int64_t>(), p[1].get<int64_t>()});
  }
  return out;
}

std::array<float, 3> triple(const ConfigFields &f, const char *key, std::array<float, 3> fallback) {
  if (!f.has(key))
    return fallback;
  const json &v = f.obj[key];
  if (!v.is_array() || v.size() != 3)
    f.fail(key, "expected three numbers (R, G, B)");
  std::array<float, 3> out;
  for (size_t i = 0; i < 3; ++i) {
    if (!v[i].is_number())
      f.fail(key, "expected three numbers (R, G, B)");
    out[i] = v[i].get<float>();
  }
  return out;
}

} // namespace

bool isVisionLanguageConfig(const std::string &jsonText) {
  json root = json::parse(jsonText, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object())
    return false;
  if (root.contains("model_type") && root["model_type"] == "minimax_vl_01")
    return true;
  return root.contains("vision_config") && root.contains("text_config");
}

VisionLanguageConfig parseVisionLanguageConfig(const std::string &jsonText, const std::string &source,
                                               const std::string &preprocessorJson,
                                               const std::string &preprocessorSource) {
  json root = parseObject(jsonText, source);
  ConfigFields f(root, source);
  VisionLanguageConfig c;
  c.source = source;
  if (!f.has("text_config") || !root["text_config"].is_object())
    f.fail("text_config", "is missing or not an object");
  if (!f.has("vision_config"))
    f.fail("vision_config", "is missing");
  c.text = parseMiniMaxConfig(root["text_config"].dump(), source + ": text_config");
  c.vision = parseVisionTower(root["vision_config"], source + ": vision_config");
  c.imageTokenIndex = f.positive("image_token_index", std::nullopt, int64_t(1) << 40);
  if (c.imageTokenIndex >= c.text.vocabSize)
    f.fail("image_token_index", "is outside the text model's vocabulary (" +
                                    std::to_string(c.text.vocabSize) + ")");
  // CLIP's hidden_states has numLayers + 1 entries; Python indexing into it.
  int64_t layer = -1;
  if (f.has("vision_feature_layer")) {
    if (!root["vision_feature_layer"].is_number_integer())
      f.fail("vision_feature_layer", "expected one integer layer index (a list is not supported)");
    layer = root["vision_feature_layer"].get<int64_t>();
  }
  int64_t states = c.vision.numLayers + 1;
  if (layer < -states || layer >= states)
    f.fail("vision_feature_layer", "index " + std::to_string(layer) + " is outside the tower's " +
                                       std::to_string(states) + " hidden states");
  c.featureLayers = layer < 0 ? states + layer : layer;
  std::string strategy = f.has("vision_feature_select_strategy")
                             ? f.string("vision_feature_select_strategy")
                             : std::string("default");
  if (strategy != "default" && strategy != "full")
    f.fail("vision_feature_select_strategy", "expected \"default\" (drop CLS) or \"full\"");
  c.dropCls = strategy == "default";
  c.projectorAct = activation(f, "projector_hidden_act", "gelu");
  c.anyres.tile = c.vision.imageSize;
  c.anyres.patch = c.vision.patchSize;
  c.anyres.pinpoints = pinpoints(f);
  if (!c.dropCls)
    f.fail("vision_feature_select_strategy",
           "\"full\" keeps CLS, which the anyres packing has no place for");
  if (!preprocessorJson.empty()) {
    json pre = parseObject(preprocessorJson, preprocessorSource);
    ConfigFields p(pre, preprocessorSource);
    c.anyres.mean = triple(p, "image_mean", c.anyres.mean);
    c.anyres.std = triple(p, "image_std", c.anyres.std);
    std::string mode = p.string("process_image_mode");
    if (!mode.empty() && mode != "anyres")
      p.fail("process_image_mode", "'" + mode + "' is not supported (anyres)");
  }
  c.anyres.validate(source + ": image_grid_pinpoints / vision_config");
  return c;
}

VisionLanguageConfig loadVisionLanguageConfig(const std::string &dir) {
  namespace fs = std::filesystem;
  auto read = [](const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
      throw makeError(path.string(), ": cannot open");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  };
  fs::path config = fs::path(dir) / "config.json";
  fs::path pre = fs::path(dir) / "preprocessor_config.json";
  return parseVisionLanguageConfig(read(config), config.string(),
                                   fs::exists(pre) ? read(pre) : std::string(), pre.string());
}

} // namespace mm
