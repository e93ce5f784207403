//===- Initializer.h - the initial weights of a model trained from scratch -*- C++ -*-===//
//
// transformers' MiniMax initialisation: every matrix (embeddings, linear and
// expert weights) from N(0, initializer_range^2), every norm gain 1. Drawn
// from a fixed generator (mt19937_64 and Box-Muller, not std::normal_
// distribution, whose algorithm the standard leaves open), so a seed gives
// the same weights on every machine.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_INITIALIZER_H
#define MM_TRAINING_INITIALIZER_H

#include "frontends/ModelConfig.h"
#include "runtime/Tensor.h"

#include <map>
#include <string>

namespace mm::train {

/// Weights by canonical name (minimax::parameterSpecs), float32.
std::map<std::string, Tensor> initialWeights(const MiniMaxConfig &config, uint64_t seed);

} // namespace mm::train

#endif // MM_TRAINING_INITIALIZER_H
