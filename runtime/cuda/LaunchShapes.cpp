//===- LaunchShapes.cpp ---------------------------------------------------===//
#include "runtime/cuda/LaunchShapes.h"
#include "runtime/Error.h"

#include <algorithm>

namespace mm::cuda {

const char *kernelErrorMessage(int code) {
  switch (code) {
  case mmk::kOk:
    return "no error";
  case mmk::kIndexOutOfRange:
    return "an index (token id or gather index) is outside its dimension";
  case mmk::kCacheOverflow:
    return "a KV-cache write overflows the cache capacity (or a position is negative)";
  case mmk::kExpertOutOfRange:
    return "a router expert index is outside [0, experts)";
  case mmk::kLengthOutOfRange:
    return "a sequence length is outside [0, tokens]";
  case mmk::kBadGroupOffsets:
    return "MoE group offsets do not run from 0 to the row count without decreasing";
  case mmk::kBadTokenOrder:
    return "MoE token order is not a permutation of the routed slots";
  case mmk::kSharedMemoryTooSmall:
    return "the kernel was launched with less dynamic shared memory than it needs";
  case mmk::kQueryStartOutOfRange:
    return "attention query_start is negative or places queries past the last key";
  case mmk::kPlaceholderCount:
    return "the image placeholder ids and the image feature rows differ in number";
  default:
    return "unknown kernel error code";
  }
}

namespace launch {
namespace {
unsigned gridDim(int64_t n) { return static_cast<unsigned>(std::clamp<int64_t>(n, 1, 0x7fffffff)); }
unsigned smallDim(int64_t n) {
  if (n > 65535) // grid y and z carry heads and batch, which the kernels do not stride over
    throw makeError("CUDA launch: grid dimension ", n, " exceeds 65535 (heads or batch too large)");
  return static_cast<unsigned>(std::max<int64_t>(n, 1));
}
LaunchShape shape(int64_t x, int64_t y, int64_t z, int block, unsigned shared = 0) {
  LaunchShape s;
  s.grid[0] = gridDim(x);
  s.grid[1] = smallDim(y);
  s.grid[2] = smallDim(z);
  s.block = static_cast<unsigned>(block);
  s.sharedBytes = shared;
  return s;
}
} // namespace

LaunchShape rows(int64_t rowCount, int threads) { return shape(rowCount, 1, 1, threads); }

LaunchShape elementwise(int64_t n) {
  return shape(mmk::elementwiseBlocks(n), 1, 1, mmk::kElementwiseThreads);
}

LaunchShape attentionPrefill(int64_t batch, int64_t tokens, int qHeads, int kvHeads, int headDim) {
  int group = qHeads / kvHeads, tile = mmk::attentionQueryTile(group);
  return shape(mmk::ceilDiv(tokens, tile), kvHeads, batch, mmk::kAttentionThreads,
               mmk::attentionSharedBytes(tile * group, headDim, mmk::kAttentionKeyTile));
}

int attentionDecodeSplits(int64_t batch, int kvHeads, int64_t capacity, int multiprocessors) {
  int64_t ctas = std::max<int64_t>(1, batch * kvHeads);
  int64_t wanted = mmk::ceilDiv(4LL * multiprocessors, ctas);
  int64_t maxUseful = std::max<int64_t>(1, mmk::ceilDiv(capacity, mmk::kAttentionKeyTile));
  return static_cast<int>(std::clamp<int64_t>(wanted, 1, std::min<int64_t>(maxUseful, 1024)));
}

LaunchShape attentionDecode(int64_t batch, int qHeads, int kvHeads, int headDim, int splits) {
  int group = qHeads / kvHeads;
  return shape(splits, kvHeads, batch, mmk::attentionDecodeThreads(group),
               mmk::attentionSharedBytes(group, headDim, mmk::kAttentionKeyTile));
}

LaunchShape attentionDecodeCombine(int64_t batch, int qHeads, int headDim) {
  return shape(qHeads, batch, 1, std::min(headDim, 1024));
}

LaunchShape lightningState(int64_t batch, int64_t tokens, int heads, int blockSize) {
  return shape(mmk::lightningNumBlocks(tokens, blockSize), heads, batch, mmk::kLightningThreads);
}

LaunchShape lightningScan(int64_t batch, int heads, int headDim) {
  return shape(mmk::ceilDiv(mmk::ceilDiv(headDim * headDim, 4), mmk::kLightningScanThreads), heads,
               batch, mmk::kLightningScanThreads);
}

LaunchShape lightningOutput(int64_t batch, int64_t tokens, int heads, int headDim, int blockSize) {
  int tiles = blockSize / mmk::lightningRowTile(blockSize);
  return shape(mmk::lightningNumBlocks(tokens, blockSize) * tiles, heads, batch,
               mmk::kLightningThreads, mmk::lightningOutputSharedBytes(headDim, blockSize));
}

LaunchShape lightningDecode(int64_t batch, int heads, int headDim) {
  return shape(headDim / mmk::lightningDecodeColTile(headDim), heads, batch,
               mmk::lightningDecodeThreads(headDim));
}

LaunchShape moeRouter(int64_t tokens) {
  return shape(mmk::ceilDiv(tokens, mmk::kRouterThreads / 32), 1, 1, mmk::kRouterThreads);
}

LaunchShape moeSort() { return shape(1, 1, 1, mmk::kMoeSortThreads); }

LaunchShape groupedGemm(int64_t rowCount, int outFeatures, int experts) {
  return shape(mmk::groupedGemmRowTiles(rowCount, experts),
               mmk::ceilDiv(outFeatures, mmk::groupedGemmColTile(outFeatures)), 1,
               mmk::kGroupedGemmThreads);
}

LaunchShape groupedSwiglu(int64_t rowCount, int outFeatures, int experts) {
  return shape(mmk::groupedGemmRowTiles(rowCount, experts),
               mmk::ceilDiv(outFeatures, mmk::groupedSwigluColTile(outFeatures)), 1,
               mmk::kGroupedGemmThreads);
}
LaunchShape groupedGemv(int outFeatures, int experts, int weightBytes) {
  const int columnsPerBlock = mmk::kGroupedGemvThreads / 32 * mmk::gemvColumnsPerWarp(weightBytes);
  return shape(mmk::ceilDiv(outFeatures, columnsPerBlock), experts, 1, mmk::kGroupedGemvThreads);
}
LaunchShape gemv(int outFeatures, int weightBytes) {
  return groupedGemv(outFeatures, 1, weightBytes);
}
} // namespace launch

} // namespace mm::cuda
