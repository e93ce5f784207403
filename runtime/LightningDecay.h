//===- LightningDecay.h - per-head decay of lightning attention -*- C++ -*-===//
//
// The decay rule of MiniMax lightning attention, shared by the compiler (op
// semantics), the reference executor and generated kernels. Header-only and free
// of MLIR so the runtime can use it.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_LIGHTNINGDECAY_H
#define MM_RUNTIME_LIGHTNINGDECAY_H

#include <cmath>
#include <cstdint>
#include <vector>

namespace mm {

/// ALiBi head slopes: 2^(-8 (h+1) / n) for a power-of-two n; otherwise the
/// slopes of the nearest lower power of two followed by every other slope of
/// twice that count (Press et al., as in the reference lightning code).
inline std::vector<double> alibiSlopes(int64_t heads) {
  auto powerOfTwo = [](int64_t n) {
    std::vector<double> s(n);
    double start = std::pow(2.0, -8.0 / static_cast<double>(n));
    for (int64_t i = 0; i < n; ++i)
      s[i] = std::pow(start, static_cast<double>(i + 1));
    return s;
  };
  if (heads <= 0)
    return {};
  int64_t closest = 1;
  while (closest * 2 <= heads)
    closest *= 2;
  std::vector<double> slopes = powerOfTwo(closest);
  if (closest == heads)
    return slopes;
  std::vector<double> extra = alibiSlopes(2 * closest);
  for (int64_t i = 0; i < heads - closest; ++i)
    slopes.push_back(extra[2 * i]);
  return slopes;
}

/// Decay exponent s_h of every head of layer `layerIndex` (0-based, softmax
/// layers counted) in a model of `numLayers` layers; lambda_h = exp(-s_h).
///   s_h = alibi_h * (1 - layerIndex / (numLayers - 1) + 1e-5)
/// With one layer the ratio is taken as 0.
inline std::vector<double> lightningDecaySlopes(int64_t heads, int64_t layerIndex,
                                                int64_t numLayers) {
  double ratio =
      numLayers > 1 ? static_cast<double>(layerIndex) / static_cast<double>(numLayers - 1) : 0.0;
  std::vector<double> slopes = alibiSlopes(heads);
  for (double &s : slopes)
    s *= 1.0 - ratio + 1e-5;
  return slopes;
}

/// The slopes of a rank's block of heads: entry h is the slope of global
/// head headIndex[h] among totalHeads. Returns the first index outside
/// [0, totalHeads) in `badIndex` (and an empty vector) instead.
inline std::vector<double> lightningDecaySlopesOfHeads(int64_t totalHeads, int64_t layerIndex,
                                                       int64_t numLayers, const int64_t *headIndex,
                                                       int64_t heads, int64_t *badIndex) {
  std::vector<double> all = lightningDecaySlopes(totalHeads, layerIndex, numLayers);
  std::vector<double> local(static_cast<size_t>(heads));
  for (int64_t h = 0; h < heads; ++h) {
    if (headIndex[h] < 0 || headIndex[h] >= totalHeads) {
      *badIndex = headIndex[h];
      return {};
    }
    local[h] = all[headIndex[h]];
  }
  return local;
}

} // namespace mm

#endif // MM_RUNTIME_LIGHTNINGDECAY_H
