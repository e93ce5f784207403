//===- Tensor.h - dense row-major tensors of the runtime --------*- C++ -*-===//
//
// The runtime's value type: a shape, an element type and shared contiguous
// row-major storage. Copies share storage (cheap); `uniquelyOwned` lets a
// kernel update a dead input in place (KV caches, lightning states).
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_TENSOR_H
#define MM_RUNTIME_TENSOR_H

#include "runtime/Error.h"

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace mm {

enum class DType : uint8_t { F32, F64, I64 };

using Shape = std::vector<int64_t>;

size_t dtypeSize(DType dtype);
const char *dtypeName(DType dtype);
/// "2x3x4" for messages.
std::string formatShape(const Shape &shape);
/// Product of the sizes; throws on negative sizes or overflow.
int64_t shapeNumel(const Shape &shape);

template <typename T> constexpr DType dtypeOf();
template <> constexpr DType dtypeOf<float>() { return DType::F32; }
template <> constexpr DType dtypeOf<double>() { return DType::F64; }
template <> constexpr DType dtypeOf<int64_t>() { return DType::I64; }

class Tensor {
public:
  Tensor() = default;
  Tensor(const Tensor &) = default;
  Tensor &operator=(const Tensor &) = default;
  /// A moved-from tensor holds nothing (numel 0), rather than an empty shape
  /// that still claims its old element count.
  Tensor(Tensor &&other) noexcept { *this = std::move(other); }
  Tensor &operator=(Tensor &&other) noexcept {
    storage_ = std::move(other.storage_);
    shape_ = std::move(other.shape_);
    numel_ = std::exchange(other.numel_, 0);
    dtype_ = other.dtype_;
    other.shape_.clear();
    return *this;
  }

  /// Uninitialised storage.
  static Tensor empty(DType dtype, Shape shape);
  static Tensor zeros(DType dtype, Shape shape);
  template <typename T> static Tensor fromVector(Shape shape, const std::vector<T> &values) {
    Tensor t = empty(dtypeOf<T>(), std::move(shape));
    if (static_cast<int64_t>(values.size()) != t.numel())
      throw makeError("Tensor::fromVector: ", values.size(), " values for shape ",
                      formatShape(t.shape()));
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape &shape() const { return shape_; }
  int64_t rank() const { return static_cast<int64_t>(shape_.size()); }
  int64_t dim(int64_t i) const;
  int64_t numel() const { return numel_; }
  size_t nbytes() const { return static_cast<size_t>(numel_) * dtypeSize(dtype_); }

  template <typename T> T *data() {
    checkType(dtypeOf<T>());
    return reinterpret_cast<T *>(storage_.get());
  }
  template <typename T> const T *data() const {
    checkType(dtypeOf<T>());
    return reinterpret_cast<const T *>(storage_.get());
  }
  void *raw() { return storage_.get(); }
  const void *raw() const { return storage_.get(); }

  /// True when no other Tensor shares this storage.
  bool uniquelyOwned() const { return storage_.use_count() == 1; }
  Tensor clone() const;
  /// The same storage under another shape with the same element count.
  Tensor reshaped(Shape shape) const;
  /// Elementwise conversion (float <-> double, integers <-> floats).
  Tensor to(DType dtype) const;

private:
  void checkType(DType want) const;

  std::shared_ptr<uint8_t> storage_;
  Shape shape_;
  int64_t numel_ = 0;
  DType dtype_ = DType::F32;
};

} // namespace mm

#endif // MM_RUNTIME_TENSOR_H
