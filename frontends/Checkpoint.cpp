//===- Checkpoint.cpp -----------------------------------------------------===//
#include "frontends/Checkpoint.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace mm {

namespace fs = std::filesystem;
using json = nlohmann::json;

static json readJsonFile(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw makeError(path.string(), ": cannot open");
  std::stringstream buffer;
  buffer << in.rdbuf();
  try {
    return json::parse(buffer.str());
  } catch (const json::exception &e) { // parse_error, or out_of_range for 1e999
    throw makeError(path.string(), ": invalid JSON: ", e.what());
  }
}

Checkpoint Checkpoint::open(const std::string &dirArg) {
  Checkpoint ckpt;
  ckpt.dir_ = dirArg;
  fs::path dir(dirArg);
  if (!fs::is_directory(dir))
    throw makeError(dirArg, ": not a model folder");
  fs::path index = dir / "model.safetensors.index.json", single = dir / "model.safetensors";
  if (fs::exists(index)) {
    json root = readJsonFile(index);
    if (!root.is_object() || !root.contains("weight_map") || !root["weight_map"].is_object())
      throw makeError(index.string(), ": expected an object with a 'weight_map' object");
    std::map<std::string, std::shared_ptr<SafetensorsFile>> byFile;
    for (auto &[name, file] : root["weight_map"].items()) {
      if (!file.is_string())
        throw makeError(index.string(), ": weight_map['", name, "'] must be a file name");
      std::string shard = file.get<std::string>();
      fs::path rel(shard);
      // Shards live in the folder itself: no absolute paths, no '..'.
      if (rel.is_absolute() || shard.find("..") != std::string::npos || shard.empty())
        throw makeError(index.string(), ": weight_map['", name, "'] names '", shard,
                        "', which is outside the model folder");
      auto &f = byFile[shard];
      if (!f) {
        f = SafetensorsFile::open((dir / rel).string());
        ckpt.files_.push_back(f);
      }
      const StTensor *t = f->find(name);
      if (!t)
        throw makeError(index.string(), ": tensor '", name, "' is mapped to ", shard,
                        ", which does not contain it");
      ckpt.tensors_[name] = t;
    }
  } else if (fs::exists(single)) {
    auto f = std::shared_ptr<SafetensorsFile>(SafetensorsFile::open(single.string()));
    ckpt.files_.push_back(f);
    for (const auto &[name, t] : f->tensors())
      ckpt.tensors_[name] = &t;
  } else {
    throw makeError(dirArg, ": no model.safetensors or model.safetensors.index.json");
  }
  return ckpt;
}

Checkpoint Checkpoint::renamed(const std::function<std::string(const std::string &)> &ownName,
                               const std::string &what) const {
  Checkpoint view = *this;
  view.tensors_.clear();
  for (const auto &[stored, tensor] : tensors_)
    if (std::string own = ownName(stored); !own.empty())
      view.tensors_[own] = tensor;
  view.view_ = what;
  return view;
}

const StTensor *Checkpoint::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : it->second;
}

const StTensor &Checkpoint::get(const std::string &name) const {
  if (const StTensor *t = find(name))
    return *t;
  throw makeError(dir_, ": the checkpoint has no tensor '", name, "'",
                  view_.empty() ? "" : " (" + view_ + ")");
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  for (const auto &[name, t] : tensors_)
    out.push_back(name);
  return out;
}

std::vector<std::string> Checkpoint::files() const {
  std::vector<std::string> out;
  for (const auto &f : files_)
    out.push_back(f->path());
  return out;
}

} // namespace mm
