//===- LrSchedule.cpp -----------------------------------------------------===//
#include "training/LrSchedule.h"

#include <algorithm>
#include <cmath>

namespace mm::train {

double LrSchedule::at(int64_t step) const {
  if (warmup > 0 && step <= warmup)
    return peak * static_cast<double>(step) / static_cast<double>(warmup);
  if (total <= warmup)
    return peak;
  double progress = std::clamp(static_cast<double>(step - warmup) / static_cast<double>(total - warmup),
                               0.0, 1.0);
  return minimum + 0.5 * (peak - minimum) * (1.0 + std::cos(M_PI * progress));
}

} // namespace mm::train
