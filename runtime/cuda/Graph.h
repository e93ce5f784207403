//===- Graph.h - a captured CUDA graph of one stream's work ----*- C++ -*-===//
//
// A decode step is a few hundred short kernels; launched one by one, the GPU
// waits on the host between them. Captured once into a CUDA graph (stream
// capture, relaxed mode) and replayed with one cuGraphLaunch per step, as
// vLLM and PyTorch do for decode, the launches cost the host almost nothing.
// Replays reuse every pointer and size argument of the capture: the caller
// recaptures when any of them changes.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_GRAPH_H
#define MM_RUNTIME_CUDA_GRAPH_H

#include "runtime/cuda/CudaDriver.h"

#include <functional>
#include <memory>
#include <string>

namespace mm::cuda {

class Graph {
public:
  /// Whether the driver has the graph entry points.
  static bool supported(const CudaDriver &driver);
  /// Captures what `enqueue` queues on `stream` (nothing runs). Null, with
  /// `whyNot` set, when capture or instantiation fails (the stream is left
  /// usable); exceptions from `enqueue` propagate after the capture ended.
  static std::unique_ptr<Graph> capture(const CudaDriver &driver, CuStream stream,
                                        const std::function<void()> &enqueue, std::string *whyNot);
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  void launch(CuStream stream) const;

private:
  Graph(const CudaDriver &driver, CuGraphExec exec) : driver_(&driver), exec_(exec) {}
  const CudaDriver *driver_;
  CuGraphExec exec_;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_GRAPH_H
