//===- KernelLibrary.cpp - embedded kernel headers and launch shapes -------===//
#include "codegen/cuda/KernelLibrary.h"
#include "runtime/Error.h"

#include <algorithm>
#include <regex>

namespace mm::cuda {
namespace detail {
// Generated from kernels/*.cuh by EmbedTextFiles.cmake.
const std::vector<std::pair<const char *, const char *>> &embeddedKernelHeaders();
} // namespace detail

const std::vector<KernelHeader> &kernelHeaders() {
  static const std::vector<KernelHeader> headers = [] {
    std::vector<KernelHeader> h;
    for (const auto &[name, text] : detail::embeddedKernelHeaders())
      h.push_back(KernelHeader{name, text});
    return h;
  }();
  return headers;
}

const std::string &kernelLibrarySource() {
  static const std::string source = [] {
    std::string s;
    for (const KernelHeader &h : kernelHeaders())
      s += "\n// ===== " + h.name + " =====\n" + h.text;
    return s;
  }();
  return source;
}

std::string stripKernelIncludes(const std::string &text) {
  static const std::regex include(R"re((^|\n)#include "([^"\n]*\.cuh)")re");
  return std::regex_replace(text, include, "$1// #include \"$2\" (concatenated)");
}

} // namespace mm::cuda
