//===- Nvrtc.h - run-time compilation of CUDA C++ ---------------*- C++ -*-===//
//
// NVRTC is dlopen'd (libnvrtc.so.13, libnvrtc.so, /usr/local/cuda/lib64), so
// this works on any machine with the toolkit, GPU or not. Results are cached
// on disk (NvrtcCache). Every compilation gets
//   --std=c++17 -default-device -I<cuda>/include -I<cuda>/include/cccl
// (NVRTC needs both include dirs), plus --ptxas-options=-v for an sm_XX target
// so that each kernel's registers and spills can be reported.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_NVRTC_H
#define MM_RUNTIME_CUDA_NVRTC_H

#include "runtime/cuda/NvrtcCache.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mm::cuda {

/// What ptxas reported for one entry function.
struct KernelResources {
  int registers = 0;
  int spillStoreBytes = 0;
  int spillLoadBytes = 0;
  int stackFrameBytes = 0;
  int staticSharedBytes = 0;
};

struct CompiledKernel {
  /// CUBIN for an sm_XX target, NUL-terminated PTX for compute_XX; either
  /// goes to cuModuleLoadData.
  std::vector<char> image;
  bool isCubin = false;
  std::string log;
  /// Per extern "C" kernel (sm_XX targets only).
  std::map<std::string, KernelResources> resources;
  bool fromCache = false;
};

class DynamicLibrary;

class Nvrtc {
public:
  /// Loads NVRTC, or returns null with `whyNot` set.
  static std::unique_ptr<Nvrtc> load(std::string *whyNot = nullptr,
                                     std::string cacheDirectory = NvrtcCache::defaultDirectory());
  ~Nvrtc();

  /// Compiles `source` (named `name` in diagnostics) for `arch`: "sm_90"
  /// gives a CUBIN, "compute_90" PTX. Throws mm::Error with the NVRTC log on
  /// a compile error.
  CompiledKernel compile(const std::string &source, const std::string &name,
                         const std::string &arch,
                         const std::vector<std::string> &extraOptions = {}) const;

  int versionMajor() const { return major_; }
  int versionMinor() const { return minor_; }
  const NvrtcCache &cache() const { return cache_; }
  /// The CUDA toolkit root used for include paths ($CUDA_HOME or /usr/local/cuda).
  static std::string cudaHome();

private:
  struct Api;
  Nvrtc(std::unique_ptr<DynamicLibrary> library, std::string cacheDirectory);
  CompiledKernel compileUncached(const std::string &source, const std::string &name,
                                 const std::string &arch,
                                 const std::vector<std::string> &options) const;

  std::unique_ptr<DynamicLibrary> library_;
  std::unique_ptr<Api> api_;
  NvrtcCache cache_;
  int major_ = 0, minor_ = 0;
};

/// Parses ptxas -v output ("Compiling entry function 'k'", "Used N registers",
/// "N bytes spill stores") into per-kernel resources.
std::map<std::string, KernelResources> parsePtxasInfo(const std::string &log);

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_NVRTC_H
