//===- TrainingLayout.h - `--parallel` for a training run -------*- C++ -*-===//
//
// The layout a training command runs under mpirun: dp replicas of a
// tensor-parallel group of tp ranks (world = dp x tp), the experts over ep
// of a group's ranks and their FFN width over etp, as inference splits the
// model. cp, and ep across replicas (without tp), are refused until their
// partitioned training graphs exist. Also what every rank keeps of the
// training state under it, and says so.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_TRAININGLAYOUT_H
#define MM_TRAINING_TRAININGLAYOUT_H

#include "frontends/ModelConfig.h"
#include "passes/Pipelines.h"
#include "training/StepProgram.h"

#include <iosfwd>
#include <string>

namespace mm::train {

struct TrainingLayout {
  int64_t dp = 1;
  ModelParallelism model;
  bool splitsModel() const { return model.tp > 1; }
};

/// `parallel` (the --parallel text; empty: dp over every rank) on this
/// world for a model of `config` (read from `configPath`) and steps of
/// `batchSize` sequences (0: a count that varies, split unevenly; rl) of
/// `seqLen` tokens (0: the command does not split sequences, and cp is
/// refused). Throws mm::Error naming the reason for a layout that is
/// refused or does not divide.
TrainingLayout trainingLayout(const std::string &parallel, int64_t batchSize,
                              const MiniMaxConfig &config, const std::string &configPath,
                              int64_t seqLen = 0);

/// The row length of right-padded sequences of `length` tokens under `cp`
/// context-parallel chunks: rounded up to a multiple of cp. More padding
/// (ids end of sequence, labels ignored) changes no answer, since every
/// mixer is causal and the loss skips ignored labels, unless the config's
/// load-balancing loss counts every token (output_router_logits), which is
/// refused naming `configPath`.
int64_t contextParallelLength(int64_t length, int64_t cp, const MiniMaxConfig &config,
                              const std::string &configPath);

/// This rank's data-parallel replica among `dp` (a tp group is consecutive
/// ranks: the grid's leading axis is dp).
int64_t replicaOf(int64_t dp);

/// A step's whole batch (every rank draws it) cut to this rank's replica's
/// rows, in place. Nothing to cut for dp = 1.
void keepReplicaRows(const TrainingLayout &layout, Tensor &ids, Tensor &labels);

/// One line per split on `log`: the replicas and their sequences of a
/// `batchSize` step, the model's split.
void describeLayout(const TrainingLayout &layout, int64_t batchSize, std::ostream &log);

/// Replaces `state` by what this rank keeps under `program`'s layout and
/// says so: the moments per rank on `log` (rank 0's), and under model
/// parallelism each rank's weight and moment bytes on `rankLog`.
void keepOwnStateAndReport(const StepProgram &program, TrainingState &state,
                           const TrainingLayout &layout, bool zero1, std::ostream &log,
                           std::ostream &rankLog);

} // namespace mm::train

#endif // MM_TRAINING_TRAININGLAYOUT_H
