//===- FlagChecks.h - the command-line checks mm-train's loops share -*- C++ -*-===//
#ifndef MM_TRAINING_FLAGCHECKS_H
#define MM_TRAINING_FLAGCHECKS_H

#include "runtime/Error.h"

#include <cmath>
#include <cstdint>

namespace mm::train {

/// Throws "FLAG must be positive, got V" unless v > 0.
inline void requirePositive(int64_t v, const char *flag) {
  if (v <= 0)
    throw makeError(flag, " must be positive, got ", v);
}

/// The same for a rate: finite and > 0 (a NaN is refused too).
inline void requirePositiveRate(double v, const char *flag) {
  if (!(v > 0) || !std::isfinite(v))
    throw makeError(flag, " must be a positive number, got ", v);
}

} // namespace mm::train

#endif // MM_TRAINING_FLAGCHECKS_H
