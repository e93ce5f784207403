//===- HostCompiler.h - generated C++ to a shared object --------*- C++ -*-===//
#ifndef MM_CODEGEN_HOST_HOSTCOMPILER_H
#define MM_CODEGEN_HOST_HOSTCOMPILER_H

#include <string>

namespace mm {

/// The flags generated host code is built with: optimised for the build
/// machine's CPU (an AOT binary runs where it was compiled, or on the same
/// CPU family), OpenMP for the row-parallel loops.
std::string hostCompileFlags();

/// Compiles `source` with the system C++ compiler ($CXX, else c++) into a
/// shared object and returns its bytes. Results are cached by a hash of the
/// source, compiler and flags in $MM_CACHE_DIR or ~/.cache/mmc/host. Throws
/// mm::Error with the compiler's output on failure.
std::string compileHostObject(const std::string &source);

} // namespace mm

#endif // MM_CODEGEN_HOST_HOSTCOMPILER_H
