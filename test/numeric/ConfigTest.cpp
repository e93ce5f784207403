// config.json in both namings, the full-size model as IR, and bad configs.
#include "TestUtil.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/ModelConfig.h"
#include "ir/InitDialects.h"
#include "ir/MMOps.h"
#include "models/MiniMaxBuilder.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>

using namespace mm;
using nlohmann::json;

namespace {
json fullConfig(const std::string &name) {
  std::ifstream in(test::dataDir("configs/" + name));
  return json::parse(in);
}

/// The message of the mm::Error that parsing `config` throws.
std::string errorOf(const json &config) {
  try {
    parseMiniMaxConfig(config.dump(), "config.json");
  } catch (const Error &e) {
    return e.what();
  }
  return "(no error)";
}
} // namespace

TEST(Config, BothNamingsOfTheFullModelAgree) {
  MiniMaxConfig official =
      parseMiniMaxConfig(fullConfig("minimax-text-01.json").dump(), "official.json");
  MiniMaxConfig hf = parseMiniMaxConfig(fullConfig("minimax-text-01-hf.json").dump(), "hf.json");
  for (const MiniMaxConfig *c : {&official, &hf}) {
    EXPECT_EQ(c->numLayers, 80);
    EXPECT_EQ(c->countLayers(LayerKind::Softmax), 10);
    EXPECT_EQ(c->layerKinds[7], LayerKind::Softmax);
    EXPECT_EQ(c->layerKinds[8], LayerKind::Lightning);
    EXPECT_EQ(c->rotaryDim, 64);
    EXPECT_EQ(c->blockSize, 256);
    EXPECT_DOUBLE_EQ(c->ropeTheta, 1e7);
    EXPECT_DOUBLE_EQ(c->linearAlpha, 3.5565588);
    EXPECT_TRUE(c->postnorm);
    EXPECT_EQ(c->attentionWidth(), 8192);
  }
  EXPECT_EQ(official.naming, ConfigNaming::Official);
  EXPECT_EQ(hf.naming, ConfigNaming::HuggingFace);
}

// The spec's arithmetic check: 456.09B parameters in total, 45.94B active per
// token excluding the embedding and the LM head.
TEST(Config, FullModelParameterCount) {
  MiniMaxConfig c = parseMiniMaxConfig(fullConfig("minimax-text-01.json").dump(), "c.json");
  double total = 0, experts = 0, embeddings = 0;
  for (const auto &spec : minimax::parameterSpecs(c)) {
    double n = 1;
    for (int64_t d : spec.shape)
      n *= double(d);
    total += n;
    if (spec.name.find(".experts.w") != std::string::npos)
      experts += n;
    if (spec.name == minimax::embedTokens() || spec.name == minimax::lmHead())
      embeddings += n;
  }
  double active = total - embeddings - experts * double(c.numExperts - c.topK) / c.numExperts;
  EXPECT_NEAR(total / 1e9, 456.09, 0.01);
  EXPECT_NEAR(active / 1e9, 45.94, 0.01);
}

TEST(Config, FullSizeModelBuildsAndVerifiesInSeconds) {
  MiniMaxConfig c = parseMiniMaxConfig(fullConfig("minimax-text-01.json").dump(), "c.json");
  mlir::MLIRContext context;
  auto start = std::chrono::steady_clock::now();
  MiniMaxGraphOptions options;
  options.elementType = MiniMaxGraphOptions::ElementType::BF16;
  auto module = buildMiniMaxModule(context, c, options); // verifies, throws on failure
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  int64_t lightning = 0, softmax = 0;
  module->walk([&](mlir::Operation *op) {
    lightning += mlir::isa<LightningAttentionOp>(op);
    softmax += mlir::isa<AttentionOp>(op);
  });
  EXPECT_EQ(lightning, 70);
  EXPECT_EQ(softmax, 10);
  EXPECT_LT(seconds, 30.0) << "the full-size graph should build in seconds";
}

TEST(Config, TransformersDefaultsAlternateLayerKinds) {
  json c = fullConfig("minimax-text-01-hf.json");
  c.erase("layer_types");
  c["num_hidden_layers"] = 4;
  MiniMaxConfig parsed = parseMiniMaxConfig(c.dump(), "c.json");
  EXPECT_EQ(parsed.layerKinds, (std::vector<LayerKind>{LayerKind::Softmax, LayerKind::Lightning,
                                                       LayerKind::Softmax, LayerKind::Lightning}));
}

TEST(Config, BadFieldsAreNamed) {
  json good = fullConfig("minimax-text-01.json");
  auto with = [&](const char *key, json value) {
    json c = good;
    if (value.is_discarded())
      c.erase(key);
    else
      c[key] = value;
    return errorOf(c);
  };
  EXPECT_EQ(with("hidden_size", json(json::value_t::discarded)),
            "config.json: field 'hidden_size': is missing");
  EXPECT_EQ(with("num_attention_heads", -3),
            "config.json: field 'num_attention_heads': expected an integer in [1, 4096], got -3");
  EXPECT_EQ(with("vocab_size", "big"),
            "config.json: field 'vocab_size': expected an integer, got \"big\"");
  EXPECT_EQ(
      with("num_key_value_heads", 7),
      "config.json: field 'num_key_value_heads': must divide num_attention_heads (64), got 7");
  EXPECT_EQ(with("rotary_dim", 63),
            "config.json: field 'rotary_dim': must be even and at most head_dim (128), got 63");
  EXPECT_EQ(with("num_experts_per_tok", 33),
            "config.json: field 'num_experts_per_tok': exceeds num_local_experts (32)");
  EXPECT_EQ(with("attn_type_list", json::array({0, 1})),
            "config.json: field 'attn_type_list': has 2 entries for num_hidden_layers = 80");
  json list = good["attn_type_list"];
  list[3] = 2;
  EXPECT_EQ(
      with("attn_type_list", list),
      "config.json: field 'attn_type_list': entry 3 is 2; expected 0 (lightning) or 1 (softmax)");
  EXPECT_EQ(with("shared_intermediate_size", 128),
            "config.json: field 'shared_intermediate_size': a shared expert is not supported "
            "(MiniMax-Text-01 has none); expected 0");
  EXPECT_EQ(with("rms_norm_eps", 0),
            "config.json: field 'rms_norm_eps': expected a positive number, got 0.000000");
  EXPECT_EQ(with("postnorm", "yes"),
            "config.json: field 'postnorm': expected true or false, got \"yes\"");
  EXPECT_EQ(
      with("hidden_size", int64_t(1) << 40),
      "config.json: field 'hidden_size': expected an integer in [1, 1048576], got 1099511627776");
}

TEST(Config, NotAConfigAtAll) {
  EXPECT_EQ(errorOf(json::array()), "config.json: expected a JSON object at the top level");
  EXPECT_EQ(errorOf(json{{"hidden_size", 8}}),
            "config.json: not a MiniMax config: neither 'attn_type_list' (official) nor "
            "'layer_types' (transformers) is present, and model_type is not 'minimax'");
  try {
    parseMiniMaxConfig("{\"vocab_size\": 3,", "broken.json");
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: invalid JSON:"), std::string::npos);
  }
  EXPECT_THROW(loadMiniMaxConfig("/nonexistent/config.json"), Error);
  // Found by the config fuzzer: a number too large for a double.
  try {
    parseMiniMaxConfig("{\"rms_norm_eps\": 1e706}", "big.json");
    FAIL();
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("big.json: invalid JSON: "), std::string::npos);
  }
}

TEST(Config, TransformersRopeParameters) {
  json c = fullConfig("minimax-text-01-hf.json");
  c["rope_parameters"] = {{"rope_type", "yarn"}, {"rope_theta", 1e6}};
  EXPECT_EQ(errorOf(c), "config.json: field 'rope_parameters': rope_type 'yarn' is not supported "
                        "(only 'default')");
  c["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1e6}};
  MiniMaxConfig full = parseMiniMaxConfig(c.dump(), "c.json");
  EXPECT_EQ(full.rotaryDim, 128); // no partial factor: every dim rotates
  EXPECT_DOUBLE_EQ(full.ropeTheta, 1e6);
}
