//===- CudaDriver.cpp - the CUDA driver API, loaded at run time -----------===//
#include "runtime/cuda/CudaDriver.h"
#include "runtime/Error.h"
#include "runtime/cuda/DynamicLibrary.h"

#include <mutex>
#include <type_traits>

namespace mm::cuda {

namespace {
void resolveAll(const DynamicLibrary &lib, DriverApi &a) {
  lib.resolve(a.cuInit, {"cuInit"});
  lib.resolve(a.cuDriverGetVersion, {"cuDriverGetVersion"});
  lib.resolve(a.cuDeviceGet, {"cuDeviceGet"});
  lib.resolve(a.cuDeviceGetCount, {"cuDeviceGetCount"});
  lib.resolve(a.cuDeviceGetName, {"cuDeviceGetName"});
  lib.resolve(a.cuDeviceGetAttribute, {"cuDeviceGetAttribute"});
  lib.resolve(a.cuDeviceTotalMem, {"cuDeviceTotalMem_v2"});
  lib.resolve(a.cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"});
  lib.resolve(a.cuCtxSetCurrent, {"cuCtxSetCurrent"});
  lib.resolve(a.cuCtxSynchronize, {"cuCtxSynchronize"});
  lib.resolve(a.cuModuleLoadData, {"cuModuleLoadData"});
  lib.resolve(a.cuModuleUnload, {"cuModuleUnload"});
  lib.resolve(a.cuModuleGetFunction, {"cuModuleGetFunction"});
  lib.resolve(a.cuFuncGetAttribute, {"cuFuncGetAttribute"});
  lib.resolve(a.cuFuncSetAttribute, {"cuFuncSetAttribute"});
  lib.resolve(a.cuLaunchKernel, {"cuLaunchKernel"});
  lib.resolve(a.cuMemAlloc, {"cuMemAlloc_v2"});
  lib.resolve(a.cuMemFree, {"cuMemFree_v2"});
  lib.resolve(a.cuMemGetInfo, {"cuMemGetInfo_v2"});
  lib.resolve(a.cuMemcpyHtoD, {"cuMemcpyHtoD_v2"});
  lib.resolve(a.cuMemcpyDtoH, {"cuMemcpyDtoH_v2"});
  lib.resolve(a.cuMemcpyDtoD, {"cuMemcpyDtoD_v2"});
  lib.resolve(a.cuMemsetD8, {"cuMemsetD8_v2"});
  lib.resolve(a.cuMemcpyHtoDAsync, {"cuMemcpyHtoDAsync_v2"});
  lib.resolve(a.cuMemcpyDtoHAsync, {"cuMemcpyDtoHAsync_v2"});
  lib.resolve(a.cuMemsetD8Async, {"cuMemsetD8Async"});
  lib.resolve(a.cuStreamCreate, {"cuStreamCreate"});
  lib.resolve(a.cuStreamDestroy, {"cuStreamDestroy_v2"});
  lib.resolve(a.cuStreamSynchronize, {"cuStreamSynchronize"});
  lib.resolve(a.cuEventCreate, {"cuEventCreate"});
  lib.resolve(a.cuEventRecord, {"cuEventRecord"});
  lib.resolve(a.cuEventSynchronize, {"cuEventSynchronize"});
  // CUDA 12.8+ headers map the name to _v2; older drivers export only the original.
  lib.resolve(a.cuEventElapsedTime, {"cuEventElapsedTime_v2", "cuEventElapsedTime"});
  lib.resolve(a.cuEventDestroy, {"cuEventDestroy_v2"});
  lib.resolve(a.cuGetErrorName, {"cuGetErrorName"});
  lib.resolve(a.cuGetErrorString, {"cuGetErrorString"});
  auto optional = [&](auto &entry, std::initializer_list<const char *> names) {
    entry = reinterpret_cast<std::remove_reference_t<decltype(entry)>>(lib.find(names));
  };
  optional(a.cuStreamBeginCapture, {"cuStreamBeginCapture_v2"});
  optional(a.cuStreamEndCapture, {"cuStreamEndCapture"});
  optional(a.cuGraphInstantiateWithFlags, {"cuGraphInstantiateWithFlags"});
  optional(a.cuGraphLaunch, {"cuGraphLaunch"});
  optional(a.cuGraphExecDestroy, {"cuGraphExecDestroy"});
  optional(a.cuGraphDestroy, {"cuGraphDestroy"});
}
} // namespace

CudaDriver *CudaDriver::get(std::string *whyNot) {
  static std::once_flag once;
  static std::unique_ptr<CudaDriver> driver;
  static std::string reason;
  std::call_once(once, [] {
    try {
      driver = create(&reason);
    } catch (const std::exception &e) { // a broken libcuda (missing symbol)
      reason = e.what();
      driver.reset();
    }
  });
  if (!driver) {
    if (whyNot)
      *whyNot = reason;
    return nullptr;
  }
  driver->makeCurrent();
  return driver.get();
}

std::unique_ptr<CudaDriver> CudaDriver::create(std::string *whyNot) {
  std::unique_ptr<DynamicLibrary> lib =
      DynamicLibrary::open({"libcuda.so.1", "libcuda.so"}, whyNot);
  if (!lib)
    return nullptr;
  std::unique_ptr<CudaDriver> d(new CudaDriver());
  resolveAll(*lib, d->api_);
  d->library_ = std::move(lib);
  const DriverApi &a = d->api_;
  auto failed = [&](CuResult r, const char *what) {
    if (r == 0)
      return false;
    *whyNot = std::string(what) + " failed: " + d->errorName(r);
    return true;
  };
  if (failed(a.cuInit(0), "cuInit"))
    return nullptr;
  int count = 0;
  if (failed(a.cuDeviceGetCount(&count), "cuDeviceGetCount"))
    return nullptr;
  if (count == 0) {
    *whyNot = "cuDeviceGetCount: no CUDA device";
    return nullptr;
  }
  if (failed(a.cuDeviceGet(&d->device_, 0), "cuDeviceGet") ||
      failed(a.cuDevicePrimaryCtxRetain(&d->context_, d->device_), "cuDevicePrimaryCtxRetain") ||
      failed(a.cuCtxSetCurrent(d->context_), "cuCtxSetCurrent"))
    return nullptr;
  char name[256] = {};
  a.cuDeviceGetName(name, sizeof(name) - 1, d->device_);
  d->name_ = name;
  d->ccMajor_ = d->attribute(kDevComputeCapabilityMajor);
  d->ccMinor_ = d->attribute(kDevComputeCapabilityMinor);
  d->multiprocessors_ = d->attribute(kDevMultiprocessorCount);
  a.cuDeviceTotalMem(&d->totalMemory_, d->device_);
  a.cuDriverGetVersion(&d->driverVersion_);
  return d;
}

std::string CudaDriver::errorName(CuResult result) const {
  const char *name = nullptr, *text = nullptr;
  if (api_.cuGetErrorName(result, &name) != 0 || !name)
    return "CUDA error " + std::to_string(result);
  std::string s = name;
  if (api_.cuGetErrorString(result, &text) == 0 && text)
    s += std::string(" (") + text + ")";
  return s;
}

void CudaDriver::check(CuResult result, const char *what) const {
  if (result != 0)
    throw makeError(what, " failed: ", errorName(result));
}

void CudaDriver::makeCurrent() const { check(api_.cuCtxSetCurrent(context_), "cuCtxSetCurrent"); }

std::string CudaDriver::arch() const {
  return "sm_" + std::to_string(ccMajor_) + std::to_string(ccMinor_);
}

int CudaDriver::attribute(DeviceAttribute attribute) const {
  int value = 0;
  check(api_.cuDeviceGetAttribute(&value, attribute, device_), "cuDeviceGetAttribute");
  return value;
}

void CudaDriver::synchronize() const { check(api_.cuCtxSynchronize(), "cuCtxSynchronize"); }

} // namespace mm::cuda
