//===- VisionConfigTest.cpp - VL config, prompt expansion, packing --------===//
#include "frontends/VisionLanguageConfig.h"
#include "frontends/image/AnyRes.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <functional>
#include <sstream>

using namespace mm;
using json = nlohmann::json;

namespace {

json tinyConfig() {
  std::ifstream in(std::string(MM_TEST_DATA_DIR) + "/vl/tiny/config.json");
  return json::parse(in);
}

std::string errorOf(const json &config) {
  try {
    parseVisionLanguageConfig(config.dump(), "cfg.json");
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

/// 28-pixel tiles of 14-pixel patches: 2 x 2 tokens per tile, small by hand.
image::AnyResConfig smallTiles() {
  image::AnyResConfig config;
  config.tile = 28;
  config.patch = 14;
  config.pinpoints = image::AnyResConfig::releasedPinpoints(28);
  return config;
}

} // namespace

TEST(VisionConfig, ReadsTheTinyReleasedLayout) {
  VisionLanguageConfig c = parseVisionLanguageConfig(tinyConfig().dump(), "cfg.json");
  EXPECT_EQ(c.imageTokenIndex, 95);
  EXPECT_EQ(c.vision.hiddenSize, 24);
  EXPECT_EQ(c.vision.tokensPerTile(), 17);
  EXPECT_EQ(c.featureLayers, 2); // -1 of 3 hidden states
  EXPECT_TRUE(c.dropCls);
  EXPECT_EQ(c.anyres.tile, 56);
  EXPECT_EQ(c.anyres.pinpoints.size(), 28u);
  EXPECT_EQ(c.text.hiddenSize, 32);
  EXPECT_TRUE(isVisionLanguageConfig(tinyConfig().dump()));
  EXPECT_FALSE(isVisionLanguageConfig(tinyConfig()["text_config"].dump()));
}

TEST(VisionConfig, ActivationDefaultsFollowTransformers) {
  json c = tinyConfig();
  c["vision_config"].erase("hidden_act"); // CLIPVisionConfig's default
  EXPECT_EQ(parseVisionLanguageConfig(c.dump(), "cfg.json").vision.act, VisionActivation::QuickGelu);
}

TEST(VisionConfig, RefusalsNameTheField) {
  struct Case {
    std::function<void(json &)> mutate;
    std::string needle;
  };
  std::vector<Case> cases = {
      {[](json &c) { c.erase("vision_config"); }, "'vision_config'"},
      {[](json &c) { c["image_token_index"] = 96; }, "'image_token_index'"},
      {[](json &c) { c["vision_feature_layer"] = -4; }, "'vision_feature_layer'"},
      {[](json &c) { c["vision_feature_layer"] = json::array({-1, -2}); }, "a list is not supported"},
      {[](json &c) { c["vision_feature_select_strategy"] = "full"; }, "keeps CLS"},
      {[](json &c) { c["image_grid_pinpoints"][3] = json::array({56}); }, "'image_grid_pinpoints'"},
      {[](json &c) { c["image_grid_pinpoints"][3] = json::array({60, 56}); }, "[60, 56]"},
      {[](json &c) { c["vision_config"]["image_size"] = 50; }, "'image_size'"},
      {[](json &c) { c["vision_config"]["hidden_act"] = "relu"; }, "'hidden_act'"},
      {[](json &c) { c["projector_hidden_act"] = "swish"; }, "'projector_hidden_act'"},
      {[](json &c) { c["text_config"]["shared_intermediate_size"] = json::array({8}); },
       "text_config: field 'shared_intermediate_size'"},
  };
  for (auto &[mutate, needle] : cases) {
    json c = tinyConfig();
    mutate(c);
    std::string e = errorOf(c);
    EXPECT_NE(e.find("cfg.json"), std::string::npos) << e;
    EXPECT_NE(e.find(needle), std::string::npos) << "want '" << needle << "' in: " << e;
  }
}

TEST(ImagePrompt, ExpandsOneTokenPerImageOrKeepsTheFullCount) {
  image::AnyResConfig config = smallTiles();
  auto a = image::imageTokenLayout(56, 28, config), b = image::imageTokenLayout(28, 28, config);
  ASSERT_EQ(a.tokens(), 14);
  ASSERT_EQ(b.tokens(), 4 + 2 * 3);
  std::vector<int64_t> ids = {1, 9, 2, 9};
  auto expanded = image::expandImageTokens(ids, 9, {a, b});
  EXPECT_EQ(expanded.size(), 2u + 14 + 10);
  EXPECT_EQ(expanded[0], 1);
  EXPECT_EQ(expanded[15], 2);
  EXPECT_EQ(image::expandImageTokens(expanded, 9, {a, b}), expanded);
  try {
    image::expandImageTokens({1, 9, 9, 9}, 9, {a, b});
    FAIL() << "three placeholders for two images were accepted";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("give one per image, or 24"), std::string::npos) << e.what();
  }
}

TEST(ImagePrompt, PacksThumbnailThenRowsWithNewlines) {
  // Two tiles side by side, 2 x 2 patches each; a feature is 100 * tile + patch.
  image::AnyResConfig config = smallTiles();
  auto layout = image::imageTokenLayout(56, 28, config);
  ASSERT_EQ(layout.gridCols, 2);
  ASSERT_EQ(layout.gridRows, 1);
  std::vector<float> f;
  for (int tile = 0; tile < 3; ++tile)
    for (int patch = 0; patch < 4; ++patch)
      f.push_back(100.0f * tile + patch);
  Tensor packed = image::packImageFeatures(Tensor::fromVector<float>({3, 4, 1}, f), layout,
                                           Tensor::fromVector<float>({1}, {-1}));
  std::vector<float> got(packed.data<float>(), packed.data<float>() + packed.numel());
  std::vector<float> want = {0,   1,   2,   3,                   // thumbnail
                             100, 101, 200, 201, -1,             // map row 0
                             102, 103, 202, 203, -1};            // map row 1
  EXPECT_EQ(got, want);
}

TEST(ImagePrompt, UnpadsToTheImageAspect) {
  // A 56 x 10 strip on the 2-tile (56 x 28) grid: the 2 x 4 feature map keeps
  // (10 * 4) // 56 = 0 rows, so the padding (2 - 0) / 2 = 1 takes both rows
  // and only the thumbnail remains, as in the released pack_image_features.
  image::AnyResConfig config = smallTiles();
  auto l = image::imageTokenLayout(56, 10, config);
  EXPECT_EQ(l.gridRows, 1);
  EXPECT_EQ(l.gridCols, 2);
  EXPECT_EQ(l.keptRows(), 0);
  EXPECT_EQ(l.tokens(), 4);
}
