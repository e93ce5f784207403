//===- Checkpoint.h - a Hugging Face checkpoint folder ----------*- C++ -*-===//
//
// A model folder holds `model.safetensors`, or shards listed by
// `model.safetensors.index.json` ({"weight_map": {tensor: file}}). Every file
// is mapped and validated when the folder is opened.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_CHECKPOINT_H
#define MM_FRONTENDS_CHECKPOINT_H

#include "frontends/Safetensors.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mm {

class Checkpoint {
public:
  /// Opens the safetensors of `dir`; throws mm::Error naming the file.
  static Checkpoint open(const std::string &dir);

  /// The same files seen under other names: each stored tensor appears as
  /// `ownName(stored)`, or not at all when that is empty. MiniMax-VL-01 holds
  /// the text model under `language_model.`, and the text loader asks for its
  /// own names. `what` says so in errors about missing tensors.
  Checkpoint renamed(const std::function<std::string(const std::string &)> &ownName,
                     const std::string &what) const;

  const StTensor *find(const std::string &name) const;
  /// The tensor, or an error naming it and the folder.
  const StTensor &get(const std::string &name) const;
  std::vector<std::string> names() const;
  const std::string &dir() const { return dir_; }
  /// The paths of its safetensors files, in the order they were opened.
  std::vector<std::string> files() const;

private:
  std::string dir_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, const StTensor *> tensors_;
  std::string view_; // what a renamed view shows, for messages
};

} // namespace mm

#endif // MM_FRONTENDS_CHECKPOINT_H
