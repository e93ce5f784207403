//===- Image.h - 8-bit RGB images and their decoders -------------*- C++ -*-===//
//
// Images enter mmc as 8-bit RGB, row-major HWC, exactly as Pillow's
// `Image.open(path).convert("RGB")` gives them (what vLLM's image loader does
// before the processor): palettes expanded, gray replicated, alpha dropped (not
// composited), 16-bit colour reduced to its high byte (16-bit gray clipped at
// 255, as Pillow's I;16 conversion does), no gamma applied.
// PNG is decoded by libpng, JPEG by libjpeg-turbo; nothing here parses the
// formats itself. Every failure is an mm::Error naming the file.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_IMAGE_IMAGE_H
#define MM_FRONTENDS_IMAGE_IMAGE_H

#include <cstdint>
#include <string>
#include <vector>

namespace mm::image {

struct RgbImage {
  int64_t width = 0;
  int64_t height = 0;
  std::vector<uint8_t> pixels; // height x width x 3

  static RgbImage black(int64_t width, int64_t height);
  uint8_t *row(int64_t y) { return pixels.data() + y * width * 3; }
  const uint8_t *row(int64_t y) const { return pixels.data() + y * width * 3; }
};

/// Pillow's decompression-bomb limit (Image.MAX_IMAGE_PIXELS): larger images
/// are refused before any pixel memory is allocated.
constexpr int64_t kMaxImagePixels = 89478485;

/// Decodes a PNG or JPEG (chosen by signature, not by file name).
RgbImage decodeImage(const std::vector<uint8_t> &bytes, const std::string &name);
RgbImage readImageFile(const std::string &path);

} // namespace mm::image

#endif // MM_FRONTENDS_IMAGE_IMAGE_H
