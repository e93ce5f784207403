//===- ImagePrompt.cpp - images into MiniMax-VL-01 prompts ----------------===//
#include "tools/common/ImagePrompt.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cstring>

namespace mm {

namespace {
/// How many of the images each prompt takes, in order.
std::vector<size_t> imagesPerPrompt(const std::vector<std::vector<int64_t>> &prompts, int64_t token,
                                    size_t images) {
  if (prompts.size() == 1) // the full-count form is only unambiguous alone
    return {images};
  std::vector<size_t> counts;
  size_t total = 0;
  for (const auto &p : prompts) {
    counts.push_back(static_cast<size_t>(std::count(p.begin(), p.end(), token)));
    total += counts.back();
  }
  if (total != images)
    throw makeError("the batch's prompts hold ", total, " image token(s) (id ", token, ") for ", images,
                    " --image: give one image per image token, in prompt order");
  return counts;
}
} // namespace

ImagePrompts prepareImagePrompts(const ModelFolder &folder, std::vector<std::vector<int64_t>> prompts,
                                 const std::vector<std::string> &imagePaths,
                                 const VisionEncoder &encode) {
  if (!folder.vision)
    throw makeError(folder.dir, ": the model is text-only (config.json has no vision_config); "
                                "it takes no --image");
  const VisionLanguageConfig &vl = *folder.vision;
  std::vector<image::ImageTokenLayout> layouts;
  std::vector<image::RgbImage> tiles; // every image's, in order
  for (const std::string &path : imagePaths) {
    image::RgbImage picture = image::readImageFile(path);
    layouts.push_back(image::imageTokenLayout(picture.width, picture.height, vl.anyres, path));
    for (image::RgbImage &t : image::anyResTiles(picture, layouts.back(), vl.anyres))
      tiles.push_back(std::move(t));
  }
  ImagePrompts out;
  out.tiles = static_cast<int64_t>(tiles.size());
  size_t next = 0;
  std::vector<size_t> counts = imagesPerPrompt(prompts, vl.imageTokenIndex, imagePaths.size());
  for (size_t b = 0; b < prompts.size(); ++b) {
    std::vector<image::ImageTokenLayout> mine(layouts.begin() + next, layouts.begin() + next + counts[b]);
    next += counts[b];
    out.ids.push_back(image::expandImageTokens(prompts[b], vl.imageTokenIndex, mine));
  }
  int64_t hidden = vl.text.hiddenSize;
  if (tiles.empty()) {
    out.features = Tensor::zeros(DType::F32, {0, hidden});
    return out;
  }
  // One call of the tower for the whole batch; kept in the encoder's
  // precision (f64 on the f64 reference path).
  Tensor features = encode(image::normalizeTiles(tiles, vl.anyres));
  DType dtype = features.dtype();
  int64_t perTile = vl.vision.patchesPerSide() * vl.vision.patchesPerSide();
  if (features.shape() != Shape{out.tiles, perTile, hidden})
    throw makeError("the vision function returned ", formatShape(features.shape()), " for ", out.tiles,
                    " tiles; expected [", out.tiles, ", ", perTile, ", ", hidden, "]");
  Tensor newline = folder.visionWeights->load(vision::imageNewline(), dtype);
  int64_t tokens = 0;
  for (const auto &l : layouts)
    tokens += l.tokens();
  out.features = Tensor::empty(dtype, {tokens, hidden});
  auto *dst = static_cast<char *>(out.features.raw());
  const auto *src = static_cast<const char *>(features.raw());
  size_t tileBytes = static_cast<size_t>(perTile * hidden) * dtypeSize(dtype);
  int64_t firstTile = 0;
  for (const auto &layout : layouts) {
    Tensor one = Tensor::empty(dtype, {layout.tiles(), perTile, hidden});
    std::memcpy(one.raw(), src + firstTile * tileBytes, one.nbytes());
    Tensor packed = image::packImageFeatures(one, layout, newline);
    std::memcpy(dst, packed.raw(), packed.nbytes());
    dst += packed.nbytes();
    firstTile += layout.tiles();
  }
  return out;
}

} // namespace mm
