//===- Graph.cpp ----------------------------------------------------------===//
#include "runtime/cuda/Graph.h"

namespace mm::cuda {

namespace {
constexpr int kCaptureModeRelaxed = 2; // CU_STREAM_CAPTURE_MODE_RELAXED
} // namespace

bool Graph::supported(const CudaDriver &driver) {
  const DriverApi &a = driver.api();
  return a.cuStreamBeginCapture && a.cuStreamEndCapture && a.cuGraphInstantiateWithFlags &&
         a.cuGraphLaunch && a.cuGraphExecDestroy && a.cuGraphDestroy;
}

std::unique_ptr<Graph> Graph::capture(const CudaDriver &driver, CuStream stream,
                                      const std::function<void()> &enqueue, std::string *whyNot) {
  const DriverApi &a = driver.api();
  auto fail = [&](const char *what, CuResult r) -> std::unique_ptr<Graph> {
    if (whyNot)
      *whyNot = std::string(what) + " failed: " + driver.errorName(r);
    return nullptr;
  };
  if (!supported(driver)) {
    if (whyNot)
      *whyNot = "the CUDA driver has no graph API";
    return nullptr;
  }
  if (CuResult r = a.cuStreamBeginCapture(stream, kCaptureModeRelaxed))
    return fail("cuStreamBeginCapture", r);
  CuGraph graph = nullptr;
  try {
    enqueue();
  } catch (...) {
    a.cuStreamEndCapture(stream, &graph); // leave capture mode before reporting
    if (graph)
      a.cuGraphDestroy(graph);
    throw;
  }
  if (CuResult r = a.cuStreamEndCapture(stream, &graph)) {
    if (graph)
      a.cuGraphDestroy(graph);
    return fail("cuStreamEndCapture", r);
  }
  CuGraphExec exec = nullptr;
  CuResult r = a.cuGraphInstantiateWithFlags(&exec, graph, 0);
  a.cuGraphDestroy(graph); // the executable graph keeps what it needs
  if (r != 0)
    return fail("cuGraphInstantiate", r);
  return std::unique_ptr<Graph>(new Graph(driver, exec));
}

Graph::~Graph() { driver_->api().cuGraphExecDestroy(exec_); }

void Graph::launch(CuStream stream) const {
  driver_->check(driver_->api().cuGraphLaunch(exec_, stream), "cuGraphLaunch");
}

} // namespace mm::cuda
