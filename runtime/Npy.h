//===- Npy.h - NumPy .npy files ---------------------------------*- C++ -*-===//
#ifndef MM_RUNTIME_NPY_H
#define MM_RUNTIME_NPY_H

#include "runtime/Tensor.h"

#include <string>

namespace mm {

/// Writes a little-endian float32 / float64 / int64 .npy (format 1.0), atomically
/// (temporary file, then rename).
void writeNpy(const std::string &path, const Tensor &tensor);
/// Reads a C-ordered little-endian <f4, <f8 or <i8 .npy.
Tensor readNpy(const std::string &path);

} // namespace mm

#endif // MM_RUNTIME_NPY_H
