//===- CudaDriver.h - the CUDA driver API, loaded at run time --*- C++ -*-===//
//
// libcuda.so.1 is dlopen'd on first use, so mmc builds and runs without a GPU
// or the toolkit: CudaDriver::get() then returns null with the reason. The few
// driver types used here are declared locally (opaque handles, plain ints).
// The driver binds device 0's primary context to the calling thread.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_CUDADRIVER_H
#define MM_RUNTIME_CUDA_CUDADRIVER_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace mm::cuda {

using CuResult = int; // CUresult; 0 = CUDA_SUCCESS
using CuDevice = int;
using CuDevicePtr = unsigned long long;
struct CuContextHandle;
struct CuModuleHandle;
struct CuFunctionHandle;
struct CuStreamHandle;
struct CuEventHandle;
struct CuGraphHandle;
struct CuGraphExecHandle;
using CuContext = CuContextHandle *;
using CuModule = CuModuleHandle *;
using CuFunction = CuFunctionHandle *;
using CuStream = CuStreamHandle *; // null = the legacy default stream
using CuEvent = CuEventHandle *;
using CuGraph = CuGraphHandle *;
using CuGraphExec = CuGraphExecHandle *;

/// CUfunction_attribute values used by mmc.
enum FunctionAttribute : int {
  kFuncMaxThreadsPerBlock = 0,
  kFuncSharedSizeBytes = 1,
  kFuncLocalSizeBytes = 3,
  kFuncNumRegs = 4,
  kFuncMaxDynamicSharedSizeBytes = 8,
};
/// CUdevice_attribute values used by mmc.
enum DeviceAttribute : int {
  kDevMultiprocessorCount = 16,
  kDevComputeCapabilityMajor = 75,
  kDevComputeCapabilityMinor = 76,
  kDevMaxSharedMemoryPerBlockOptin = 97,
};

/// Entry points, named as in cuda.h (the _v2 variants where cuda.h maps to them).
struct DriverApi {
  CuResult (*cuInit)(unsigned flags);
  CuResult (*cuDriverGetVersion)(int *version);
  CuResult (*cuDeviceGet)(CuDevice *device, int ordinal);
  CuResult (*cuDeviceGetCount)(int *count);
  CuResult (*cuDeviceGetName)(char *name, int length, CuDevice device);
  CuResult (*cuDeviceGetAttribute)(int *value, int attribute, CuDevice device);
  CuResult (*cuDeviceTotalMem)(size_t *bytes, CuDevice device);
  CuResult (*cuDevicePrimaryCtxRetain)(CuContext *context, CuDevice device);
  CuResult (*cuCtxSetCurrent)(CuContext context);
  CuResult (*cuCtxSynchronize)();
  CuResult (*cuModuleLoadData)(CuModule *module, const void *image);
  CuResult (*cuModuleUnload)(CuModule module);
  CuResult (*cuModuleGetFunction)(CuFunction *function, CuModule module, const char *name);
  CuResult (*cuFuncGetAttribute)(int *value, int attribute, CuFunction function);
  CuResult (*cuFuncSetAttribute)(CuFunction function, int attribute, int value);
  CuResult (*cuLaunchKernel)(CuFunction function, unsigned gridX, unsigned gridY, unsigned gridZ,
                             unsigned blockX, unsigned blockY, unsigned blockZ,
                             unsigned sharedBytes, CuStream stream, void **params, void **extra);
  CuResult (*cuMemAlloc)(CuDevicePtr *ptr, size_t bytes);
  CuResult (*cuMemFree)(CuDevicePtr ptr);
  CuResult (*cuMemGetInfo)(size_t *free, size_t *total);
  CuResult (*cuMemcpyHtoD)(CuDevicePtr dst, const void *src, size_t bytes);
  CuResult (*cuMemcpyDtoH)(void *dst, CuDevicePtr src, size_t bytes);
  CuResult (*cuMemcpyDtoD)(CuDevicePtr dst, CuDevicePtr src, size_t bytes);
  CuResult (*cuMemsetD8)(CuDevicePtr dst, unsigned char value, size_t count);
  CuResult (*cuMemcpyHtoDAsync)(CuDevicePtr dst, const void *src, size_t bytes, CuStream s);
  CuResult (*cuMemcpyDtoHAsync)(void *dst, CuDevicePtr src, size_t bytes, CuStream s);
  CuResult (*cuMemsetD8Async)(CuDevicePtr dst, unsigned char value, size_t count, CuStream s);
  CuResult (*cuStreamCreate)(CuStream *stream, unsigned flags);
  CuResult (*cuStreamDestroy)(CuStream stream);
  CuResult (*cuStreamSynchronize)(CuStream stream);
  CuResult (*cuEventCreate)(CuEvent *event, unsigned flags);
  CuResult (*cuEventRecord)(CuEvent event, CuStream stream);
  CuResult (*cuEventSynchronize)(CuEvent event);
  CuResult (*cuEventElapsedTime)(float *milliseconds, CuEvent start, CuEvent end);
  CuResult (*cuEventDestroy)(CuEvent event);
  CuResult (*cuGetErrorName)(CuResult error, const char **name);
  CuResult (*cuGetErrorString)(CuResult error, const char **text);
  // Optional, null when the driver lacks them (then nothing is captured):
  // CUDA graphs (runtime/cuda/Graph.h).
  CuResult (*cuStreamBeginCapture)(CuStream stream, int mode);
  CuResult (*cuStreamEndCapture)(CuStream stream, CuGraph *graph);
  CuResult (*cuGraphInstantiateWithFlags)(CuGraphExec *exec, CuGraph graph,
                                          unsigned long long flags);
  CuResult (*cuGraphLaunch)(CuGraphExec exec, CuStream stream);
  CuResult (*cuGraphExecDestroy)(CuGraphExec exec);
  CuResult (*cuGraphDestroy)(CuGraph graph);
};

class DynamicLibrary;

class CudaDriver {
public:
  /// The process-wide driver bound to device 0, created on first call; null
  /// (never an exception) when there is no usable GPU, with `whyNot` set to
  /// e.g. "libcuda.so.1 not found (...)" or "cuInit failed: CUDA_ERROR_NO_DEVICE".
  static CudaDriver *get(std::string *whyNot = nullptr);

  const DriverApi &api() const { return api_; }
  /// Throws mm::Error "<what> failed: <CUDA_ERROR_NAME> (<description>)" unless ok.
  void check(CuResult result, const char *what) const;
  std::string errorName(CuResult result) const;

  /// Makes the primary context current on the calling thread (each thread
  /// that issues CUDA calls needs this once; get() does it for its caller).
  void makeCurrent() const;

  CuDevice device() const { return device_; }
  CuContext context() const { return context_; }
  const std::string &deviceName() const { return name_; }
  int computeCapabilityMajor() const { return ccMajor_; }
  int computeCapabilityMinor() const { return ccMinor_; }
  /// "sm_90" for compute capability 9.0: the NVRTC target of this device.
  std::string arch() const;
  int multiprocessors() const { return multiprocessors_; }
  size_t totalMemory() const { return totalMemory_; }
  int driverVersion() const { return driverVersion_; }
  int attribute(DeviceAttribute attribute) const;
  void synchronize() const;

private:
  CudaDriver() = default;
  static std::unique_ptr<CudaDriver> create(std::string *whyNot);

  std::unique_ptr<DynamicLibrary> library_;
  DriverApi api_{};
  CuDevice device_ = 0;
  CuContext context_ = nullptr;
  std::string name_;
  int ccMajor_ = 0, ccMinor_ = 0, multiprocessors_ = 0, driverVersion_ = 0;
  size_t totalMemory_ = 0;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_CUDADRIVER_H
