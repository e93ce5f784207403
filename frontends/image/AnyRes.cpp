//===- AnyRes.cpp - MiniMax-VL-01 dynamic-resolution preprocessing --------===//
#include "frontends/image/AnyRes.h"

#include "frontends/image/PillowResize.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace mm::image {

std::vector<std::pair<int64_t, int64_t>> AnyResConfig::releasedPinpoints(int64_t tile) {
  // (a, b) for a = 1..6 with b up to 6, 6, 6, 4, 3, 3.
  const int64_t maxB[6] = {6, 6, 6, 4, 3, 3};
  std::vector<std::pair<int64_t, int64_t>> pinpoints;
  for (int64_t a = 1; a <= 6; ++a)
    for (int64_t b = 1; b <= maxB[a - 1]; ++b)
      pinpoints.push_back({a * tile, b * tile});
  return pinpoints;
}

void AnyResConfig::validate(const std::string &where) const {
  if (tile <= 0 || patch <= 0 || tile % patch != 0)
    throw makeError(where, ": image size ", tile, " must be a positive multiple of patch size ",
                    patch);
  if (pinpoints.empty())
    throw makeError(where, ": image_grid_pinpoints is empty");
  for (auto [w, h] : pinpoints)
    if (w <= 0 || h <= 0 || w % tile || h % tile)
      throw makeError(where, ": image_grid_pinpoints entry [", w, ", ", h,
                      "] is not a positive multiple of the tile size ", tile);
  for (float s : std)
    if (!(s > 0))
      throw makeError(where, ": image_std must be positive");
}

std::pair<int64_t, int64_t>
selectBestResolution(int64_t width, int64_t height,
                     const std::vector<std::pair<int64_t, int64_t>> &pinpoints) {
  // Python floats are doubles, and int() truncates: the same arithmetic here.
  std::pair<int64_t, int64_t> best{0, 0};
  int64_t bestEffective = 0, bestWaste = std::numeric_limits<int64_t>::max();
  for (auto [w, h] : pinpoints) {
    double scale = std::min(double(w) / double(width), double(h) / double(height));
    int64_t scaledW = static_cast<int64_t>(width * scale), scaledH = static_cast<int64_t>(height * scale);
    int64_t effective = std::min(scaledW * scaledH, width * height);
    int64_t waste = w * h - effective;
    if (effective > bestEffective || (effective == bestEffective && waste < bestWaste)) {
      best = {w, h};
      bestEffective = effective;
      bestWaste = waste;
    }
  }
  return best;
}

ImageTokenLayout imageTokenLayout(int64_t width, int64_t height, const AnyResConfig &config,
                                  const std::string &name) {
  if (width <= 0 || height <= 0)
    throw makeError(name, ": image has zero size (", width, "x", height, ")");
  ImageTokenLayout layout;
  layout.width = width;
  layout.height = height;
  auto [W, H] = selectBestResolution(width, height, config.pinpoints);
  layout.bestWidth = W;
  layout.bestHeight = H;
  bool wider = double(width) / double(height) > double(W) / double(H);
  if (wider) {
    layout.resizedWidth = W;
    layout.resizedHeight = static_cast<int64_t>(double(W * height) / double(width));
  } else {
    layout.resizedHeight = H;
    layout.resizedWidth = static_cast<int64_t>(double(H * width) / double(height));
  }
  if (layout.resizedWidth < 1 || layout.resizedHeight < 1)
    throw makeError(name, ": a ", width, "x", height, " image is too elongated: fitting it into the ",
                    W, "x", H, " grid leaves a ", layout.resizedWidth, "x", layout.resizedHeight,
                    " picture");
  layout.pasteX = (W - layout.resizedWidth) / 2;
  layout.pasteY = (H - layout.resizedHeight) / 2;
  layout.gridCols = W / config.tile;
  layout.gridRows = H / config.tile;
  layout.side = config.tile / config.patch;
  // pack_image_features: unpad the tile feature map back to the image's ratio.
  int64_t mapH = layout.gridRows * layout.side, mapW = layout.gridCols * layout.side;
  layout.rowBegin = 0;
  layout.rowEnd = mapH;
  layout.colBegin = 0;
  layout.colEnd = mapW;
  if (double(width) / double(height) > double(mapW) / double(mapH)) {
    int64_t kept = (height * mapW) / width;
    int64_t pad = (mapH - kept) / 2;
    layout.rowBegin = pad;
    layout.rowEnd = mapH - pad;
  } else {
    int64_t kept = (width * mapH) / height;
    int64_t pad = (mapW - kept) / 2;
    layout.colBegin = pad;
    layout.colEnd = mapW - pad;
  }
  // A very thin image may keep no column (or row) at all: the released model
  // then emits only the newline tokens, and so do we.
  return layout;
}

std::vector<RgbImage> anyResTiles(const RgbImage &image, const ImageTokenLayout &layout,
                                  const AnyResConfig &config) {
  std::vector<RgbImage> tiles;
  tiles.push_back(resizeBicubic(image, config.tile, config.tile));
  RgbImage resized = resizeBicubic(image, layout.resizedWidth, layout.resizedHeight);
  RgbImage canvas = RgbImage::black(layout.bestWidth, layout.bestHeight);
  for (int64_t y = 0; y < resized.height; ++y)
    std::memcpy(canvas.row(y + layout.pasteY) + layout.pasteX * 3, resized.row(y),
                static_cast<size_t>(resized.width * 3));
  for (int64_t r = 0; r < layout.gridRows; ++r)
    for (int64_t c = 0; c < layout.gridCols; ++c) {
      RgbImage tile = RgbImage::black(config.tile, config.tile);
      for (int64_t y = 0; y < config.tile; ++y)
        std::memcpy(tile.row(y), canvas.row(r * config.tile + y) + c * config.tile * 3,
                    static_cast<size_t>(config.tile * 3));
      tiles.push_back(std::move(tile));
    }
  return tiles;
}

Tensor normalizeTiles(const std::vector<RgbImage> &tiles, const AnyResConfig &config) {
  int64_t n = static_cast<int64_t>(tiles.size()), t = config.tile;
  Tensor out = Tensor::empty(DType::F32, {n, 3, t, t});
  float *o = out.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t y = 0; y < t; ++y)
        for (int64_t x = 0; x < t; ++x) {
          // transformers' rescale: float64 product, stored as float32.
          float v = static_cast<float>(tiles[i].row(y)[x * 3 + c] * (1.0 / 255.0));
          *o++ = (v - config.mean[c]) / config.std[c];
        }
  return out;
}

namespace {
template <typename T>
void pack(const Tensor &features, const ImageTokenLayout &l, const Tensor &newline, Tensor &out) {
  int64_t side = l.side, E = features.dim(2);
  const T *f = features.data<T>(), *nl = newline.data<T>();
  T *o = out.data<T>();
  auto row = [&](int64_t tile, int64_t patch) { return f + (tile * side * side + patch) * E; };
  o = std::copy(f, f + side * side * E, o); // the thumbnail
  for (int64_t y = l.rowBegin; y < l.rowEnd; ++y) {
    for (int64_t x = l.colBegin; x < l.colEnd; ++x) {
      int64_t tile = 1 + (y / side) * l.gridCols + x / side;
      const T *src = row(tile, (y % side) * side + x % side);
      o = std::copy(src, src + E, o);
    }
    o = std::copy(nl, nl + E, o);
  }
}
} // namespace

Tensor packImageFeatures(const Tensor &features, const ImageTokenLayout &layout, const Tensor &newline) {
  if (features.dtype() == DType::I64)
    throw makeError("image features must be floating point");
  int64_t side = layout.side;
  if (features.rank() != 3 || features.dim(0) != layout.tiles() || features.dim(1) != side * side)
    throw makeError("image features are ", formatShape(features.shape()), "; the image's layout needs [",
                    layout.tiles(), ", ", side * side, ", hidden]");
  if (newline.rank() != 1 || newline.dim(0) != features.dim(2) || newline.dtype() != features.dtype())
    throw makeError("image_newline is ", formatShape(newline.shape()), "; expected [", features.dim(2),
                    "] of the features' dtype");
  Tensor out = Tensor::empty(features.dtype(), {layout.tokens(), features.dim(2)});
  if (features.dtype() == DType::F64)
    pack<double>(features, layout, newline, out);
  else
    pack<float>(features, layout, newline, out);
  return out;
}

std::vector<int64_t> expandImageTokens(const std::vector<int64_t> &ids, int64_t imageToken,
                                       const std::vector<ImageTokenLayout> &layouts) {
  int64_t placeholders = std::count(ids.begin(), ids.end(), imageToken), needed = 0;
  for (const ImageTokenLayout &l : layouts)
    needed += l.tokens();
  int64_t images = static_cast<int64_t>(layouts.size());
  if (placeholders == needed)
    return ids;
  if (placeholders != images)
    throw makeError("the prompt holds ", placeholders, " image token(s) (id ", imageToken, ") for ",
                    images, " image(s): give one per image, or ", needed,
                    " in all (each image's token count)");
  std::vector<int64_t> out;
  out.reserve(ids.size() + needed);
  size_t image = 0;
  for (int64_t id : ids) {
    if (id != imageToken) {
      out.push_back(id);
      continue;
    }
    out.insert(out.end(), layouts[image++].tokens(), imageToken);
  }
  return out;
}

} // namespace mm::image
