//===- HostCompiler.h - generated C++ to a shared object --------*- C++ -*-===//
//
// Kernels are compiled once per machine, not once per program: each kernel
// is named by a hash of its code (nameKernelsByContent), compiled into an
// object under the cache the first time any program needs it, and a program
// is the link of the objects holding its kernels. Programs that share
// kernels (the children of one supernet, a model at two batch sizes) then
// cost a link instead of a compile.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_HOST_HOSTCOMPILER_H
#define MM_CODEGEN_HOST_HOSTCOMPILER_H

#include "codegen/host/HostCodegen.h"

#include <string>

namespace mm {

/// The flags generated host code is built with: optimised for the build
/// machine's CPU (an AOT binary runs where it was compiled, or on the same
/// CPU family), OpenMP for the row-parallel loops.
std::string hostCompileFlags();

/// Renames every kernel to `mmk_<hash>`, the hash of its code without its
/// name and location comment, the kernel library and the compiler and flags:
/// equal kernels get equal names, in one program or across programs.
void nameKernelsByContent(HostProgram &program);

/// Compiles `program`'s kernels (named by content) with the system C++
/// compiler ($CXX, else c++) and returns the shared object's bytes. Objects
/// and linked programs are cached in $MM_CACHE_DIR/host or
/// ~/.cache/mmc/host; kernels not yet there compile in parallel batches.
/// Throws mm::Error with the compiler's output on failure.
std::string compileHostKernels(const HostProgram &program);

} // namespace mm

#endif // MM_CODEGEN_HOST_HOSTCOMPILER_H
