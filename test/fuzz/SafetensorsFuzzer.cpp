//===- SafetensorsFuzzer.cpp - libFuzzer over the safetensors reader ------===//
//
// Arbitrary bytes as a .safetensors image: validation must either accept it or
// throw mm::Error; an accepted file's tensors must convert without reading
// outside the image (ASan checks every byte read).
//
//===----------------------------------------------------------------------===//
#include "frontends/Safetensors.h"
#include "runtime/Error.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    auto file = mm::SafetensorsFile::fromBytes(std::vector<uint8_t>(data, data + size), "fuzz");
    for (const auto &[name, tensor] : file->tensors())
      if (tensor.nbytes <= (1u << 20))
        try {
          (void)tensor.toFloat(mm::DType::F32);
        } catch (const mm::Error &) {
          // integer dtypes are refused as weights: expected
        }
  } catch (const mm::Error &) {
  }
  return 0;
}
