//===- Module.h - a loaded CUDA module and its kernels ---------*- C++ -*-===//
#ifndef MM_RUNTIME_CUDA_MODULE_H
#define MM_RUNTIME_CUDA_MODULE_H

#include "runtime/cuda/CudaDriver.h"

#include <map>
#include <string>
#include <vector>

namespace mm::cuda {

struct LaunchDims {
  unsigned grid[3] = {1, 1, 1};
  unsigned block = 1;
  unsigned sharedBytes = 0;
};

/// Resources of a loaded kernel, from cuFuncGetAttribute.
struct KernelAttributes {
  int registers = 0, localBytes = 0, staticSharedBytes = 0, maxThreadsPerBlock = 0;
};

/// A kernel of a loaded module. Launches opt in to more than 48 KiB of dynamic
/// shared memory as needed (cuFuncSetAttribute) and name the kernel on failure.
class Kernel {
public:
  Kernel(const CudaDriver &driver, CuFunction function, std::string name)
      : driver_(&driver), function_(function), name_(std::move(name)) {}
  const std::string &name() const { return name_; }
  CuFunction handle() const { return function_; }
  KernelAttributes attributes() const;
  /// Asynchronous launch on `stream`; `params` point at each argument's value.
  void launch(const LaunchDims &dims, void **params, CuStream stream = nullptr);

private:
  const CudaDriver *driver_;
  CuFunction function_;
  std::string name_;
  unsigned dynamicSharedLimit_ = 48 * 1024; // the default without opting in
};

/// A cubin or PTX image loaded into the current context (cuModuleLoadData).
class Module {
public:
  Module(const CudaDriver &driver, const std::vector<char> &image);
  ~Module();
  Module(const Module &) = delete;
  Module &operator=(const Module &) = delete;
  /// The extern "C" kernel `name`; throws mm::Error when the module lacks it.
  Kernel &kernel(const std::string &name);

private:
  const CudaDriver *driver_;
  CuModule module_ = nullptr;
  std::map<std::string, Kernel> kernels_;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_MODULE_H
