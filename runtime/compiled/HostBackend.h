//===- HostBackend.h - running a compiled CPU executable --------*- C++ -*-===//
//
// Loads the generated kernels (a shared object inside the executable) with
// dlopen, binds the weights in their storage types, allocates the arena once
// for the maximum sizes the executable was planned for, and runs the launch
// schedule: once per `call` of any compiled function, or once per engine step
// of a MiniMax @forward. No MLIR: this is what AOT binaries link.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_COMPILED_HOSTBACKEND_H
#define MM_RUNTIME_COMPILED_HOSTBACKEND_H

#include "runtime/WeightBinder.h"
#include "runtime/compiled/Int8WeightFile.h"
#include "runtime/engine/ForwardBackend.h"
#include "runtime/executable/ExecutableFile.h"

#include <memory>
#include <vector>

namespace mm {

class HostBackend : public ForwardBackend {
public:
  /// `int8Weights`: int8 weights quantized ahead of time
  /// (runtime/compiled/Int8WeightFile.h), copied instead of read through
  /// `weights` and quantized.
  HostBackend(exe::Executable executable, const WeightBinder &weights,
              const Int8WeightViews *int8Weights = nullptr);
  ~HostBackend() override;

  /// Runs the compiled function: one tensor per argument (float ones are
  /// taken as float32), one per result in the IR's order. Arguments that the
  /// function updates in place (state) are updated and returned as their
  /// results. Throws naming the argument or the failing kernel's location.
  std::vector<Tensor> call(std::vector<Tensor> args);

  // ForwardBackend: the engine's steps of a MiniMax @forward.
  void reset(int64_t batch, int64_t capacity) override;
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override;
  bool allLogits() const override;
  const char *name() const override { return "cpu"; }
  void setImageFeatures(Tensor features) override;

  void rebindWeights(const WeightBinder &weights) override;

  /// Bytes of the arena (planned peak) and of the bound weights.
  uint64_t arenaBytes() const;
  uint64_t weightBytes() const override;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mm

#endif // MM_RUNTIME_COMPILED_HOSTBACKEND_H
