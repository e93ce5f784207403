//===- WeightBinder.h - where a graph's mm.param weights come from -*- C++ -*-===//
//
// Every executor (the reference, the compiled backends) asks for each weight
// by its mm.param name, shape and element type; the caller decides where it
// comes from (a MiniMax checkpoint, a .safetensors file of a hand-written
// module, a trainer's parameters). A rank of a partitioned program holds a
// block of a split weight; a binder that can read just that block from its
// storage (a safetensors file: only the block's bytes) says so with a block
// reader, and the rank never holds the whole weight.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_WEIGHTBINDER_H
#define MM_RUNTIME_WEIGHTBINDER_H

#include "runtime/Tensor.h"

#include <functional>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace mm {

/// The box [offset, offset + size) of a whole weight.
struct WeightBlock {
  Shape offset, size;
};

class WeightBinder {
public:
  /// Returns the weight `name` of `shape` as `dtype` (F32 / F64 for float
  /// weights, I64 for integer ones); throws mm::Error naming what is missing.
  using Whole = std::function<Tensor(const std::string &name, const Shape &shape, DType dtype)>;
  /// Returns `block` of the weight `name` (whole shape `shape`) as `dtype`,
  /// reading only the block; nullopt where it cannot (the caller then cuts
  /// the block from the whole weight).
  using Blocks = std::function<std::optional<Tensor>(const std::string &name, const Shape &shape,
                                                     DType dtype, const WeightBlock &block)>;

  WeightBinder() = default;
  template <typename F, typename = std::enable_if_t<std::is_invocable_r_v<
                            Tensor, F, const std::string &, const Shape &, DType>>>
  WeightBinder(F whole) : whole_(std::move(whole)) {}
  WeightBinder(Whole whole, Blocks blocks) : whole_(std::move(whole)), blocks_(std::move(blocks)) {}

  Tensor operator()(const std::string &name, const Shape &shape, DType dtype) const {
    return whole_(name, shape, dtype);
  }
  std::optional<Tensor> block(const std::string &name, const Shape &shape, DType dtype,
                              const WeightBlock &block) const {
    return blocks_ ? blocks_(name, shape, dtype, block) : std::nullopt;
  }
  explicit operator bool() const { return static_cast<bool>(whole_); }

private:
  Whole whole_;
  Blocks blocks_;
};

/// Copies the box `block` of a row-major array of `shape` with elements of
/// `element` bytes from `from` to `to` (packed); throws when it does not fit.
void copyBlock(const void *from, const Shape &shape, size_t element, const WeightBlock &block,
               void *to);
/// The inverse: writes the packed `block` at `from` into its box of the
/// row-major array of `shape` at `to`.
void placeBlock(const void *from, const Shape &shape, size_t element, const WeightBlock &block,
                void *to);

} // namespace mm

#endif // MM_RUNTIME_WEIGHTBINDER_H
