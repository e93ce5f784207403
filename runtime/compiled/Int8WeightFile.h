//===- Int8WeightFile.h - int8 weights quantized at compile time -*- C++ -*-===//
//
// `mm-compile --model DIR --weight-dtype int8 -o BIN` quantizes the int8
// weights once and stores them beside the binary as BIN.int8.safetensors:
// for each weight `<name>` (I8, the weight's shape) and `<name>.scale` (F32,
// one per row), a plain safetensors file any reader can open. The binary then
// loads them without reading the float checkpoint's copies or requantizing.
//
// The executable's `int8_weight_file` records the file's name, a checksum of
// its tensors (FNV-1a, 64 bits) and the checkpoint files it came from (path,
// size, modification time). On load a damaged file is an error; a missing
// file, or a checkpoint that changed since, makes the runtime quantize from
// the checkpoint as it is now, and say so.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_COMPILED_INT8WEIGHTFILE_H
#define MM_RUNTIME_COMPILED_INT8WEIGHTFILE_H

#include "runtime/WeightBinder.h"
#include "runtime/executable/ExecutableFile.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mm {

class SafetensorsFile;

/// One int8 weight's values and row scales (runtime/compiled/WeightQuantization.h).
struct Int8WeightView {
  const int8_t *q = nullptr;
  const float *scales = nullptr;
};
using Int8WeightViews = std::map<std::string, Int8WeightView>;

class Int8WeightFile {
public:
  /// Quantizes every DTYPE_I8_ROWS weight of `e`, read through `binder`,
  /// writes them to `path` atomically, and records the file in `e`, with
  /// `checkpointFiles` as its sources.
  static void write(exe::Executable &e, const WeightBinder &binder, const std::string &path,
                    const std::vector<std::string> &checkpointFiles);

  /// The file `e` records, from `dir`, when it matches `checkpointFiles` (the
  /// files the weights would otherwise come from). nullptr with `whyNot`
  /// set when `e` records none, it is missing, or the checkpoint changed;
  /// throws mm::Error naming the file when it is damaged.
  static std::unique_ptr<Int8WeightFile> open(const exe::Executable &e, const std::string &dir,
                                              const std::vector<std::string> &checkpointFiles,
                                              std::string *whyNot);
  ~Int8WeightFile();

  const Int8WeightViews &weights() const { return weights_; }

private:
  Int8WeightFile() = default;
  std::unique_ptr<SafetensorsFile> file_;
  Int8WeightViews weights_;
};

} // namespace mm

#endif // MM_RUNTIME_COMPILED_INT8WEIGHTFILE_H
