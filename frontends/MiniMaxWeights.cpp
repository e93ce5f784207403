//===- MiniMaxWeights.cpp -------------------------------------------------===//
#include "frontends/MiniMaxWeights.h"
#include "runtime/Error.h"

#include <cstring>

namespace mm::minimax {

static std::string layerPrefix(int64_t i) { return "model.layers." + std::to_string(i); }

std::string embedTokens() { return "model.embed_tokens.weight"; }
std::string finalNorm() { return "model.norm.weight"; }
std::string lmHead() { return "lm_head.weight"; }
std::string inputNorm(int64_t i) { return layerPrefix(i) + ".input_layernorm.weight"; }
std::string postAttentionNorm(int64_t i) {
  return layerPrefix(i) + ".post_attention_layernorm.weight";
}
std::string qProj(int64_t i) { return layerPrefix(i) + ".self_attn.q_proj.weight"; }
std::string kProj(int64_t i) { return layerPrefix(i) + ".self_attn.k_proj.weight"; }
std::string vProj(int64_t i) { return layerPrefix(i) + ".self_attn.v_proj.weight"; }
std::string oProj(int64_t i) { return layerPrefix(i) + ".self_attn.o_proj.weight"; }
std::string qkvProj(int64_t i) { return layerPrefix(i) + ".self_attn.qkv_proj.weight"; }
std::string outputGate(int64_t i) { return layerPrefix(i) + ".self_attn.output_gate.weight"; }
std::string outProj(int64_t i) { return layerPrefix(i) + ".self_attn.out_proj.weight"; }
std::string lightningNorm(int64_t i) { return layerPrefix(i) + ".self_attn.norm.weight"; }
std::string router(int64_t i) { return layerPrefix(i) + ".block_sparse_moe.gate.weight"; }
std::string expertsW1(int64_t i) { return layerPrefix(i) + ".block_sparse_moe.experts.w1"; }
std::string expertsW3(int64_t i) { return layerPrefix(i) + ".block_sparse_moe.experts.w3"; }
std::string expertsW2(int64_t i) { return layerPrefix(i) + ".block_sparse_moe.experts.w2"; }

std::vector<ParamSpec> parameterSpecs(const MiniMaxConfig &c) {
  int64_t H = c.hiddenSize, A = c.attentionWidth(), KV = c.numKvHeads * c.headDim;
  int64_t E = c.numExperts, I = c.intermediateSize;
  std::vector<ParamSpec> specs{{embedTokens(), {c.vocabSize, H}}};
  for (int64_t i = 0; i < c.numLayers; ++i) {
    specs.push_back({inputNorm(i), {H}});
    if (c.layerKinds[i] == LayerKind::Softmax) {
      specs.push_back({qProj(i), {A, H}});
      specs.push_back({kProj(i), {KV, H}});
      specs.push_back({vProj(i), {KV, H}});
      specs.push_back({oProj(i), {H, A}});
    } else {
      specs.push_back({qkvProj(i), {3 * A, H}});
      specs.push_back({outputGate(i), {A, H}});
      specs.push_back({outProj(i), {H, A}});
      specs.push_back({lightningNorm(i), {A}});
    }
    specs.push_back({postAttentionNorm(i), {H}});
    specs.push_back({router(i), {E, H}});
    specs.push_back({expertsW1(i), {E, I, H}});
    specs.push_back({expertsW3(i), {E, I, H}});
    specs.push_back({expertsW2(i), {E, H, I}});
  }
  specs.push_back({finalNorm(), {H}});
  specs.push_back({lmHead(), {c.vocabSize, H}});
  return specs;
}

WeightLoader::WeightLoader(const MiniMaxConfig &config, const Checkpoint &checkpoint)
    : config_(config), checkpoint_(checkpoint), specs_(parameterSpecs(config)) {}

const StTensor &WeightLoader::tensor(const std::string &name, const Shape &shape) const {
  const StTensor &t = checkpoint_.get(name);
  if (t.shape != shape)
    throw makeError(checkpoint_.dir(), ": tensor '", name, "' has shape ", formatShape(t.shape),
                    " but the config (", config_.source, ") implies ", formatShape(shape));
  return t;
}

/// which: 0 = w1 (gate), 1 = w3 (up), 2 = w2 (down).
Tensor WeightLoader::loadExperts(int64_t layer, int which, DType dtype) const {
  int64_t E = config_.numExperts, I = config_.intermediateSize, H = config_.hiddenSize;
  Shape perExpert = which == 2 ? Shape{H, I} : Shape{I, H};
  Shape stacked{E, perExpert[0], perExpert[1]};
  const char *suffix[] = {"w1", "w3", "w2"};
  std::string packedPrefix = layerPrefix(layer) + ".mlp.experts.";
  if (checkpoint_.find(packedPrefix + "down_proj")) {
    if (which == 2)
      return tensor(packedPrefix + "down_proj", stacked).toFloat(dtype);
    // gate_up_proj is [E, 2 I, H]: each expert's gate rows, then its up rows.
    Tensor both = tensor(packedPrefix + "gate_up_proj", {E, 2 * I, H}).toFloat(dtype);
    Tensor out = Tensor::empty(dtype, stacked);
    size_t es = dtypeSize(dtype), block = static_cast<size_t>(I * H) * es;
    for (int64_t e = 0; e < E; ++e)
      std::memcpy(static_cast<uint8_t *>(out.raw()) + e * block,
                  static_cast<const uint8_t *>(both.raw()) + (2 * e + which) * block, block);
    return out;
  }
  Tensor out = Tensor::empty(dtype, stacked);
  size_t block = static_cast<size_t>(perExpert[0] * perExpert[1]) * dtypeSize(dtype);
  for (int64_t e = 0; e < E; ++e) {
    std::string name = layerPrefix(layer) + ".block_sparse_moe.experts." + std::to_string(e) + "." +
                       suffix[which] + ".weight";
    Tensor t = tensor(name, perExpert).toFloat(dtype);
    std::memcpy(static_cast<uint8_t *>(out.raw()) + e * block, t.raw(), block);
  }
  return out;
}

const ParamSpec &WeightLoader::spec(const std::string &name) const {
  for (const ParamSpec &s : specs_)
    if (s.name == name)
      return s;
  throw makeError("no MiniMax weight is called '", name, "'");
}

std::optional<Tensor> WeightLoader::loadBlock(const std::string &name, DType dtype,
                                              const WeightBlock &block) const {
  const ParamSpec &want = spec(name);
  if (block.offset.size() != want.shape.size())
    throw makeError("a block of rank ", block.offset.size(), " of weight '", name, "' ",
                    formatShape(want.shape));
  std::vector<std::string> from = sources(name);
  // Experts stacked from one checkpoint tensor per expert, or not.
  bool onePerExpert = name.find("block_sparse_moe.experts") != std::string::npos &&
                      from.front().find(".mlp.experts.") == std::string::npos;
  if (!onePerExpert) {
    if (from.front().find("gate_up_proj") != std::string::npos)
      return std::nullopt; // gate and up rows interleaved per expert
    return tensor(from.front(), want.shape).blockToFloat(dtype, block);
  }
  // One checkpoint tensor per expert: read only this block's experts, and
  // of each only its rows / columns.
  Shape perExpert(want.shape.begin() + 1, want.shape.end());
  WeightBlock inner{Shape(block.offset.begin() + 1, block.offset.end()),
                    Shape(block.size.begin() + 1, block.size.end())};
  Tensor out = Tensor::empty(dtype, block.size);
  size_t bytes = static_cast<size_t>(out.numel() / std::max<int64_t>(1, block.size[0])) *
                 dtypeSize(dtype);
  for (int64_t e = 0; e < block.size[0]; ++e) {
    Tensor t = tensor(from.at(block.offset[0] + e), perExpert).blockToFloat(dtype, inner);
    std::memcpy(static_cast<uint8_t *>(out.raw()) + e * bytes, t.raw(), bytes);
  }
  return out;
}

Tensor WeightLoader::load(const std::string &name, DType dtype) const {
  const ParamSpec *spec = &this->spec(name);
  for (int64_t i = 0; i < config_.numLayers; ++i) {
    if (name == expertsW1(i))
      return loadExperts(i, 0, dtype);
    if (name == expertsW3(i))
      return loadExperts(i, 1, dtype);
    if (name == expertsW2(i))
      return loadExperts(i, 2, dtype);
    if (name == router(i) && !checkpoint_.find(name))
      return tensor(layerPrefix(i) + ".mlp.gate.weight", spec->shape).toFloat(dtype);
  }
  if (name == lmHead() && config_.tieWordEmbeddings)
    return tensor(embedTokens(), spec->shape).toFloat(dtype);
  return tensor(name, spec->shape).toFloat(dtype);
}

std::vector<std::string> WeightLoader::sources(const std::string &name) const {
  const char *suffix[] = {"w1", "w3", "w2"};
  for (int64_t i = 0; i < config_.numLayers; ++i) {
    const std::string stacked[] = {expertsW1(i), expertsW3(i), expertsW2(i)};
    for (int which = 0; which < 3; ++which) {
      if (name != stacked[which])
        continue;
      std::string packed = layerPrefix(i) + ".mlp.experts.";
      if (checkpoint_.find(packed + "down_proj"))
        return {packed + (which == 2 ? "down_proj" : "gate_up_proj")};
      std::vector<std::string> names;
      for (int64_t e = 0; e < config_.numExperts; ++e)
        names.push_back(layerPrefix(i) + ".block_sparse_moe.experts." + std::to_string(e) + "." +
                        suffix[which] + ".weight");
      return names;
    }
    if (name == router(i) && !checkpoint_.find(name))
      return {layerPrefix(i) + ".mlp.gate.weight"};
  }
  if (name == lmHead() && config_.tieWordEmbeddings)
    return {embedTokens()};
  return {name};
}

void WeightLoader::validate() const {
  // Existence and shape of every source tensor, without converting any bytes,
  // so a user learns what is wrong before a long load.
  int64_t E = config_.numExperts, I = config_.intermediateSize, H = config_.hiddenSize;
  for (int64_t i = 0; i < config_.numLayers; ++i) {
    std::string packed = layerPrefix(i) + ".mlp.experts.";
    if (checkpoint_.find(packed + "down_proj")) {
      tensor(packed + "gate_up_proj", {E, 2 * I, H});
      tensor(packed + "down_proj", {E, H, I});
    } else {
      for (int64_t e = 0; e < E; ++e) {
        std::string p = layerPrefix(i) + ".block_sparse_moe.experts." + std::to_string(e) + ".";
        tensor(p + "w1.weight", {I, H});
        tensor(p + "w3.weight", {I, H});
        tensor(p + "w2.weight", {H, I});
      }
    }
    if (!checkpoint_.find(router(i)))
      tensor(layerPrefix(i) + ".mlp.gate.weight", {E, H});
  }
  for (const ParamSpec &s : specs_) {
    bool stackedExperts = s.name.find(".experts.w") != std::string::npos;
    bool isRouter = s.name.find(".block_sparse_moe.gate.weight") != std::string::npos;
    if (stackedExperts || (isRouter && !checkpoint_.find(s.name)))
      continue; // checked above
    tensor(s.name == lmHead() && config_.tieWordEmbeddings ? embedTokens() : s.name, s.shape);
  }
}

} // namespace mm::minimax
