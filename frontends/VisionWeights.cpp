//===- VisionWeights.cpp - MiniMax-VL-01's vision weights -----------------===//
#include "frontends/VisionWeights.h"

#include "runtime/Error.h"

namespace mm::vision {

std::string tower(const std::string &suffix) { return "vision_tower.vision_model." + suffix; }
std::string layer(int64_t i, const std::string &suffix) {
  return tower("encoder.layers." + std::to_string(i) + "." + suffix);
}
std::string projector(int which, const std::string &suffix) {
  return "multi_modal_projector.linear_" + std::to_string(which) + "." + suffix;
}
std::string imageNewline() { return "image_newline"; }

std::vector<minimax::ParamSpec> parameterSpecs(const VisionLanguageConfig &c) {
  const VisionTowerConfig &v = c.vision;
  int64_t D = v.hiddenSize, F = v.intermediateSize, T = v.tokensPerTile(), E = c.text.hiddenSize;
  std::vector<minimax::ParamSpec> specs = {
      {tower("embeddings.patch_embedding.weight"), {D, v.numChannels, v.patchSize, v.patchSize}},
      {tower("embeddings.class_embedding"), {D}},
      {tower("embeddings.position_embedding.weight"), {T, D}},
      {tower("pre_layrnorm.weight"), {D}},
      {tower("pre_layrnorm.bias"), {D}},
  };
  for (int64_t i = 0; i < c.featureLayers; ++i) {
    for (const char *proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      specs.push_back({layer(i, std::string("self_attn.") + proj + ".weight"), {D, D}});
      specs.push_back({layer(i, std::string("self_attn.") + proj + ".bias"), {D}});
    }
    for (const char *norm : {"layer_norm1", "layer_norm2"}) {
      specs.push_back({layer(i, std::string(norm) + ".weight"), {D}});
      specs.push_back({layer(i, std::string(norm) + ".bias"), {D}});
    }
    specs.push_back({layer(i, "mlp.fc1.weight"), {F, D}});
    specs.push_back({layer(i, "mlp.fc1.bias"), {F}});
    specs.push_back({layer(i, "mlp.fc2.weight"), {D, F}});
    specs.push_back({layer(i, "mlp.fc2.bias"), {D}});
  }
  specs.push_back({projector(1, "weight"), {E, D}});
  specs.push_back({projector(1, "bias"), {E}});
  specs.push_back({projector(2, "weight"), {E, E}});
  specs.push_back({projector(2, "bias"), {E}});
  specs.push_back({imageNewline(), {E}});
  return specs;
}

Layout detectLayout(const Checkpoint &files) {
  if (files.find("language_model.model.embed_tokens.weight"))
    return Layout::Released;
  if (files.find("model.language_model.embed_tokens.weight"))
    return Layout::Transformers;
  throw makeError(files.dir(), ": not a MiniMax-VL-01 checkpoint: neither "
                               "'language_model.model.embed_tokens.weight' (released) nor "
                               "'model.language_model.embed_tokens.weight' (transformers) is present");
}

namespace {
/// `name` without `prefix`, or "" when it does not start with it.
std::string strip(const std::string &name, const std::string &prefix) {
  return name.compare(0, prefix.size(), prefix) == 0 ? name.substr(prefix.size()) : "";
}
} // namespace

Checkpoint textView(const Checkpoint &files, Layout layout) {
  if (layout == Layout::Released)
    return files.renamed([](const std::string &s) { return strip(s, "language_model."); },
                         "the text model's tensors are read under 'language_model.'");
  return files.renamed(
      [](const std::string &s) {
        if (s == "lm_head.weight") // transformers keeps the head at the top
          return s;
        std::string rest = strip(s, "model.language_model.");
        return rest.empty() ? rest : "model." + rest;
      },
      "the text model's tensors are read under 'model.language_model.'");
}

WeightLoader::WeightLoader(const VisionLanguageConfig &config, const Checkpoint &files)
    : files_(detectLayout(files) == Layout::Released
                 ? files
                 : files.renamed([](const std::string &s) { return strip(s, "model."); },
                                 "the vision tensors are read under 'model.'")) {
  for (const auto &spec : parameterSpecs(config))
    shapes_[spec.name] = spec.shape;
}

const StTensor &WeightLoader::tensor(const std::string &name) const {
  auto it = shapes_.find(name);
  if (it == shapes_.end())
    throw makeError("vision weights: no weight named '", name, "'");
  const StTensor &t = files_.get(name);
  if (t.shape != it->second)
    throw makeError(files_.dir(), ": tensor '", t.name, "' has shape ", formatShape(t.shape),
                    "; vision_config and text_config give ", formatShape(it->second));
  return t;
}

Tensor WeightLoader::load(const std::string &name, DType dtype) const {
  return tensor(name).toFloat(dtype);
}

void WeightLoader::validate() const {
  for (const auto &[name, shape] : shapes_)
    (void)tensor(name);
}

} // namespace mm::vision
