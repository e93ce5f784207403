//===- Module.cpp - a loaded CUDA module and its kernels ------------------===//
#include "runtime/cuda/Module.h"
#include "runtime/Error.h"

namespace mm::cuda {

KernelAttributes Kernel::attributes() const {
  const DriverApi &a = driver_->api();
  KernelAttributes r;
  driver_->check(a.cuFuncGetAttribute(&r.registers, kFuncNumRegs, function_), "cuFuncGetAttribute");
  driver_->check(a.cuFuncGetAttribute(&r.localBytes, kFuncLocalSizeBytes, function_),
                 "cuFuncGetAttribute");
  driver_->check(a.cuFuncGetAttribute(&r.staticSharedBytes, kFuncSharedSizeBytes, function_),
                 "cuFuncGetAttribute");
  driver_->check(a.cuFuncGetAttribute(&r.maxThreadsPerBlock, kFuncMaxThreadsPerBlock, function_),
                 "cuFuncGetAttribute");
  return r;
}

void Kernel::launch(const LaunchDims &dims, void **params, CuStream stream) {
  const DriverApi &a = driver_->api();
  if (dims.sharedBytes > dynamicSharedLimit_) {
    CuResult r = a.cuFuncSetAttribute(function_, kFuncMaxDynamicSharedSizeBytes,
                                      static_cast<int>(dims.sharedBytes));
    if (r != 0)
      throw makeError("cuFuncSetAttribute(MAX_DYNAMIC_SHARED_SIZE_BYTES = ", dims.sharedBytes,
                      ") for ", name_, " failed: ", driver_->errorName(r));
    dynamicSharedLimit_ = dims.sharedBytes;
  }
  CuResult r = a.cuLaunchKernel(function_, dims.grid[0], dims.grid[1], dims.grid[2], dims.block, 1,
                                1, dims.sharedBytes, stream, params, nullptr);
  if (r != 0)
    throw makeError("cuLaunchKernel ", name_, " (grid ", dims.grid[0], "x", dims.grid[1], "x",
                    dims.grid[2], ", block ", dims.block, ", shared ", dims.sharedBytes,
                    " B) failed: ", driver_->errorName(r));
}

Module::Module(const CudaDriver &driver, const std::vector<char> &image) : driver_(&driver) {
  if (image.empty())
    throw makeError("cuModuleLoadData: empty image");
  driver.check(driver.api().cuModuleLoadData(&module_, image.data()), "cuModuleLoadData");
}

Module::~Module() {
  if (module_)
    driver_->api().cuModuleUnload(module_); // no throw from a destructor
}

Kernel &Module::kernel(const std::string &name) {
  auto it = kernels_.find(name);
  if (it != kernels_.end())
    return it->second;
  CuFunction f = nullptr;
  CuResult r = driver_->api().cuModuleGetFunction(&f, module_, name.c_str());
  if (r != 0)
    throw makeError("cuModuleGetFunction ", name, " failed: ", driver_->errorName(r));
  return kernels_.emplace(name, Kernel(*driver_, f, name)).first->second;
}

} // namespace mm::cuda
