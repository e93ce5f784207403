//===- WeightBinder.h - where a graph's mm.param weights come from -*- C++ -*-===//
//
// Every executor (the reference, the compiled backends) asks for each weight
// by its mm.param name, shape and element type; the caller decides where it
// comes from (a MiniMax checkpoint, a .safetensors file of a hand-written
// module, a trainer's parameters).
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_WEIGHTBINDER_H
#define MM_RUNTIME_WEIGHTBINDER_H

#include "runtime/Tensor.h"

#include <functional>
#include <string>

namespace mm {

/// Returns the weight `name` of `shape` as `dtype` (F32 / F64 for float
/// weights, I64 for integer ones); throws mm::Error naming what is missing.
using WeightBinder =
    std::function<Tensor(const std::string &name, const Shape &shape, DType dtype)>;

} // namespace mm

#endif // MM_RUNTIME_WEIGHTBINDER_H
