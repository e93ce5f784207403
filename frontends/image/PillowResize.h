//===- PillowResize.h - Pillow's 8-bit BICUBIC resize, bit for bit -*- C++ -*-===//
//
// MiniMax-VL-01's processor resizes with Pillow, and its outputs depend on every
// pixel (one level off moves the logits by ~1e-3 relative). This is the
// algorithm of Pillow <= 12.1 (libImaging/Resample.c) for 8-bit images:
//   - cubic kernel with a = -0.5, support 2 * max(scale, 1), taps normalised
//     to sum 1 in double, then rounded to fixed point with 22 fraction bits;
//   - accumulators start at 1 << 21, are shifted >> 22 and clamped to 0..255;
//   - the horizontal pass first, into an 8-bit image, then the vertical pass;
//   - a resize to the same size is a copy.
// Pillow 12.2 and later sometimes run the vertical pass first, which moves
// some pixels by a level (check_pillow.py found it: 2x700 -> 1x300); the
// released processor predates that.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_IMAGE_PILLOWRESIZE_H
#define MM_FRONTENDS_IMAGE_PILLOWRESIZE_H

#include "frontends/image/Image.h"

namespace mm::image {

/// `Image.resize((width, height), Image.BICUBIC)` of an RGB image.
RgbImage resizeBicubic(const RgbImage &in, int64_t width, int64_t height);

} // namespace mm::image

#endif // MM_FRONTENDS_IMAGE_PILLOWRESIZE_H
