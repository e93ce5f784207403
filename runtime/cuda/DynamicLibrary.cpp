//===- DynamicLibrary.cpp - dlopen with readable failures -----------------===//
#include "runtime/cuda/DynamicLibrary.h"
#include "runtime/Error.h"

#include <dlfcn.h>

namespace mm::cuda {

std::unique_ptr<DynamicLibrary> DynamicLibrary::open(const std::vector<std::string> &candidates,
                                                     std::string *whyNot) {
  std::string errors;
  for (const std::string &path : candidates) {
    // RTLD_LOCAL: the CUDA libraries' symbols stay out of the global namespace.
    if (void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL))
      return std::unique_ptr<DynamicLibrary>(new DynamicLibrary(handle, path));
    const char *err = dlerror();
    errors += (errors.empty() ? "" : "; ") + std::string(err ? err : path + ": unknown error");
  }
  if (whyNot)
    *whyNot = (candidates.empty() ? std::string("library") : candidates.front()) + " not found (" +
              errors + ")";
  return nullptr;
}

DynamicLibrary::~DynamicLibrary() {
  // Deliberately not dlclose'd: CUDA libraries register process-wide state
  // (atexit handlers, TLS) that must outlive any object we own.
}

void *DynamicLibrary::find(std::initializer_list<const char *> names) const {
  for (const char *name : names)
    if (void *p = dlsym(handle_, name))
      return p;
  return nullptr;
}

void *DynamicLibrary::require(std::initializer_list<const char *> names) const {
  if (void *p = find(names))
    return p;
  throw makeError(path_, ": missing symbol ", *names.begin());
}

} // namespace mm::cuda
