//===- MiniMaxAbi.h - the state arguments of @forward -----------*- C++ -*-===//
//
// After (ids, positions, cache_positions, lengths), @forward takes and returns
// the model's state: a key and a value cache per softmax layer, then a
// lightning state per lightning layer, each in layer order
// (models/MiniMaxBuilder.h builds exactly this).
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_ENGINE_MINIMAXABI_H
#define MM_RUNTIME_ENGINE_MINIMAXABI_H

#include "frontends/ModelConfig.h"
#include "runtime/Error.h"
#include "runtime/Tensor.h"

#include <vector>

namespace mm {

/// How many times @forward repeats each KV head for `tp` tensor-parallel
/// ranks: 1 while tp divides the KV heads, tp / numKvHeads past them, so that
/// each rank holds one (vLLM's replication; the answer is unchanged).
inline int64_t minimaxKvHeadReplicas(const MiniMaxConfig &c, int64_t tp) {
  if (tp <= c.numKvHeads || c.numKvHeads < 1)
    return 1;
  if (tp % c.numKvHeads != 0)
    throw makeError(c.source, ": field 'num_key_value_heads' = ", c.numKvHeads, ": tp = ", tp,
                    " exceeds it and is not a multiple of it, so the KV heads cannot be "
                    "replicated evenly");
  return tp / c.numKvHeads;
}

/// Shapes of the state tensors for `batch` sequences of `capacity` tokens;
/// under tensor parallelism over `tp` ranks, of one rank's heads.
inline std::vector<Shape> minimaxStateShapes(const MiniMaxConfig &c, int64_t batch,
                                             int64_t capacity, int64_t tp = 1) {
  std::vector<Shape> shapes;
  const int64_t kvHeads = c.numKvHeads * minimaxKvHeadReplicas(c, tp) / tp;
  for (LayerKind k : c.layerKinds)
    if (k == LayerKind::Softmax) {
      shapes.push_back({batch, capacity, kvHeads, c.headDim});
      shapes.push_back({batch, capacity, kvHeads, c.headDim});
    }
  for (LayerKind k : c.layerKinds)
    if (k == LayerKind::Lightning)
      shapes.push_back({batch, c.numHeads / tp, c.headDim, c.headDim});
  return shapes;
}

/// Number of inputs before the state in @forward's signature.
constexpr size_t kMiniMaxStepInputs = 4;

} // namespace mm

#endif // MM_RUNTIME_ENGINE_MINIMAXABI_H
