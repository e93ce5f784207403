//===- PillowResize.cpp - Pillow's 8-bit BICUBIC resize ---------------------===//
#include "frontends/image/PillowResize.h"

#include "runtime/Error.h"

#include <algorithm>
#include <cmath>

namespace mm::image {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;
constexpr double kBicubicSupport = 2.0;

double bicubic(double x) {
  constexpr double a = -0.5;
  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0)
    return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

/// The taps of one output axis: for output i, `count[i]` fixed-point weights
/// starting at input `first[i]`, stored `taps` apart.
struct AxisTaps {
  int64_t taps = 0;
  std::vector<int64_t> first, count;
  std::vector<int32_t> weights;
};

AxisTaps precompute(int64_t inSize, int64_t outSize) {
  // Pillow passes the box edges as floats, and computes the scale in double.
  double scale = static_cast<double>(static_cast<float>(inSize) - 0.0f) / outSize;
  double filterScale = std::max(scale, 1.0);
  double support = kBicubicSupport * filterScale;
  AxisTaps axis;
  axis.taps = static_cast<int64_t>(std::ceil(support)) * 2 + 1;
  axis.first.resize(outSize);
  axis.count.resize(outSize);
  axis.weights.assign(static_cast<size_t>(outSize * axis.taps), 0);
  std::vector<double> k(axis.taps);
  for (int64_t xx = 0; xx < outSize; ++xx) {
    double center = (xx + 0.5) * scale;
    double ss = 1.0 / filterScale;
    int64_t xmin = std::max<int64_t>(static_cast<int>(center - support + 0.5), 0);
    int64_t xmax = std::min<int64_t>(static_cast<int>(center + support + 0.5), inSize) - xmin;
    double sum = 0.0;
    for (int64_t x = 0; x < xmax; ++x) {
      k[x] = bicubic((x + xmin - center + 0.5) * ss);
      sum += k[x];
    }
    for (int64_t x = 0; x < xmax; ++x) {
      double w = sum != 0.0 ? k[x] / sum : k[x];
      axis.weights[xx * axis.taps + x] = static_cast<int32_t>(
          w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    axis.first[xx] = xmin;
    axis.count[xx] = xmax;
  }
  return axis;
}

uint8_t clip8(int32_t accumulator) {
  int32_t v = accumulator >> kPrecisionBits;
  return static_cast<uint8_t>(std::clamp(v, 0, 255));
}

/// Rows [rowBegin, rowBegin + out.height) of `in`, resampled along x.
void horizontalPass(const RgbImage &in, int64_t rowBegin, const AxisTaps &axis, RgbImage &out) {
  for (int64_t y = 0; y < out.height; ++y) {
    const uint8_t *src = in.row(y + rowBegin);
    uint8_t *dst = out.row(y);
    for (int64_t xx = 0; xx < out.width; ++xx) {
      const int32_t *k = &axis.weights[xx * axis.taps];
      int64_t xmin = axis.first[xx];
      int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
      for (int64_t x = 0; x < axis.count[xx]; ++x) {
        const uint8_t *p = src + (x + xmin) * 3;
        s0 += p[0] * k[x];
        s1 += p[1] * k[x];
        s2 += p[2] * k[x];
      }
      dst[xx * 3 + 0] = clip8(s0);
      dst[xx * 3 + 1] = clip8(s1);
      dst[xx * 3 + 2] = clip8(s2);
    }
  }
}

/// `axis.first` is relative to row `rowOffset` of `in`.
void verticalPass(const RgbImage &in, int64_t rowOffset, const AxisTaps &axis, RgbImage &out) {
  for (int64_t yy = 0; yy < out.height; ++yy) {
    const int32_t *k = &axis.weights[yy * axis.taps];
    int64_t ymin = axis.first[yy] - rowOffset;
    uint8_t *dst = out.row(yy);
    for (int64_t xx = 0; xx < out.width * 3; ++xx) {
      int32_t s = 1 << (kPrecisionBits - 1);
      for (int64_t y = 0; y < axis.count[yy]; ++y)
        s += in.row(y + ymin)[xx] * k[y];
      dst[xx] = clip8(s);
    }
  }
}

} // namespace

RgbImage resizeBicubic(const RgbImage &in, int64_t width, int64_t height) {
  if (width <= 0 || height <= 0)
    throw makeError("resize of a ", in.width, "x", in.height, " image to ", width, "x", height,
                    ": the target size must be positive");
  if (in.width <= 0 || in.height <= 0)
    throw makeError("resize of an empty image");
  if (width == in.width && height == in.height)
    return in;
  AxisTaps horizontal = precompute(in.width, width);
  AxisTaps vertical = precompute(in.height, height);
  // Only the source rows the vertical pass reads go through the horizontal one.
  int64_t firstRow = vertical.first.front();
  int64_t lastRow = vertical.first.back() + vertical.count.back();
  bool needHorizontal = width != in.width, needVertical = height != in.height;
  RgbImage rows;
  int64_t rowOffset = 0;
  if (needHorizontal) {
    rows = RgbImage::black(width, lastRow - firstRow);
    horizontalPass(in, firstRow, horizontal, rows);
    rowOffset = firstRow;
  }
  if (!needVertical)
    return rows;
  RgbImage out = RgbImage::black(width, height);
  verticalPass(needHorizontal ? rows : in, needHorizontal ? rowOffset : 0, vertical, out);
  return out;
}

} // namespace mm::image
