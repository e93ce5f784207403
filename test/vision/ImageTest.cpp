//===- ImageTest.cpp - decoders, refusals and the anyres token layout -----===//
//
// Pixel-exactness against Pillow is check_pillow.py's job; this file checks
// the layout arithmetic against the released examples and the refusals.
//
//===----------------------------------------------------------------------===//
#include "frontends/image/AnyRes.h"
#include "frontends/image/PillowResize.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <functional>
#include <tuple>

using namespace mm;
using namespace mm::image;

namespace {
#include "TinyImages.inc"

std::vector<uint8_t> bytesOf(const uint8_t *data, size_t size) {
  return std::vector<uint8_t>(data, data + size);
}

AnyResConfig releasedConfig() {
  AnyResConfig config;
  config.pinpoints = AnyResConfig::releasedPinpoints();
  return config;
}

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST(ImageLayout, ReleasedExamples) {
  // Token counts the released processor gives (spec/minimax-vl-01.md).
  AnyResConfig config = releasedConfig();
  EXPECT_EQ(imageTokenLayout(336, 336, config).tokens(), 1176);
  EXPECT_EQ(imageTokenLayout(640, 480, config).tokens(), 2340);
  EXPECT_EQ(imageTokenLayout(1024, 768, config).tokens(), 7560);
  EXPECT_EQ(imageTokenLayout(1920, 1080, config).tokens(), 9864);
}

TEST(ImageLayout, FourByThreeDetails) {
  ImageTokenLayout l = imageTokenLayout(640, 480, releasedConfig());
  EXPECT_EQ(l.bestWidth, 672);
  EXPECT_EQ(l.bestHeight, 672);
  EXPECT_EQ(l.resizedWidth, 672);
  EXPECT_EQ(l.resizedHeight, 504); // int(672 * 480 / 640)
  EXPECT_EQ(l.pasteY, 84);
  EXPECT_EQ(l.rowBegin, 6); // (48 - 36) / 2
  EXPECT_EQ(l.rowEnd, 42);
  EXPECT_EQ(l.keptCols(), 48);
  EXPECT_EQ(l.tiles(), 5);
}

TEST(ImageLayout, ThumbnailTermFollowsTileAndPatch) {
  // A 224-pixel tile of 16-pixel patches has 14 x 14 thumbnail tokens, not 576.
  AnyResConfig config;
  config.tile = 224;
  config.patch = 16;
  config.pinpoints = AnyResConfig::releasedPinpoints(224);
  ImageTokenLayout l = imageTokenLayout(224, 224, config);
  EXPECT_EQ(l.thumbnailTokens(), 196);
  EXPECT_EQ(l.tokens(), 196 + 14 * 15);
}

TEST(ImageLayout, RefusesDegenerateSizes) {
  AnyResConfig config = releasedConfig();
  std::string e = errorOf([&] { imageTokenLayout(100000, 1, config, "wide.png"); });
  EXPECT_NE(e.find("wide.png"), std::string::npos) << e;
  EXPECT_NE(e.find("too elongated"), std::string::npos) << e;
  EXPECT_NE(errorOf([&] { imageTokenLayout(0, 5, config); }).find("zero size"), std::string::npos);
}

TEST(ImageLayout, ConfigValidation) {
  AnyResConfig config = releasedConfig();
  config.patch = 13;
  EXPECT_NE(errorOf([&] { config.validate("cfg.json"); }).find("cfg.json"), std::string::npos);
  config = releasedConfig();
  config.pinpoints.push_back({500, 336});
  EXPECT_NE(errorOf([&] { config.validate("cfg.json"); }).find("[500, 336]"), std::string::npos);
}

TEST(ImageDecode, PngPixels) {
  RgbImage image = decodeImage(bytesOf(kPng7x5, sizeof kPng7x5), "tiny.png");
  ASSERT_EQ(image.width, 7);
  ASSERT_EQ(image.height, 5);
  const uint8_t want[6] = {255, 228, 34, 121, 243, 189};
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(image.pixels[i], want[i]) << i;
}

TEST(ImageDecode, JpegDecodes) {
  RgbImage image = decodeImage(bytesOf(kJpeg7x5, sizeof kJpeg7x5), "tiny.jpg");
  EXPECT_EQ(image.width, 7);
  EXPECT_EQ(image.height, 5);
}

TEST(ImageDecode, EveryTruncationIsRefused) {
  // Pillow refuses truncated files (LOAD_TRUNCATED_IMAGES off); so do we, by name.
  for (auto [data, size, name] : {std::tuple{kPng7x5, sizeof kPng7x5, "t.png"},
                                  std::tuple{kJpeg7x5, sizeof kJpeg7x5, "t.jpg"}}) {
    for (size_t n = 0; n < size; ++n) {
      std::string e = errorOf([&] { decodeImage(bytesOf(data, n), name); });
      EXPECT_NE(e.find(name), std::string::npos) << name << " cut at " << n << ": '" << e << "'";
    }
  }
}

TEST(ImageDecode, CorruptAndUnsupported) {
  std::vector<uint8_t> gif = {'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0};
  EXPECT_NE(errorOf([&] { decodeImage(gif, "x.gif"); }).find("unsupported image format"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { decodeImage({}, "empty.png"); }).find("empty"), std::string::npos);
  // Flip a byte inside the PNG's compressed data: its CRC no longer matches.
  std::vector<uint8_t> corrupt = bytesOf(kPng7x5, sizeof kPng7x5);
  corrupt[60] ^= 0xFF;
  EXPECT_NE(errorOf([&] { decodeImage(corrupt, "c.png"); }).find("c.png"), std::string::npos);
  EXPECT_NE(errorOf([&] { readImageFile("/nonexistent/none.png"); }).find("cannot open"),
            std::string::npos);
}

TEST(ImageDecode, RefusesDecompressionBombBeforeAllocating) {
  // A PNG header claiming 20000 x 20000: the IHDR alone, with a valid CRC.
  std::vector<uint8_t> png = bytesOf(kPng7x5, sizeof kPng7x5);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i)
      png[at + i] = uint8_t(v >> (24 - 8 * i));
  };
  put32(16, 20000);
  put32(20, 20000);
  // CRC-32 of "IHDR" + the 13 data bytes.
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 12; i < 29; ++i) {
    crc ^= png[i];
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  put32(29, ~crc);
  std::string e = errorOf([&] { decodeImage(png, "bomb.png"); });
  EXPECT_NE(e.find("pixel limit"), std::string::npos) << e;
}

TEST(Resize, SameSizeIsACopyAndTilesComeThumbnailFirst) {
  RgbImage image = decodeImage(bytesOf(kPng7x5, sizeof kPng7x5), "tiny.png");
  EXPECT_EQ(resizeBicubic(image, 7, 5).pixels, image.pixels);
  AnyResConfig config = releasedConfig();
  ImageTokenLayout layout = imageTokenLayout(image.width, image.height, config);
  std::vector<RgbImage> tiles = anyResTiles(image, layout, config);
  ASSERT_EQ(static_cast<int64_t>(tiles.size()), layout.tiles());
  EXPECT_EQ(tiles[0].pixels, resizeBicubic(image, 336, 336).pixels);
  Tensor pixels = normalizeTiles(tiles, config);
  EXPECT_EQ(pixels.shape(), (Shape{layout.tiles(), 3, 336, 336}));
  // Channel 0 of the thumbnail's first pixel, normalised with the CLIP mean/std.
  float want = (static_cast<float>(tiles[0].pixels[0] / 255.0) - 0.48145466f) / 0.26862954f;
  EXPECT_EQ(pixels.data<float>()[0], want);
}
