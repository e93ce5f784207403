//===- AnyRes.h - MiniMax-VL-01 dynamic-resolution preprocessing -*- C++ -*-===//
//
// The released processor's "anyres" path, as spec/minimax-vl-01.md gives it:
// choose the best grid pinpoint, keep-ratio resize (floor-rounded) pasted on
// black, cut row-major tiles, prepend a squashed thumbnail of the whole image,
// rescale and normalise with the CLIP mean/std. The token layout the model
// packs those tiles into is a pure function of the image size, so the prompt
// can be expanded before any pixel is touched.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_IMAGE_ANYRES_H
#define MM_FRONTENDS_IMAGE_ANYRES_H

#include "frontends/image/Image.h"
#include "runtime/Tensor.h"

#include <array>
#include <utility>
#include <vector>

namespace mm::image {

/// What the processor needs; all of it derivable from a VL config.json.
struct AnyResConfig {
  int64_t tile = 336;  // vision_config.image_size
  int64_t patch = 14;  // vision_config.patch_size
  std::vector<std::pair<int64_t, int64_t>> pinpoints; // (width, height), processor order
  std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
  std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};

  /// The released list: [a*336, b*336] for the 28 (a, b) of the spec.
  static std::vector<std::pair<int64_t, int64_t>> releasedPinpoints(int64_t tile = 336);
  /// Refuses sizes the processor cannot use (tile not a multiple of patch,
  /// pinpoints not multiples of the tile), naming `where`.
  void validate(const std::string &where) const;
};

/// Where an image's tokens come from, for an image of `width` x `height`.
struct ImageTokenLayout {
  int64_t width = 0, height = 0;         // the original image
  int64_t bestWidth = 0, bestHeight = 0; // the chosen pinpoint
  int64_t resizedWidth = 0, resizedHeight = 0; // keep-ratio size before padding
  int64_t pasteX = 0, pasteY = 0;        // where it lands on the black canvas
  int64_t gridRows = 0, gridCols = 0;    // tiles
  int64_t side = 0;                      // tokens per tile side: tile / patch
  // The tile feature map [gridRows*side, gridCols*side] unpadded to the
  // original aspect ratio: rows [rowBegin, rowEnd) x cols [colBegin, colEnd).
  int64_t rowBegin = 0, rowEnd = 0, colBegin = 0, colEnd = 0;

  int64_t thumbnailTokens() const { return side * side; }
  int64_t keptRows() const { return rowEnd - rowBegin; }
  int64_t keptCols() const { return colEnd - colBegin; }
  /// thumbnail + one token per kept cell + an image_newline per kept row.
  int64_t tokens() const { return thumbnailTokens() + keptRows() * (keptCols() + 1); }
  int64_t tiles() const { return 1 + gridRows * gridCols; }
};

/// The layout as a pure function of the size; refuses images whose
/// keep-ratio resize would have an empty side (e.g. 100000 x 1), naming `name`.
ImageTokenLayout imageTokenLayout(int64_t width, int64_t height, const AnyResConfig &config,
                                  const std::string &name = "image");

/// The first pinpoint with a larger effective resolution, or an equal one and
/// less waste (processor order: pinpoints read as (width, height)).
std::pair<int64_t, int64_t> selectBestResolution(int64_t width, int64_t height,
                                                 const std::vector<std::pair<int64_t, int64_t>> &pinpoints);

/// The 8-bit tiles, thumbnail first, each tile x tile (the bit-exact part).
std::vector<RgbImage> anyResTiles(const RgbImage &image, const ImageTokenLayout &layout,
                                  const AnyResConfig &config);

/// pixel_values [tiles, 3, tile, tile] float32: x / 255, then (x - mean) / std.
Tensor normalizeTiles(const std::vector<RgbImage> &tiles, const AnyResConfig &config);

/// pack_image_features: `features` [tiles, side*side, E] (thumbnail first, as
/// anyResTiles orders them) and `newline` [E] to the image's [tokens(), E]
/// prompt rows: the thumbnail's rows, then the tile map unpadded row by row,
/// each kept row followed by `newline`. F32 or F64.
Tensor packImageFeatures(const Tensor &features, const ImageTokenLayout &layout, const Tensor &newline);

/// The prompt for images of these layouts, in order: a single `imageToken`
/// per image is expanded to that image's token count (the released
/// processor's path); a prompt already holding every image's count is kept.
/// Any other count is an error that gives both counts.
std::vector<int64_t> expandImageTokens(const std::vector<int64_t> &ids, int64_t imageToken,
                                       const std::vector<ImageTokenLayout> &layouts);

} // namespace mm::image

#endif // MM_FRONTENDS_IMAGE_ANYRES_H
