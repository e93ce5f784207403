//===- CudaLaunchPlan.h - the meaning of CudaLaunch.proto -------*- C++ -*-===//
//
// Validation (on load, before any backend sees the executable) and
// evaluation (per call) of the typed launch steps a CUDA kernel carries. No
// CUDA here: the backend turns evaluated steps into launches.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_EXECUTABLE_CUDALAUNCHPLAN_H
#define MM_RUNTIME_EXECUTABLE_CUDALAUNCHPLAN_H

#include "Executable.pb.h"
#include "runtime/Error.h"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mm {

/// Throws, naming the kernel's location, unless every expression, pointer
/// and step of `kernel`'s plan is well formed for executable `e` (its
/// symbols and scratch slots) and a launch of `operands` operands.
void validateCudaLaunchPlan(const exe::Kernel &kernel, const exe::Executable &e, uint32_t operands);

/// A launch size the plan cannot take at this call: overflow, a zero divisor,
/// a failed RequireCall, a grid axis too large. Bad input, not a driver fault.
class LaunchSizeError : public Error {
public:
  using Error::Error;
};

/// What the leaves of an expression read during one launch.
struct LaunchValues {
  std::function<int64_t(const std::string &)> symbol;
  std::function<int64_t(uint32_t operand)> numel;
  int64_t multiprocessors = 1;
  bool denseGemv = true;
  std::vector<int64_t> values;           // the plan's values evaluated so far
  const std::string *location = nullptr; // for errors
};

/// The value of `e`; overflow or division by zero throws, naming the location.
int64_t evaluate(const exe::IntExpr &e, const LaunchValues &v);

} // namespace mm

#endif // MM_RUNTIME_EXECUTABLE_CUDALAUNCHPLAN_H
