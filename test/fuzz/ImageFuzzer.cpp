//===- ImageFuzzer.cpp - libFuzzer over the PNG / JPEG decoders -----------===//
//
// Arbitrary bytes as an image file: decoding must either succeed or throw
// mm::Error (libpng and libjpeg errors included, by longjmp back to us). A
// decoded image then goes through the anyres layout and tiling on a small
// tile, so the resize and the tile cuts see odd sizes too (ASan checks every
// pixel read).
//
//===----------------------------------------------------------------------===//
#include "frontends/image/AnyRes.h"
#include "runtime/Error.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  try {
    mm::image::RgbImage image = mm::image::decodeImage(std::vector<uint8_t>(data, data + size), "fuzz");
    mm::image::AnyResConfig config;
    config.tile = 28;
    config.patch = 14;
    config.pinpoints = mm::image::AnyResConfig::releasedPinpoints(28);
    if (image.width * image.height <= (1 << 16)) {
      auto layout = mm::image::imageTokenLayout(image.width, image.height, config, "fuzz");
      (void)mm::image::normalizeTiles(mm::image::anyResTiles(image, layout, config), config);
    }
  } catch (const mm::Error &) {
  }
  return 0;
}
