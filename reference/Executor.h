//===- Executor.h - the reference executor of mm IR -------------*- C++ -*-===//
//
// Runs an mm function op by op with the reference kernels, in float32 or (on
// request) float64 for every float tensor regardless of the IR element type.
// It is the oracle of the project: every compiled path is compared to it. It
// checks each result against the static dims of its IR type, so a dynamic-shape
// violation is an error naming the op and its location, never a wrong answer.
//
//===----------------------------------------------------------------------===//
#ifndef MM_REFERENCE_EXECUTOR_H
#define MM_REFERENCE_EXECUTOR_H

#include "reference/kernels/Reference.h"
#include "runtime/Tensor.h"
#include "runtime/WeightBinder.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace mm {

struct ExecutorOptions {
  DType precision = DType::F32;
  /// How lightning attention runs: block-wise (default) or as the token
  /// recurrence (for cross-checking).
  ref::LightningMode lightning = ref::LightningMode::Blockwise;
};

/// Supplies the weight named by an mm.param, of the given shape and type.
using ParamBinder = WeightBinder;

class ReferenceExecutor {
public:
  ReferenceExecutor(mlir::func::FuncOp function, ParamBinder binder, ExecutorOptions options = {});
  ~ReferenceExecutor();
  ReferenceExecutor(ReferenceExecutor &&) noexcept;

  /// Runs the function; float inputs are converted to the precision. Throws
  /// mm::Error naming the op on bad values (ids out of range, full caches...).
  std::vector<Tensor> run(std::vector<Tensor> inputs);

  /// Binds every weight now instead of on first use (so timings of the first
  /// run do not include checkpoint conversion).
  void bindAllParams();

  const ExecutorOptions &options() const;

  /// Bytes of the weights bound so far (a rank's parts in a partitioned program).
  uint64_t boundWeightBytes() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mm

#endif // MM_REFERENCE_EXECUTOR_H
