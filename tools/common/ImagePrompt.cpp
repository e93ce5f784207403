//===- ImagePrompt.cpp - images into a MiniMax-VL-01 prompt ---------------===//
#include "tools/common/ImagePrompt.h"

#include "runtime/Error.h"

#include <cstring>

namespace mm {

ImagePrompt prepareImagePrompt(const ModelFolder &folder, const std::vector<int64_t> &ids,
                               const std::vector<std::string> &imagePaths, const VisionEncoder &encode) {
  if (!folder.vision)
    throw makeError(folder.dir, ": the model is text-only (config.json has no vision_config); "
                                "it takes no --image");
  const VisionLanguageConfig &vl = *folder.vision;
  ImagePrompt prompt;
  std::vector<std::vector<image::RgbImage>> tiles;
  for (const std::string &path : imagePaths) {
    image::RgbImage picture = image::readImageFile(path);
    prompt.layouts.push_back(image::imageTokenLayout(picture.width, picture.height, vl.anyres, path));
    tiles.push_back(image::anyResTiles(picture, prompt.layouts.back(), vl.anyres));
    prompt.tiles += static_cast<int64_t>(tiles.back().size());
  }
  prompt.ids = image::expandImageTokens(ids, vl.imageTokenIndex, prompt.layouts);
  int64_t hidden = vl.text.hiddenSize;
  if (imagePaths.empty()) {
    prompt.features = Tensor::zeros(DType::F32, {0, hidden});
    return prompt;
  }
  // One batch through the tower: every image's tiles, thumbnails included.
  std::vector<image::RgbImage> all;
  for (auto &t : tiles)
    all.insert(all.end(), std::make_move_iterator(t.begin()), std::make_move_iterator(t.end()));
  // Kept in the encoder's precision (f64 on the f64 reference path).
  Tensor features = encode(image::normalizeTiles(all, vl.anyres));
  DType dtype = features.dtype();
  int64_t perTile = vl.vision.patchesPerSide() * vl.vision.patchesPerSide();
  if (features.shape() != Shape{prompt.tiles, perTile, hidden})
    throw makeError("the vision function returned ", formatShape(features.shape()), " for ",
                    prompt.tiles, " tiles; expected [", prompt.tiles, ", ", perTile, ", ", hidden, "]");
  Tensor newline = folder.visionWeights->load(vision::imageNewline(), dtype);
  int64_t tokens = 0;
  for (const auto &l : prompt.layouts)
    tokens += l.tokens();
  prompt.features = Tensor::empty(dtype, {tokens, hidden});
  auto *out = static_cast<char *>(prompt.features.raw());
  const auto *in = static_cast<const char *>(features.raw());
  size_t tileBytes = static_cast<size_t>(perTile * hidden) * dtypeSize(dtype);
  int64_t firstTile = 0;
  for (const auto &layout : prompt.layouts) {
    Tensor mine = Tensor::empty(dtype, {layout.tiles(), perTile, hidden});
    std::memcpy(mine.raw(), in + firstTile * tileBytes, mine.nbytes());
    Tensor packed = image::packImageFeatures(mine, layout, newline);
    std::memcpy(out, packed.raw(), packed.nbytes());
    out += packed.nbytes();
    firstTile += layout.tiles();
  }
  return prompt;
}

} // namespace mm
