//===- TrainCheckpoint.h - resumable training checkpoints -------*- C++ -*-===//
//
// DIR/checkpoints/step-NNNNNNNN/ holds weights.safetensors, optimizer.
// safetensors (AdamW moments) and state.json (steps done, tokens seen, data
// position, seed, and a CRC-32 of every tensor). It is written under a
// temporary name, every file fsync'ed, then renamed whole: a killed run
// leaves complete checkpoints only. Loading verifies every checksum and
// shape, so a damaged checkpoint is refused with the file and tensor named,
// and resuming falls back to the newest good one.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_TRAINCHECKPOINT_H
#define MM_TRAINING_TRAINCHECKPOINT_H

#include "runtime/Tensor.h"
#include "runtime/WeightBinder.h"
#include "training/TextData.h"

#include <iosfwd>
#include <map>
#include <optional>
#include <string>

namespace mm::train {

using TensorMap = std::map<std::string, Tensor>;

struct TrainingState {
  int64_t step = 0; // steps completed
  int64_t tokensSeen = 0;
  DataPosition data;
  TensorMap weights, firstMoments, secondMoments;
};

/// A binder that hands executors the tensors of `weights` by name (they copy
/// them when binding; `weights` must outlive the call that binds); a missing
/// one is an error naming `owner`.
WeightBinder binderOf(const TensorMap &weights, const std::string &owner);

/// Step 0 of a run from `weights`: zero AdamW moments of the same shapes.
TrainingState startingState(TensorMap weights);

/// Writes checkpoint `state.step` under `checkpointsDir`, then removes all but
/// the newest `keep` checkpoints. Returns its directory.
std::string saveCheckpoint(const std::string &checkpointsDir, const TrainingState &state,
                           uint64_t seed, int keep = 2);

/// Loads and verifies one checkpoint directory against the expected tensor
/// shapes (`like`); throws mm::Error naming the file and tensor on damage.
TrainingState loadCheckpoint(const std::string &dir, const TensorMap &like, uint64_t seed);

/// The newest checkpoint that verifies, reporting each damaged one it skips
/// on `log`; nullopt when there is none at all. Throws when checkpoints exist
/// but every one is damaged.
std::optional<std::pair<std::string, TrainingState>>
loadNewestCheckpoint(const std::string &checkpointsDir, const TensorMap &like, uint64_t seed,
                     std::ostream &log);

} // namespace mm::train

#endif // MM_TRAINING_TRAINCHECKPOINT_H
