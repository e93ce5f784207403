//===- Random.h - a portable random stream for AMER's sampling -*- C++ -*-===//
//
// splitmix64: the same numbers on every platform and standard library (the
// std distributions' and std::shuffle's algorithms are the library's), so a
// search is reproducible from its seed.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_AMER_RANDOM_H
#define MM_TRAINING_AMER_RANDOM_H

#include <cstdint>

namespace mm::amer {

struct SplitMix {
  uint64_t state;
  explicit SplitMix(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, n) (the modulo bias is below 2^-40 for the n used here).
  uint64_t below(uint64_t n) { return next() % n; }
  /// Uniform in [0, 1).
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }
};

} // namespace mm::amer

#endif // MM_TRAINING_AMER_RANDOM_H
