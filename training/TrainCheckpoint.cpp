//===- TrainCheckpoint.cpp ------------------------------------------------===//
#include "training/TrainCheckpoint.h"
#include "frontends/Safetensors.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <ostream>
#include <unistd.h>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mm::train {

namespace {
constexpr int kFormat = 1;

std::string stepName(int64_t step) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "step-%08lld", static_cast<long long>(step));
  return buffer;
}

std::vector<std::pair<std::string, Tensor>> ordered(const TensorMap &a, const char *prefix = "") {
  std::vector<std::pair<std::string, Tensor>> out;
  for (const auto &[name, t] : a)
    out.push_back({prefix + name, t});
  return out;
}

json checksums(const std::vector<std::pair<std::string, Tensor>> &tensors) {
  json out = json::object();
  for (const auto &[name, t] : tensors)
    out[name] = tensorChecksum(t.raw(), t.nbytes());
  return out;
}

/// Reads `file` of `dir`, checking every tensor `like` names (with `prefix`)
/// against its shape and the recorded checksum.
TensorMap readVerified(const std::string &dir, const std::string &file, const TensorMap &like,
                       const std::string &prefix, const json &sums) {
  std::string path = dir + "/" + file;
  auto st = SafetensorsFile::open(path);
  TensorMap out;
  for (const auto &[name, expected] : like) {
    std::string key = prefix + name;
    const StTensor *t = st->find(key);
    if (!t)
      throw makeError(path, ": tensor '", key, "' is missing");
    if (t->dtype != StDType::F32 || t->shape != expected.shape())
      throw makeError(path, ": tensor '", key, "' is ", stDTypeName(t->dtype), " ",
                      formatShape(t->shape), ", expected F32 ", formatShape(expected.shape()));
    if (!sums.contains(key) || sums[key].get<uint32_t>() != tensorChecksum(t->data, t->nbytes))
      throw makeError(path, ": tensor '", key, "' fails its checksum (the checkpoint is damaged)");
    Tensor copy = Tensor::empty(DType::F32, t->shape);
    std::memcpy(copy.raw(), t->data, t->nbytes);
    out.emplace(name, copy);
  }
  return out;
}
} // namespace

WeightBinder binderOf(const TensorMap &weights, const std::string &owner) {
  return [&weights, owner](const std::string &name, const Shape &, DType) -> Tensor {
    auto it = weights.find(name);
    if (it == weights.end())
      throw makeError(owner, " has no weight '", name, "'");
    return it->second;
  };
}

TrainingState startingState(TensorMap weights) {
  TrainingState state;
  for (const auto &[name, w] : weights) {
    state.firstMoments[name] = Tensor::zeros(DType::F32, w.shape());
    state.secondMoments[name] = Tensor::zeros(DType::F32, w.shape());
  }
  state.weights = std::move(weights);
  return state;
}

std::string saveCheckpoint(const std::string &checkpointsDir, const TrainingState &state,
                           uint64_t seed, int keep) {
  fs::create_directories(checkpointsDir);
  std::string final = checkpointsDir + "/" + stepName(state.step);
  std::string tmp = final + ".tmp." + std::to_string(::getpid());
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  auto weights = ordered(state.weights);
  auto moments = ordered(state.firstMoments, "adam_m.");
  for (auto &entry : ordered(state.secondMoments, "adam_v."))
    moments.push_back(entry);
  writeFileAtomically(tmp + "/weights.safetensors", safetensorsImageF32(weights));
  writeFileAtomically(tmp + "/optimizer.safetensors", safetensorsImageF32(moments));
  json meta = {{"format", kFormat},
               {"step", state.step},
               {"tokens_seen", state.tokensSeen},
               {"data", {{"epoch", state.data.epoch}, {"cursor", state.data.cursor}}},
               {"seed", seed},
               {"checksums",
                {{"weights.safetensors", checksums(weights)},
                 {"optimizer.safetensors", checksums(moments)}}}};
  writeFileAtomically(tmp + "/state.json", meta.dump(1));
  fs::remove_all(final); // a checkpoint of this step from a run that died after it
  renameDurably(tmp, final);
  // Keep the newest `keep` complete checkpoints; drop leftovers of killed writes.
  std::vector<std::string> steps;
  for (const auto &entry : fs::directory_iterator(checkpointsDir)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) != 0)
      continue;
    if (name.find(".tmp.") != std::string::npos)
      fs::remove_all(entry.path());
    else
      steps.push_back(name);
  }
  std::sort(steps.rbegin(), steps.rend());
  for (size_t i = static_cast<size_t>(keep); i < steps.size(); ++i)
    fs::remove_all(checkpointsDir + "/" + steps[i]);
  return final;
}

TrainingState loadCheckpoint(const std::string &dir, const TensorMap &like, uint64_t seed) {
  json meta;
  try {
    meta = json::parse(readFile(dir + "/state.json"));
  } catch (const json::exception &e) {
    throw makeError(dir, "/state.json: ", e.what());
  }
  if (meta.value("format", 0) != kFormat)
    throw makeError(dir, "/state.json: unknown checkpoint format");
  if (meta.value("seed", uint64_t(0)) != seed)
    throw makeError(dir, "/state.json: written with --seed ", meta.value("seed", uint64_t(0)),
                    ", this run has ", seed);
  TrainingState s;
  s.step = meta.at("step").get<int64_t>();
  s.tokensSeen = meta.at("tokens_seen").get<int64_t>();
  s.data.epoch = meta.at("data").at("epoch").get<int64_t>();
  s.data.cursor = meta.at("data").at("cursor").get<int64_t>();
  const json &sums = meta.at("checksums");
  s.weights = readVerified(dir, "weights.safetensors", like, "", sums.at("weights.safetensors"));
  const json &opt = sums.at("optimizer.safetensors");
  s.firstMoments = readVerified(dir, "optimizer.safetensors", like, "adam_m.", opt);
  s.secondMoments = readVerified(dir, "optimizer.safetensors", like, "adam_v.", opt);
  return s;
}

std::optional<std::pair<std::string, TrainingState>>
loadNewestCheckpoint(const std::string &checkpointsDir, const TensorMap &like, uint64_t seed,
                     std::ostream &log) {
  std::vector<std::string> steps;
  if (fs::is_directory(checkpointsDir))
    for (const auto &entry : fs::directory_iterator(checkpointsDir)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("step-", 0) == 0 && name.find(".tmp.") == std::string::npos)
        steps.push_back(name);
    }
  std::sort(steps.rbegin(), steps.rend());
  std::string failures;
  for (const std::string &name : steps) {
    std::string dir = checkpointsDir + "/" + name;
    try {
      return std::make_pair(dir, loadCheckpoint(dir, like, seed));
    } catch (const std::exception &e) {
      log << "mm-train: skipping damaged checkpoint: " << e.what() << "\n";
      failures += std::string("\n  ") + e.what();
    }
  }
  if (!steps.empty())
    throw makeError(checkpointsDir, ": every checkpoint is damaged:", failures);
  return std::nullopt;
}

} // namespace mm::train
