// Malformed safetensors files, sharded indexes and checkpoints that do not
// match their config: every case is a clear error naming the file and tensor.
#include "TestUtil.h"
#include "frontends/Checkpoint.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/ModelFolder.h"
#include "frontends/Safetensors.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>

using namespace mm;
namespace fs = std::filesystem;

namespace {
/// A safetensors image with the given header and `dataBytes` zero bytes.
std::vector<uint8_t> stBytes(const std::string &header, size_t dataBytes,
                           int64_t claimedLength = -1) {
  std::vector<uint8_t> bytes;
  uint64_t len = claimedLength >= 0 ? uint64_t(claimedLength) : header.size();
  for (int i = 0; i < 8; ++i)
    bytes.push_back(static_cast<uint8_t>(len >> (8 * i)));
  bytes.insert(bytes.end(), header.begin(), header.end());
  bytes.resize(bytes.size() + dataBytes, 0);
  return bytes;
}

std::string errorOf(const std::vector<uint8_t> &bytes) {
  try {
    SafetensorsFile::fromBytes(bytes, "w.safetensors");
  } catch (const Error &e) {
    return e.what();
  }
  return "(no error)";
}

std::string errorOfFolder(const std::string &dir) {
  try {
    ModelFolder::open(dir);
  } catch (const Error &e) {
    return e.what();
  }
  return "(no error)";
}

/// Copies a test checkpoint so a test can break it.
void copyCase(const std::string &name, const fs::path &to) {
  fs::copy(test::dataDir("minimax/" + name), to, fs::copy_options::recursive);
}
} // namespace

TEST(Safetensors, ValidFileRoundTrips) {
  auto f = SafetensorsFile::fromBytes(
      stBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{}})", 8),
      "w.safetensors");
  ASSERT_NE(f->find("a"), nullptr);
  EXPECT_EQ(f->find("a")->shape, Shape{2});
}

TEST(Safetensors, MalformedFilesAreRejected) {
  EXPECT_EQ(errorOf({1, 2, 3}), "w.safetensors: too short for a safetensors file (3 bytes)");
  EXPECT_EQ(
      errorOf(stBytes("{}", 0, 1000)),
      "w.safetensors: header length 1000 exceeds the file (10 bytes) or the 104857600-byte limit");
  EXPECT_EQ(errorOf(stBytes("[1,2]", 0)), "w.safetensors: header must be a JSON object");
  EXPECT_NE(errorOf(stBytes("{\"a\": ", 0)).find("w.safetensors: header is not valid JSON"),
            std::string::npos);
  EXPECT_EQ(errorOf(stBytes(R"({"a":{"dtype":"F7","shape":[2],"data_offsets":[0,8]}})", 8)),
            "w.safetensors: tensor 'a': unsupported dtype \"F7\"");
  EXPECT_EQ(errorOf(stBytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8)),
            "w.safetensors: tensor 'a': shape entries must be non-negative integers, got [-2]");
  EXPECT_EQ(errorOf(stBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,80]}})", 8)),
            "w.safetensors: tensor 'a': data_offsets [0, 80] lie outside the 8-byte data section");
  EXPECT_EQ(errorOf(stBytes(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8)),
            "w.safetensors: tensor 'a': holds 8 bytes but shape [3] of F32 needs 12");
  EXPECT_EQ(errorOf(stBytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                          R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                          12)),
            "w.safetensors: tensors overlap in the data section at byte 4");
  EXPECT_EQ(
      errorOf(stBytes(R"({"a":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})",
                    8)),
      "w.safetensors: tensor 'a': shape [4611686018427387904,8] is too large");
  EXPECT_EQ(errorOf(stBytes(R"({"a":{"dtype":"F32","shape":[2]}})", 8)),
            "w.safetensors: tensor 'a': expected {dtype, shape, data_offsets}");
}

TEST(Checkpoint, MissingAndMisshapenTensorsAreNamed) {
  test::TempDir dir;
  fs::path model = dir.path / "m";
  copyCase("hf-f32-packed", model);
  // Replace the weights with a file lacking one tensor and with one tensor resized.
  auto src = SafetensorsFile::open((model / "model.safetensors").string());
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const auto &[name, t] : src->tensors())
    if (name != "model.layers.1.self_attn.k_proj.weight")
      tensors.push_back({name, name == "model.norm.weight" ? Tensor::zeros(DType::F32, {31})
                                                           : t.toFloat(DType::F32)});
  src.reset();
  writeSafetensorsF32((model / "model.safetensors").string(), tensors);
  EXPECT_EQ(errorOfFolder(model.string()),
            model.string() +
                ": the checkpoint has no tensor 'model.layers.1.self_attn.k_proj.weight'");
}

TEST(Checkpoint, ShapeMismatchNamesTheConfig) {
  test::TempDir dir;
  fs::path model = dir.path / "m";
  copyCase("hf-f16-sharded-tied", model);
  nlohmann::json config = nlohmann::json::parse(std::ifstream(model / "config.json"));
  config["intermediate_size"] = 13;
  std::ofstream(model / "config.json") << config.dump();
  std::string err = errorOfFolder(model.string());
  EXPECT_NE(err.find("tensor 'model.layers.0.mlp.experts.gate_up_proj' has shape 2x24x16 but the "
                     "config (" +
                     (model / "config.json").string() + ") implies 2x26x16"),
            std::string::npos)
      << err;
}

TEST(Checkpoint, BadShardIndexes) {
  test::TempDir dir;
  fs::path model = dir.path / "m";
  copyCase("hf-f16-sharded-tied", model);
  fs::path index = model / "model.safetensors.index.json";
  nlohmann::json root = nlohmann::json::parse(std::ifstream(index));
  nlohmann::json broken = root;
  broken["weight_map"]["model.norm.weight"] = "../../etc/passwd";
  std::ofstream(index) << broken.dump();
  EXPECT_EQ(errorOfFolder(model.string()),
            index.string() + ": weight_map['model.norm.weight'] names '../../etc/passwd', which is "
                             "outside the model folder");
  broken = root;
  broken["weight_map"]["model.norm.weight"] = "model-00009-of-00009.safetensors";
  std::ofstream(index) << broken.dump();
  EXPECT_NE(errorOfFolder(model.string()).find("model-00009-of-00009.safetensors: cannot open"),
            std::string::npos);
  broken = root;
  std::string other = root["weight_map"]["model.norm.weight"] == "model-00001-of-00002.safetensors"
                          ? "model-00002-of-00002.safetensors"
                          : "model-00001-of-00002.safetensors";
  broken["weight_map"]["model.norm.weight"] = other;
  std::ofstream(index) << broken.dump();
  EXPECT_EQ(errorOfFolder(model.string()), index.string() +
                                               ": tensor 'model.norm.weight' is mapped to " +
                                               other + ", which does not contain it");
  std::ofstream(index) << "{\"weight_map\": 3}";
  EXPECT_EQ(errorOfFolder(model.string()),
            index.string() + ": expected an object with a 'weight_map' object");
}

TEST(Checkpoint, EmptyFolder) {
  test::TempDir dir;
  EXPECT_EQ(errorOfFolder(dir.path.string()),
            (dir.path / "config.json").string() + ": cannot open the model config");
  dir.file("config.json", "{}");
  fs::remove(dir.path / "config.json");
  EXPECT_EQ(errorOfFolder((dir.path / "nope").string()),
            (dir.path / "nope").string() + ": not a model folder");
}

TEST(Checkpoint, TruncatedWeightsFile) {
  test::TempDir dir;
  fs::path model = dir.path / "m";
  copyCase("hf-f32-packed", model);
  fs::resize_file(model / "model.safetensors", fs::file_size(model / "model.safetensors") / 2);
  std::string err = errorOfFolder(model.string());
  EXPECT_NE(err.find("lie outside the"), std::string::npos) << err;
}
