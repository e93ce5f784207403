//===- CudaBackend.h - running a compiled CUDA executable -------*- C++ -*-===//
//
// Loads the executable's CUBIN (or, on a GPU of another architecture, compiles
// its CUDA source with NVRTC, cached on disk), uploads the weights in their
// compiled storage (float32, or bf16 / int8 matrices quantized on the way or
// taken from the file beside an AOT binary),
// allocates the arena once for the maximum sizes it was planned for, and runs
// the launch schedule on one stream: once per `call` of any compiled
// function, or once per engine step of a MiniMax @forward. Each exe::Kernel
// carries typed launch steps (runtime/executable/CudaLaunch.proto) saying
// which of its wrappers run, on which grid, and where cuBLAS multiplies; the
// backend evaluates and runs them with no code per kernel kind. No MLIR:
// this is what AOT binaries link. Throws mm::Error naming the kernel's mm IR
// location when a kernel reports bad input (ids, cache positions, lengths).
//
// MM_CUDA_SYNC_EACH_KERNEL=1 synchronises after every launch, to find the one
// that faults. MM_CUDA_PROFILE=1 times every launch with events and prints
// the GPU time per kernel kind (prefill and decode) when the backend ends.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_COMPILED_CUDABACKEND_H
#define MM_RUNTIME_COMPILED_CUDABACKEND_H

#include "runtime/WeightBinder.h"
#include "runtime/compiled/Int8WeightFile.h"
#include "runtime/engine/ForwardBackend.h"
#include "runtime/executable/ExecutableFile.h"

#include <memory>
#include <string>
#include <vector>

namespace mm {

class CudaBackend : public ForwardBackend {
public:
  /// Throws mm::Error when there is no usable GPU (saying why), or when the
  /// executable does not target CUDA. `int8Weights` are int8 weights
  /// quantized at compile time (others are quantized from `weights`).
  CudaBackend(exe::Executable executable, const WeightBinder &weights,
              const Int8WeightViews *int8Weights = nullptr);
  ~CudaBackend() override;

  /// Runs the compiled function: one tensor per argument (float ones are
  /// taken as float32), one per result in the IR's order; state arguments
  /// come back updated as their results. Throws naming the argument, or the
  /// location of a kernel that reported bad input.
  std::vector<Tensor> call(std::vector<Tensor> args);

  // ForwardBackend: the engine's steps of a function that declares a
  // generation step (Executable.generation_step; others throw).
  void reset(int64_t batch, int64_t capacity) override;
  Tensor step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
              const Tensor &lengths) override;
  bool allLogits() const override;
  const char *name() const override { return "cuda"; }
  /// Uploads new values into the weights' device buffers, which keep their
  /// addresses (a captured decode graph stays valid).
  void rebindWeights(const WeightBinder &weights) override;

  /// The GPU it runs on, and whether the CUBIN was compiled for another one
  /// (then NVRTC compiled the source at load time).
  std::string deviceName() const;
  bool compiledAtLoad() const;

private:
  void warmUp();
  struct Impl;
  std::unique_ptr<Impl> impl;
};

} // namespace mm

#endif // MM_RUNTIME_COMPILED_CUDABACKEND_H
