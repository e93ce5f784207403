//===- MiniMaxWeights.h - parameter names, shapes and loading ---*- C++ -*-===//
//
// The model builder names every weight with `parameterSpecs`; the loader binds
// the same names to checkpoint tensors, so the two cannot drift. Names follow
// the published checkpoints; the stacked expert weights are the only names
// that no file holds directly:
//   model.layers.{i}.block_sparse_moe.experts.w1 / w3   [experts, inter, hidden]
//   model.layers.{i}.block_sparse_moe.experts.w2        [experts, hidden, inter]
// They are assembled from either layout that exists:
//   * per expert:  ...block_sparse_moe.experts.{e}.w1.weight (official, HF 4.x)
//   * packed:      ...mlp.experts.gate_up_proj [E, 2 inter, hidden] (gate rows
//                  first) and ...mlp.experts.down_proj (transformers 5)
// with the router at ...block_sparse_moe.gate.weight or ...mlp.gate.weight.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_MINIMAXWEIGHTS_H
#define MM_FRONTENDS_MINIMAXWEIGHTS_H

#include "frontends/Checkpoint.h"
#include "frontends/ModelConfig.h"
#include "runtime/Tensor.h"
#include "runtime/WeightBinder.h"

#include <optional>
#include <string>
#include <vector>

namespace mm::minimax {

std::string embedTokens();
std::string finalNorm();
std::string lmHead();
std::string inputNorm(int64_t layer);
std::string postAttentionNorm(int64_t layer);
// softmax-attention layers
std::string qProj(int64_t layer);
std::string kProj(int64_t layer);
std::string vProj(int64_t layer);
std::string oProj(int64_t layer);
// lightning-attention layers
std::string qkvProj(int64_t layer);
std::string outputGate(int64_t layer);
std::string outProj(int64_t layer);
std::string lightningNorm(int64_t layer);
// MoE
std::string router(int64_t layer);
std::string expertsW1(int64_t layer);
std::string expertsW3(int64_t layer);
std::string expertsW2(int64_t layer);

struct ParamSpec {
  std::string name;
  Shape shape;
};
/// Every weight of the model and its shape, in a stable order.
std::vector<ParamSpec> parameterSpecs(const MiniMaxConfig &config);

/// Binds canonical weight names to a checkpoint.
class WeightLoader {
public:
  WeightLoader(const MiniMaxConfig &config, const Checkpoint &checkpoint);
  /// The weight as an F32 / F64 tensor of its spec shape; throws mm::Error
  /// naming the tensor and the folder when it is missing or misshapen.
  Tensor load(const std::string &name, DType dtype) const;
  /// The box `block` of the weight, reading only its bytes from the
  /// checkpoint (a rank's block of a split weight); nullopt for a block of
  /// the packed gate_up_proj layout, which the caller cuts from `load`.
  std::optional<Tensor> loadBlock(const std::string &name, DType dtype,
                                  const WeightBlock &block) const;
  /// `load` (and `loadBlock`) as the binder the executors take (the loader
  /// must outlive it).
  WeightBinder binder() const {
    return WeightBinder(
        [this](const std::string &name, const Shape &, DType dtype) { return load(name, dtype); },
        [this](const std::string &name, const Shape &, DType dtype, const WeightBlock &block) {
          return loadBlock(name, dtype, block);
        });
  }
  /// Checks that every weight exists with the right shape (no conversion).
  void validate() const;
  /// The checkpoint tensors `load(name)` reads, in order (the executable's
  /// weight manifest records them): one name, or one per expert, or a packed
  /// expert tensor.
  std::vector<std::string> sources(const std::string &name) const;

private:
  const StTensor &tensor(const std::string &name, const Shape &shape) const;
  Tensor loadExperts(int64_t layer, int which, DType dtype) const;
  const ParamSpec &spec(const std::string &name) const;

  const MiniMaxConfig &config_;
  const Checkpoint &checkpoint_;
  std::vector<ParamSpec> specs_;
};

} // namespace mm::minimax

#endif // MM_FRONTENDS_MINIMAXWEIGHTS_H
