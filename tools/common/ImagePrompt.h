//===- ImagePrompt.h - images into a MiniMax-VL-01 prompt -------*- C++ -*-===//
//
// Decode each image, lay it out (anyres), expand the prompt's image tokens,
// run every image's tiles through the vision function in one batch, and pack
// the features in prompt order. The vision function is whichever backend the
// tool chose (the reference executor or compiled code): a callback here, so
// this file stays free of the compiler.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TOOLS_COMMON_IMAGEPROMPT_H
#define MM_TOOLS_COMMON_IMAGEPROMPT_H

#include "frontends/ModelFolder.h"
#include "frontends/image/AnyRes.h"

#include <functional>
#include <string>
#include <vector>

namespace mm {

/// pixel_values [tiles, 3, S, S] -> projected features [tiles, g*g, hidden].
using VisionEncoder = std::function<Tensor(const Tensor &pixelValues)>;

struct ImagePrompt {
  std::vector<int64_t> ids; // image tokens expanded
  Tensor features;          // [image tokens, hidden], in prompt order
  std::vector<image::ImageTokenLayout> layouts;
  int64_t tiles = 0;
};

/// Throws mm::Error naming the image file, or the model when it is text-only.
ImagePrompt prepareImagePrompt(const ModelFolder &folder, const std::vector<int64_t> &ids,
                               const std::vector<std::string> &imagePaths, const VisionEncoder &encode);

} // namespace mm

#endif // MM_TOOLS_COMMON_IMAGEPROMPT_H
