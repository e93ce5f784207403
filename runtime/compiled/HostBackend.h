//===- HostBackend.h - running a compiled CPU executable --------*- C++ -*-===//
//
// Loads the generated kernels (a shared object inside the executable) with
// dlopen, binds the weights from the model folder in their storage types,
// allocates the arena once for the maximum sizes the executable was planned
// for, and runs the launch schedule each step. No MLIR: this is what AOT
// binaries link.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_COMPILED_HOSTBACKEND_H
#define MM_RUNTIME_COMPILED_HOSTBACKEND_H

#include "frontends/MiniMaxWeights.h"
#include "runtime/engine/ForwardBackend.h"
#include "runtime/executable/ExecutableFile.h"

#include <memory>
#include <vector>

namespace mm {

class HostBackend : public ForwardBackend {
public:
  HostBackend(exe::Executable executable, const minimax::WeightLoader &weights);
  ~HostBackend() override;

  void reset(int64_t batch, int64_t capacity) override;
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override;
  bool allLogits() const override;
  const char *name() const override { return "cpu"; }

  /// Bytes of the arena (planned peak) and of the bound weights.
  uint64_t arenaBytes() const;
  uint64_t weightBytes() const;

private:
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mm

#endif // MM_RUNTIME_COMPILED_HOSTBACKEND_H
