//===- Planted.h - synthetic recommender data with a known answer -*- C++ -*-===//
//
// RecBole atomic files (NAME.inter, NAME.user, NAME.item) generated with two
// planted structures a search must find:
//   * an interaction: the click logit carries <u(age_band), v(page)> / 2,
//     random rank-4 normal factors per value (24 values each): no main
//     effect of either field alone, exactly what a Hadamard product of the
//     two embeddings followed by a linear layer computes, and a bilinear
//     form an MLP over the raw embeddings has to learn;
//   * a sequence pattern: a row's target is the user's most recent item
//     again (probability `repeat`), another item of the last `window`
//     (`older`), or a random one; the click logit carries +1 for the first
//     and -1 otherwise. Target attention finds the target in the history
//     either way; telling whether it is the most recent needs an operation
//     that sees the order: a convolution wider than one sees the padding
//     after the last position, the GRU's last state is the sequence's end.
//     Self-attention (no positions), the pointwise conv1 and zero are
//     order-blind (docs/amer.md, planted data).
// Labels: Bernoulli(sigmoid(strength * (interactionWeight * interaction +
// sequence))).
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_AMER_PLANTED_H
#define MM_TRAINING_AMER_PLANTED_H

#include <cstdint>
#include <string>

namespace mm::amer {

struct PlantedOptions {
  int64_t users = 400, items = 60, perUser = 30, categories = 6, window = 8;
  double strength = 2.5, interactionWeight = 1.0, repeat = 0.3, older = 0.3;
  uint64_t seed = 0;
};

/// Writes DIR/NAME.{inter,user,item} (NAME = the folder's name) and
/// DIR/planted.json (the planted interaction's fields and the sequence
/// pattern's operation family).
void writePlantedData(const std::string &dir, const PlantedOptions &options);

} // namespace mm::amer

#endif // MM_TRAINING_AMER_PLANTED_H
