//===- DynamicLibrary.h - dlopen with readable failures --------*- C++ -*-===//
//
// The CUDA layer loads libcuda, NVRTC and cuBLAS at run time so that every
// tool builds and runs on machines without them.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_DYNAMICLIBRARY_H
#define MM_RUNTIME_CUDA_DYNAMICLIBRARY_H

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace mm::cuda {

class DynamicLibrary {
public:
  /// The first of `candidates` that dlopen accepts, or null with `whyNot` set
  /// to "<first candidate> not found (<dlerror of each>)".
  static std::unique_ptr<DynamicLibrary> open(const std::vector<std::string> &candidates,
                                              std::string *whyNot);
  ~DynamicLibrary();
  DynamicLibrary(const DynamicLibrary &) = delete;
  DynamicLibrary &operator=(const DynamicLibrary &) = delete;

  const std::string &path() const { return path_; }
  /// The first of `names` the library exports, or null.
  void *find(std::initializer_list<const char *> names) const;
  /// Like find, cast to the function type; throws mm::Error naming the symbol
  /// and the library when absent.
  template <typename F> void resolve(F &fn, std::initializer_list<const char *> names) const {
    fn = reinterpret_cast<F>(require(names));
  }

private:
  DynamicLibrary(void *handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void *require(std::initializer_list<const char *> names) const;

  void *handle_;
  std::string path_;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_DYNAMICLIBRARY_H
