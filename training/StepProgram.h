//===- StepProgram.h - the compiled training step of a MiniMax model -*- C++ -*-===//
//
// Builds the model's training loss (@loss, models/MiniMaxBuilder), derives
// @loss_grad (-mm-autodiff) and @loss_train_step (-mm-training-step: clipping
// and AdamW), and runs that one function per step: compiled for the host
// (generated C++, cached under the run directory by a hash of its IR and
// options) or on the reference executor, the oracle.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_STEPPROGRAM_H
#define MM_TRAINING_STEPPROGRAM_H

#include "frontends/ModelConfig.h"
#include "models/MiniMaxBuilder.h"
#include "passes/Passes.h"
#include "passes/Pipelines.h"
#include "training/TrainCheckpoint.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mm::train {

struct OptimizerOptions {
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8, weightDecay = 0.01, maxGradNorm = 1.0;
  /// Recompute each decoder layer in the backward instead of keeping its
  /// activations (-mm-autodiff recompute=layers).
  bool recompute = false;
};

/// -mm-training-step's options for `function` under these settings.
TrainingStepOptions trainingStepOptions(const OptimizerOptions &optimizer,
                                        const std::string &function);

enum class StepBackend { CPU, Reference, CUDA };

/// Rows [begin, begin + count) of the leading dim: a data-parallel rank's
/// share of a batch, or its rows of a weight's moments under ZeRO-1.
Tensor leadingRows(const Tensor &whole, int64_t begin, int64_t count);
/// Columns [begin, begin + count) of a [rows, cols] tensor (a context-
/// parallel rank's chunk of each sequence).
Tensor columns(const Tensor &whole, int64_t begin, int64_t count);

class StepProgram {
public:
  /// Compiles for batches of exactly [batch, seqLen]; `cacheDir` (may be
  /// empty) keeps the compiled executable between runs. Throws mm::Error.
  /// `policy` set: the RL objective (MiniMaxBuilder.h) instead of the
  /// next-token loss. `dataParallel` > 1: `batch` is this rank's slice, and
  /// the step averages the gradients and the loss over that many ranks
  /// (-mm-training-step dp-grid, run through dist::world()); with `zero1`
  /// each rank keeps and updates only its rows of the AdamW moments.
  /// `model` with tp > 1: the step is partitioned as inference is
  /// (-mm-model-parallel on the weights' tags, then -mm-partition-pipeline:
  /// the compiler places the collectives of the forward, the backward and
  /// the update), and each rank holds only its parts of the split weights
  /// and of their moments (keepOwnState). Both: dataParallel replicas of
  /// the tp group (world = dp x tp, a tp group consecutive ranks); `batch`
  /// is the group's slice, the gradients are averaged over the replicas of
  /// each part, and ZeRO-1 takes the dp rows of a rank's part of a weight
  /// not split along its dim 0 (-mm-training-step split-tags).
  /// `weighReplicas` (with dataParallel > 1): each replica's weight in the
  /// average is setReplicaWeight's, not 1 / dataParallel
  /// (-mm-training-step dp-weight), for losses whose term count differs
  /// between replicas.
  StepProgram(const MiniMaxConfig &config, const OptimizerOptions &optimizer,
              StepBackend backend, int64_t batch, int64_t seqLen, const std::string &cacheDir,
              std::ostream &log, const std::string &emitIR = "",
              const std::optional<MiniMaxGraphOptions::PolicyObjective> &policy = std::nullopt,
              int64_t dataParallel = 1, bool zero1 = false, ModelParallelism model = {},
              bool weighReplicas = false);
  ~StepProgram();

  struct Result {
    double loss, gradNorm;
    /// @loss's other results (the RL objective's per-token log-probs), from
    /// the forward pass before the update.
    std::vector<Tensor> aux;
  };
  /// One step of the next-token loss (positions 0..T-1).
  Result run(const Tensor &ids, const Tensor &labels, TrainingState &state, double lr,
             int64_t step);
  /// One step on @loss's own arguments, in order. Updates `state`'s weights
  /// and moments in place (only when the loss and gradient norm are finite;
  /// otherwise `state` is untouched).
  Result run(std::vector<Tensor> inputs, TrainingState &state, double lr, int64_t step);

  /// This replica's weight in the data-parallel average of the next steps:
  /// its loss terms over all replicas' (with weighReplicas).
  void setReplicaWeight(double weight);

  /// The trained weights' names, in the step's argument order.
  const std::vector<std::string> &weightNames() const;

  /// Bytes of working memory the compiled step plans (0 on the reference).
  uint64_t arenaBytes() const;

  /// Replaces a whole state (fresh or loaded) by what this rank keeps: under
  /// ZeRO-1 its rows of the split moments, under model parallelism its parts
  /// of the split weights and their moments. A no-op otherwise.
  void keepOwnState(TrainingState &state) const;
  /// The whole state, gathered from every rank (a collective: all ranks
  /// call it), as a checkpoint and the exported model hold it.
  TrainingState wholeState(const TrainingState &state) const;
  /// The whole of one map of the state (weights, or a moment: each is cut
  /// as its weight is), its parts gathered (a collective too); wholeState
  /// without moving the other maps.
  TensorMap wholeWeights(const TensorMap &weights) const;
  /// Whether this rank's state is a part (wholeState differs from it).
  bool splitsState() const;
  /// Bytes of AdamW moments / of weights this rank holds.
  uint64_t optimizerStateBytes(const TrainingState &state) const;
  static uint64_t weightBytes(const TrainingState &state);

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mm::train

#endif // MM_TRAINING_STEPPROGRAM_H
