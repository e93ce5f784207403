//===- FakeCudaDriver.cpp - a libcuda.so.1 that runs kernels on the emulator -===//
//
// Test infrastructure. Built as libcuda.so.1 in its own folder and put first
// on LD_LIBRARY_PATH, it lets mm-cuda-gpu-tests run end to end without a GPU:
// the real CudaDriver / Module / DevicePool / Event code and the GPU runner
// drive it, NVRTC still compiles the real cubin (ignored here), and launches
// run the same kernels, compiled for the CPU emulator, by name.
// The functions are defined with cuda.h's own prototypes, so the exported
// names (cuMemAlloc_v2, cuEventElapsedTime_v2, ...) are NVIDIA's, and a
// misspelt or wrongly versioned symbol in runtime/cuda fails to resolve here.
// Modules built by the fake NVRTC (FakeNvrtc.cpp) are host shared objects:
// loading one dlopens it and launches run its kernels, so whole generated
// models run here too.
// Like the driver, a launch with more than 48 KiB of dynamic shared memory
// fails unless cuFuncSetAttribute raised the kernel's limit first. NVRTC
// also finds this library while compiling (see cuGetExportTable).
//
//===----------------------------------------------------------------------===//
#include <cuda.h>

#include "test/cuda/emu/Emulator.h"
#include "test/cuda/fakecuda/EmulatedModule.h"

#include <dlfcn.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace {
constexpr int kDefaultDynamicShared = 48 * 1024, kOptinShared = 227 * 1024;

/// The kernels of one shared object built by the fake NVRTC. Objects stay
/// loaded: a second module of the same object shares them (dlopen would not
/// run its registrations again).
struct EmulatedObject {
  std::map<std::string, mm_emu::KernelEntry> kernels;
};
struct FakeModule {
  const EmulatedObject *object = nullptr; // null: the kernels linked into this library
};

struct State {
  std::mutex mutex;
  std::map<CUdeviceptr, size_t> allocations;
  std::map<const void *, int> sharedLimit; // per kernel entry
  std::map<std::string, EmulatedObject> objects; // by path
};
State &state() {
  static State s;
  return s;
}
struct FakeEvent {
  std::chrono::steady_clock::time_point at;
};
void *host(CUdeviceptr p) { return reinterpret_cast<void *>(static_cast<uintptr_t>(p)); }
} // namespace

extern "C" {

CUresult CUDAAPI cuInit(unsigned int) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuDriverGetVersion(int *version) {
  *version = CUDA_VERSION;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGet(CUdevice *device, int ordinal) {
  if (ordinal != 0)
    return CUDA_ERROR_INVALID_DEVICE;
  *device = 0;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetCount(int *count) {
  *count = 1;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetName(char *name, int len, CUdevice) {
  std::strncpy(name, "mmc CPU emulator (fake libcuda)", static_cast<size_t>(len));
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice) {
  switch (attribute) {
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR:
    *value = 9;
    break;
  case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR:
    *value = 0;
    break;
  case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT:
    *value = 4;
    break;
  case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN:
    *value = kOptinShared;
    break;
  default:
    return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDeviceTotalMem(size_t *bytes, CUdevice) {
  *bytes = size_t(8) << 30;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice) {
  static int token;
  *context = reinterpret_cast<CUcontext>(&token);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuCtxSetCurrent(CUcontext) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuCtxSynchronize(void) { return CUDA_SUCCESS; }

CUresult CUDAAPI cuModuleLoadData(CUmodule *module, const void *image) {
  if (!image)
    return CUDA_ERROR_INVALID_IMAGE;
  auto fake = std::make_unique<FakeModule>();
  if (std::optional<std::string> path = mm_fakecuda::emulatedModulePath(image)) {
    std::lock_guard<std::mutex> lock(state().mutex);
    auto [it, fresh] = state().objects.try_emplace(*path);
    if (fresh) {
      // The object's kernels call the emulator in this library, which was
      // dlopen'd RTLD_LOCAL: make its symbols visible to the object first.
      Dl_info self{};
      if (!dladdr(reinterpret_cast<void *>(&cuModuleLoadData), &self) ||
          !dlopen(self.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_GLOBAL)) {
        state().objects.erase(it);
        return CUDA_ERROR_SHARED_OBJECT_INIT_FAILED;
      }
      mm_emu::setRegistrationSink(&it->second.kernels);
      void *handle = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
      mm_emu::setRegistrationSink(nullptr);
      if (!handle) {
        std::fprintf(stderr, "fake libcuda: %s\n", dlerror());
        state().objects.erase(it);
        return CUDA_ERROR_INVALID_IMAGE;
      }
    }
    fake->object = &it->second;
  }
  *module = reinterpret_cast<CUmodule>(fake.release());
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuModuleUnload(CUmodule module) {
  delete reinterpret_cast<FakeModule *>(module);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name) {
  const auto *fake = reinterpret_cast<const FakeModule *>(module);
  const mm_emu::KernelEntry *entry = nullptr;
  if (fake && fake->object) {
    auto it = fake->object->kernels.find(name);
    entry = it == fake->object->kernels.end() ? nullptr : &it->second;
  } else {
    entry = mm_emu::findKernel(name);
  }
  if (!entry)
    return CUDA_ERROR_NOT_FOUND;
  *function = reinterpret_cast<CUfunction>(const_cast<mm_emu::KernelEntry *>(entry));
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuFuncGetAttribute(int *value, CUfunction_attribute attribute, CUfunction) {
  *value = attribute == CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK ? 1024 : 0;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuFuncSetAttribute(CUfunction function, CUfunction_attribute attribute,
                                    int value) {
  if (attribute != CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES || value > kOptinShared)
    return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(state().mutex);
  state().sharedLimit[function] = value;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuLaunchKernel(CUfunction f, unsigned int gridDimX, unsigned int gridDimY,
                                unsigned int gridDimZ, unsigned int blockDimX,
                                unsigned int blockDimY, unsigned int blockDimZ,
                                unsigned int sharedMemBytes, CUstream, void **kernelParams,
                                void **extra) {
  if (!f || extra || blockDimY != 1 || blockDimZ != 1 || blockDimX == 0 || blockDimX > 1024 ||
      gridDimY > 65535 || gridDimZ > 65535)
    return CUDA_ERROR_INVALID_VALUE;
  {
    std::lock_guard<std::mutex> lock(state().mutex);
    auto it = state().sharedLimit.find(f);
    int limit = it == state().sharedLimit.end() ? kDefaultDynamicShared : it->second;
    if (static_cast<int>(sharedMemBytes) > limit)
      return CUDA_ERROR_INVALID_VALUE;
  }
  const auto *entry = reinterpret_cast<const mm_emu::KernelEntry *>(f);
  mm_emu::launch(entry->thunk, mm_emu::Index3{gridDimX, gridDimY, gridDimZ}, blockDimX,
                 sharedMemBytes, kernelParams);
  return CUDA_SUCCESS;
}

CUresult CUDAAPI cuMemAlloc(CUdeviceptr *dptr, size_t bytesize) {
  void *p = std::aligned_alloc(256, (bytesize + 255) / 256 * 256 + 256);
  if (!p)
    return CUDA_ERROR_OUT_OF_MEMORY;
  *dptr = reinterpret_cast<CUdeviceptr>(p);
  std::lock_guard<std::mutex> lock(state().mutex);
  state().allocations[*dptr] = bytesize;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemFree(CUdeviceptr dptr) {
  std::lock_guard<std::mutex> lock(state().mutex);
  if (!state().allocations.erase(dptr))
    return CUDA_ERROR_INVALID_VALUE;
  std::free(host(dptr));
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemGetInfo(size_t *free, size_t *total) {
  *total = size_t(8) << 30;
  *free = *total / 2;
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes) {
  std::memcpy(host(dst), src, bytes);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t bytes) {
  std::memcpy(dst, host(src), bytes);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  std::memmove(host(dst), host(src), bytes);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemsetD8(CUdeviceptr dst, unsigned char value, size_t n) {
  std::memset(host(dst), value, n);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuMemcpyHtoDAsync(CUdeviceptr dst, const void *src, size_t bytes, CUstream) {
  return cuMemcpyHtoD(dst, src, bytes);
}
CUresult CUDAAPI cuMemcpyDtoHAsync(void *dst, CUdeviceptr src, size_t bytes, CUstream) {
  return cuMemcpyDtoH(dst, src, bytes);
}
CUresult CUDAAPI cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t n, CUstream) {
  return cuMemsetD8(dst, value, n);
}

CUresult CUDAAPI cuStreamCreate(CUstream *stream, unsigned int) {
  *stream = reinterpret_cast<CUstream>(new int(0));
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamDestroy(CUstream stream) {
  delete reinterpret_cast<int *>(stream);
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuStreamSynchronize(CUstream) { return CUDA_SUCCESS; }

CUresult CUDAAPI cuEventCreate(CUevent *event, unsigned int) {
  *event = reinterpret_cast<CUevent>(new FakeEvent{});
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventRecord(CUevent event, CUstream) {
  reinterpret_cast<FakeEvent *>(event)->at = std::chrono::steady_clock::now();
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventSynchronize(CUevent) { return CUDA_SUCCESS; }
CUresult CUDAAPI cuEventElapsedTime(float *ms, CUevent start, CUevent end) {
  *ms = std::chrono::duration<float, std::milli>(reinterpret_cast<FakeEvent *>(end)->at -
                                                 reinterpret_cast<FakeEvent *>(start)->at)
            .count();
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuEventDestroy(CUevent event) {
  delete reinterpret_cast<FakeEvent *>(event);
  return CUDA_SUCCESS;
}

// NVRTC itself looks for a loaded driver while compiling (cuInit, then this
// internal entry point); declining every table is what a driver may do.
CUresult CUDAAPI cuGetExportTable(const void **table, const CUuuid *) {
  *table = nullptr;
  return CUDA_ERROR_NOT_SUPPORTED;
}

CUresult CUDAAPI cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case CUDA_SUCCESS:
    *name = "CUDA_SUCCESS";
    break;
  case CUDA_ERROR_INVALID_VALUE:
    *name = "CUDA_ERROR_INVALID_VALUE";
    break;
  case CUDA_ERROR_OUT_OF_MEMORY:
    *name = "CUDA_ERROR_OUT_OF_MEMORY";
    break;
  case CUDA_ERROR_NOT_FOUND:
    *name = "CUDA_ERROR_NOT_FOUND";
    break;
  case CUDA_ERROR_INVALID_IMAGE:
    *name = "CUDA_ERROR_INVALID_IMAGE";
    break;
  case CUDA_ERROR_NOT_SUPPORTED:
    *name = "CUDA_ERROR_NOT_SUPPORTED";
    break;
  default:
    *name = "CUDA_ERROR_UNKNOWN";
    break;
  }
  return CUDA_SUCCESS;
}
CUresult CUDAAPI cuGetErrorString(CUresult error, const char **text) {
  *text = error == CUDA_SUCCESS ? "no error" : "fake driver error";
  return CUDA_SUCCESS;
}

} // extern "C"
