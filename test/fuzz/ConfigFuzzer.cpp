//===- ConfigFuzzer.cpp - libFuzzer over config.json parsing --------------===//
//
// Arbitrary bytes as a config.json: parsing either yields a config whose
// weight shapes can be listed, or throws mm::Error naming the field.
//
//===----------------------------------------------------------------------===//
#include "frontends/MiniMaxWeights.h"
#include "frontends/ModelConfig.h"
#include "runtime/Error.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    mm::MiniMaxConfig c = mm::parseMiniMaxConfig(
        std::string(reinterpret_cast<const char *>(data), size), "config.json");
    if (c.numLayers <= 64)
      (void)mm::minimax::parameterSpecs(c);
  } catch (const mm::Error &) {
  }
  return 0;
}
