//===- Reference.h - reference kernels of every mm op -----------*- C++ -*-===//
//
// Plain, obviously-correct C++ for the semantics of each mm op (see
// docs/generated/MMDialect.md). Float tensors are F32 or F64 and a kernel
// computes in its inputs' type; integer tensors are I64. These are the oracle
// that every compiled path is tested against: loops are written to be read,
// with only the cheapest speedups (independent accumulators, row-parallel
// loops). Bad runtime values (an id out of range, a full cache) throw
// mm::Error naming the op.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_KERNELS_REFERENCE_H
#define MM_RUNTIME_KERNELS_REFERENCE_H

#include "runtime/Tensor.h"

#include <optional>
#include <vector>

namespace mm::ref {

//===--- elementwise ------------------------------------------------------===//
enum class UnaryKind { Silu, Sigmoid, Relu, Tanh, Exp, Log, Sqrt, Rsqrt, Neg, Gelu, GeluTanh };
enum class BinaryKind { Add, Sub, Mul, Div, Max, Min };

Tensor unary(UnaryKind kind, const Tensor &x);
/// NumPy broadcasting; both operands float (same type) or both I64.
Tensor binary(BinaryKind kind, const Tensor &a, const Tensor &b);
Shape broadcastShape(const Shape &a, const Shape &b);
Tensor swiglu(const Tensor &gate, const Tensor &up);
/// mm.cast to a narrower float type: every value rounded to the nearest value
/// of that format (ties to even; beyond its largest finite value, infinity),
/// kept in x's dtype.
enum class NarrowFloat { BF16, F16 };
Tensor roundToFormat(const Tensor &x, NarrowFloat format);

//===--- norms, linear algebra --------------------------------------------===//
Tensor rmsNorm(const Tensor &x, const Tensor &weight, double eps);
Tensor layerNorm(const Tensor &x, const Tensor &weight, const Tensor &bias, double eps);
/// y = x W^T (+ b); W is [out, in].
Tensor linear(const Tensor &x, const Tensor &weight, const Tensor *bias);
Tensor matmul(const Tensor &a, const Tensor &b, bool transposeA, bool transposeB);
/// With `part`, the table holds rows [part->first, part->first + rows) of a
/// part->second-row vocabulary: other ids give zero rows (vocab parallel).
Tensor embedding(const Tensor &table, const Tensor &ids,
                 std::optional<std::pair<int64_t, int64_t>> part = std::nullopt);

//===--- attention --------------------------------------------------------===//
Tensor rope(const Tensor &x, const Tensor &positions, int64_t rotaryDim, double theta);

struct AttentionResult {
  Tensor output;
  std::optional<Tensor> keyCache, valueCache;
};
/// Grouped-query attention; with caches, writes k/v at cachePositions and
/// attends against the cache (see mm.attention). Caches are updated in place
/// when the caller hands over the only reference. Without them, a
/// `queryStart` ([1], causal) places query 0 at that key position, and a
/// `keyMask` ([B, Tk], float) hides the keys where it is zero.
AttentionResult attention(const Tensor &q, const Tensor &k, const Tensor &v, bool causal,
                          double scale, std::optional<Tensor> keyCache,
                          std::optional<Tensor> valueCache, const Tensor *cachePositions,
                          const Tensor *queryStart = nullptr, const Tensor *keyMask = nullptr);

/// Whether key j of sequence b takes part: keyMask[b, j] != 0, or always
/// without a mask (checked to be [B, Tk] by the constructor).
class KeyVisibility {
public:
  KeyVisibility(const char *op, const Tensor *keyMask, int64_t batch, int64_t keys);
  bool operator()(int64_t b, int64_t j) const { return mask.empty() || mask[b * keys + j]; }

private:
  std::vector<bool> mask;
  int64_t keys;
};

/// The position of query 0 among `keys` keys for `queries` causal queries:
/// `queryStart`'s value (checked to fit), or 0 without one.
int64_t causalQueryStart(const char *op, const Tensor *queryStart, int64_t queries, int64_t keys);

enum class LightningMode { Blockwise, Recurrence };
struct LightningResult {
  Tensor output, finalState;
};
/// MiniMax lightning attention with per-head decay exp(-slopes[h]); the state
/// is F32 or F64 like the inputs. `lengths` limits each sequence (outputs past
/// it are zero). Blockwise uses `blockSize`; Recurrence is the token-by-token
/// definition.
LightningResult lightningAttention(const Tensor &q, const Tensor &k, const Tensor &v,
                                   const Tensor *initialState, const Tensor *lengths,
                                   const std::vector<double> &slopes, int64_t blockSize,
                                   LightningMode mode);

//===--- mixture of experts -----------------------------------------------===//
struct RouterResult {
  Tensor weights, indices;
};
RouterResult moeRouter(const Tensor &logits, int64_t topK, bool renormalize);
struct DispatchResult {
  Tensor dispatched, groupOffsets, tokenOrder;
};
DispatchResult moeDispatch(const Tensor &x, const Tensor &indices, int64_t numExperts);
Tensor groupedMatmul(const Tensor &x, const Tensor &weight, const Tensor &groupOffsets);
Tensor moeCombine(const Tensor &expertOutput, const Tensor &tokenOrder, const Tensor &weights);

//===--- reductions -------------------------------------------------------===//
Tensor softmax(const Tensor &x, int64_t dim, bool log);
enum class ReduceKind { Sum, Mean, Max, Min, Prod };
Tensor reduce(ReduceKind kind, const Tensor &x, const std::vector<int64_t> &dims, bool keepDims);
std::pair<Tensor, Tensor> topK(const Tensor &x, int64_t k);
Tensor argmax(const Tensor &x, int64_t dim, bool keepDims);

//===--- data movement ----------------------------------------------------===//
/// mm.reshape's spec: sizes, 0 = copy the input dim, -1 = infer.
Tensor reshape(const Tensor &x, const std::vector<int64_t> &spec);
Tensor transpose(const Tensor &x, const std::vector<int64_t> &permutation);
Tensor concat(const std::vector<Tensor> &inputs, int64_t dim);
Tensor slice(const Tensor &x, int64_t dim, int64_t start, std::optional<int64_t> end, int64_t step);
Tensor gather(const Tensor &x, const Tensor &indices, int64_t dim, int64_t batchDims);
Tensor scatterAdd(const Tensor &dest, const Tensor &indices, const Tensor &updates, int64_t dim,
                  int64_t batchDims = 0);

//===--- losses -----------------------------------------------------------===//
enum class LossReduction { None, Sum, Mean };
Tensor crossEntropy(const Tensor &logits, const Tensor &labels, int64_t ignoreIndex,
                    LossReduction reduction);
enum class PolicyLossKind { CISPO, PPOClip };
struct PolicyLossParams {
  PolicyLossKind kind = PolicyLossKind::CISPO;
  double epsLow = 0.2, epsHigh = 0.2, logRatioClamp = 20;
  double ratioCap = 0, dualClip = 0; // 0: not set
  bool perSequence = false;          // normalisation: per sequence, else per token
};
/// `normalizer` (0-d, may be null) replaces the local token / row count.
Tensor policyLoss(const PolicyLossParams &params, const Tensor &logprobs,
                  const Tensor &oldLogprobs, const Tensor &advantages, const Tensor &mask,
                  const Tensor *normalizer);
Tensor sigmoidBce(const Tensor &logits, const Tensor &labels, LossReduction reduction);

//===--- vision and recommender ops ---------------------------------------===//
Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor *bias,
              const std::vector<int64_t> &strides, const std::vector<int64_t> &padding,
              const std::vector<int64_t> &dilation);
Tensor mergeImageFeatures(const Tensor &embeddings, const Tensor &ids, const Tensor &features,
                          int64_t imageTokenId);
/// The rows of `grad` at the image placeholders, shaped like `features`.
Tensor mergeImageFeaturesGrad(const Tensor &grad, const Tensor &ids, const Tensor &features,
                              int64_t imageTokenId);
Tensor conv1d(const Tensor &x, const Tensor &w, const Tensor *bias, int64_t stride,
              int64_t dilation, int64_t padBefore, int64_t padAfter);
std::pair<Tensor, Tensor> gru(const Tensor &x, const Tensor &wih, const Tensor &whh,
                              const Tensor &bih, const Tensor &bhh, const Tensor *h0);
enum class PoolKind { Sum, Mean, Max };
Tensor pool(PoolKind kind, const Tensor &x, const Tensor *mask, int64_t dim);
Tensor targetAttention(const Tensor &seq, const Tensor &target, const Tensor *mask,
                       std::optional<double> scale);
Tensor hadamardInteraction(const Tensor &fields, const std::vector<std::vector<int64_t>> &groups);

//===--- backward ops (ir/ops/GradientOps.td) ----------------------------===//
struct AttentionGradResult {
  Tensor query, key, value;
};
/// mm.attention_grad: recomputes each query row's probabilities.
AttentionGradResult attentionBackward(const Tensor &q, const Tensor &k, const Tensor &v,
                                      const Tensor &o, const Tensor &dOut, bool causal,
                                      double scale, const Tensor *queryStart = nullptr,
                                      const Tensor *keyMask = nullptr);
struct LightningGradResult {
  Tensor query, key, value, initialState;
};
/// mm.lightning_attention_grad: states at block starts recomputed forwards,
/// then blocks backwards carrying the state gradient.
LightningGradResult lightningAttentionBackward(const Tensor &q, const Tensor &k, const Tensor &v,
                                               const Tensor &dOut, const Tensor &dFinalState,
                                               const Tensor *initialState, const Tensor *lengths,
                                               const std::vector<double> &slopes,
                                               int64_t blockSize);
Tensor groupedMatmulWeightGrad(const Tensor &gradOutput, const Tensor &input,
                               const Tensor &groupOffsets);
Tensor crossEntropyBackward(const Tensor &logits, const Tensor &labels, const Tensor &gradLoss,
                            int64_t ignoreIndex, LossReduction reduction);
/// mm.conv2d_grad / mm.conv1d_grad: {input gradient, weight gradient}.
std::pair<Tensor, Tensor> conv2dBackward(const Tensor &x, const Tensor &w, const Tensor &g,
                                         const std::vector<int64_t> &strides,
                                         const std::vector<int64_t> &padding,
                                         const std::vector<int64_t> &dilation);
/// mm.gru_grad: d input, d w_ih, d w_hh, d b_ih, d b_hh, d h0 by backpropagation
/// through time, gates recomputed from the forward states.
std::vector<Tensor> gruBackward(const Tensor &x, const Tensor &wih, const Tensor &whh,
                                const Tensor &bih, const Tensor &bhh, const Tensor &h0,
                                const Tensor &sequence, const Tensor &gradSequence,
                                const Tensor &gradLast);
std::pair<Tensor, Tensor> conv1dBackward(const Tensor &x, const Tensor &w, const Tensor &g,
                                         int64_t stride, int64_t dilation, int64_t padBefore);

} // namespace mm::ref

#endif // MM_RUNTIME_KERNELS_REFERENCE_H
