//===- LrSchedule.h - warm-up then cosine decay -----------------*- C++ -*-===//
//
// Megatron's and transformers' schedule: linear warm-up from 0 over
// `warmup` steps, then cosine decay from `peak` to `minimum` at `total`.
// Step numbers are 1-based (the step being taken).
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_LRSCHEDULE_H
#define MM_TRAINING_LRSCHEDULE_H

#include <cstdint>

namespace mm::train {

struct LrSchedule {
  double peak = 1e-3, minimum = 1e-4;
  int64_t warmup = 0, total = 1;

  double at(int64_t step) const;
};

} // namespace mm::train

#endif // MM_TRAINING_LRSCHEDULE_H
