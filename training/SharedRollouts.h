//===- SharedRollouts.h - an RL step's rollouts spread over the ranks -*- C++ -*-===//
//
// `mm-train rl` under mpirun samples on every rank at once: each rank takes
// a contiguous share of the step's prompts (a prompt's whole group, so its
// advantage needs no other rank), samples them with the streams the
// sequences have in one process (the sampler's stream is fixed by the seed
// and the sequence's index in the step: GenerationOptions::firstSequence),
// and the shares are gathered in rank order, so every rank holds
// the one-process batch. Also the variable-length gathers the step's
// metrics need.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_SHAREDROLLOUTS_H
#define MM_TRAINING_SHAREDROLLOUTS_H

#include "runtime/engine/Engine.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm::train {

/// Items [begin, end) of `count` for part `index` of `parts`: contiguous,
/// sizes differing by at most one, in order.
struct Share {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
};
Share shareOf(int64_t count, int64_t parts, int64_t index);

/// Every world rank's `mine`, concatenated in rank order (a collective over
/// the world; `what` names it in timeout messages).
std::vector<double> gatherAll(const std::vector<double> &mine, const std::string &what);

/// `values` summed element-wise over every world rank, in place.
void sumOverWorld(std::vector<double> &values, const std::string &what);

/// The same for generations: tokens, log-probs and truncation of each
/// rank's sequences, in rank order; token counts summed, times the slowest
/// rank's.
GenerationResult gatherGenerations(const GenerationResult &mine, const std::string &what);

} // namespace mm::train

#endif // MM_TRAINING_SHAREDROLLOUTS_H
