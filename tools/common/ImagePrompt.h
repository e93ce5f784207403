//===- ImagePrompt.h - images into MiniMax-VL-01 prompts --------*- C++ -*-===//
//
// Decode each image, lay it out (anyres), expand the prompts' image tokens,
// run every tile of the batch through the vision function in one call, and
// pack the features in batch-then-position order (mm.merge_image_features's
// order). The vision function is whichever backend the tool chose (the
// reference executor or compiled code): a callback here, so this file stays
// free of the compiler.
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

struct ImagePrompts {
  std::vector<std::vector<int64_t>> ids; // each prompt, image tokens expanded
  Tensor features;                       // [image tokens of the batch, hidden]
  int64_t tiles = 0;                     // through the tower, thumbnails included
};

/// Each prompt takes, in order, one image per image token it holds; a single
/// prompt may instead hold every image's full token count. Throws mm::Error
/// naming the image file, the counts that disagree, or the model when it is
/// text-only.
ImagePrompts prepareImagePrompts(const ModelFolder &folder, std::vector<std::vector<int64_t>> prompts,
                                 const std::vector<std::string> &imagePaths,
                                 const VisionEncoder &encode);

} // namespace mm

#endif // MM_TOOLS_COMMON_IMAGEPROMPT_H
