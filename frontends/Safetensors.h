//===- Safetensors.h - memory-mapped safetensors checkpoints ----*- C++ -*-===//
//
// A .safetensors file is an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}}, then the tensor bytes. Files are
// memory-mapped read-only; the header is validated completely (dtypes, shapes,
// offsets inside the data, sizes matching shape x dtype, no overlaps) before
// any tensor is handed out, so no later read can leave the mapping.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_SAFETENSORS_H
#define MM_FRONTENDS_SAFETENSORS_H

#include "runtime/Tensor.h"
#include "runtime/WeightBinder.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mm {

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };
const char *stDTypeName(StDType dtype);
size_t stDTypeSize(StDType dtype);

/// One tensor of a mapped file. `data` stays valid while its file is open.
struct StTensor {
  std::string name;
  std::string file;
  StDType dtype;
  Shape shape;
  const uint8_t *data;
  size_t nbytes;

  /// Converts to F32 or F64 (from F32, F16, BF16, F64); throws for others.
  Tensor toFloat(DType dtype) const;
  /// `toFloat` of the box `block` only: reads just its bytes (a rank's
  /// block of a split weight).
  Tensor blockToFloat(DType dtype, const WeightBlock &block) const;
  /// Converts an integer (or BOOL) tensor to I64; throws for float dtypes.
  Tensor toInt64() const;
};

class SafetensorsFile {
public:
  /// Maps and validates `path`; throws mm::Error naming the file and tensor.
  static std::unique_ptr<SafetensorsFile> open(const std::string &path);
  /// Validates an in-memory image (used by the fuzzer and tests).
  static std::unique_ptr<SafetensorsFile> fromBytes(std::vector<uint8_t> bytes,
                                                    const std::string &name);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile &) = delete;
  SafetensorsFile &operator=(const SafetensorsFile &) = delete;

  const StTensor *find(const std::string &name) const;
  const std::map<std::string, StTensor> &tensors() const { return tensors_; }
  const std::string &path() const { return path_; }

private:
  SafetensorsFile() = default;
  void parse(const uint8_t *bytes, size_t size);

  std::string path_;
  void *mapping_ = nullptr;
  size_t mappedSize_ = 0;
  std::vector<uint8_t> owned_; // fromBytes
  std::map<std::string, StTensor> tensors_;
};

/// The bytes of a .safetensors file of the tensors as F32 (callers that need
/// an atomic write write these themselves).
std::string safetensorsImageF32(const std::vector<std::pair<std::string, Tensor>> &tensors);
/// Writes tensors as F32 .safetensors (used by tests and tools).
void writeSafetensorsF32(const std::string &path,
                         const std::vector<std::pair<std::string, Tensor>> &tensors);

} // namespace mm

#endif // MM_FRONTENDS_SAFETENSORS_H
