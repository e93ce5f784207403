//===- Tensor.cpp ---------------------------------------------------------===//
#include "runtime/Tensor.h"

#include <cstdlib>
#include <cstring>

namespace mm {

size_t dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return 4;
  case DType::F64:
  case DType::I64:
    return 8;
  }
  return 0;
}

const char *dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F64:
    return "f64";
  case DType::I64:
    return "i64";
  }
  return "?";
}

std::string formatShape(const Shape &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s.empty() ? "scalar" : s;
}

int64_t shapeNumel(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0)
      throw makeError("invalid tensor shape ", formatShape(shape));
    if (d != 0 && n > INT64_MAX / d)
      throw makeError("tensor shape ", formatShape(shape), " is too large");
    n *= d;
  }
  return n;
}

Tensor Tensor::empty(DType dtype, Shape shape) {
  Tensor t;
  t.numel_ = shapeNumel(shape);
  t.shape_ = std::move(shape);
  t.dtype_ = dtype;
  // 64-byte alignment for vector loads; at least one line so data() is never null.
  size_t bytes = std::max<size_t>(64, (t.nbytes() + 63) / 64 * 64);
  void *p = std::aligned_alloc(64, bytes);
  if (!p)
    throw makeError("out of memory allocating ", bytes, " bytes for a ", formatShape(t.shape_),
                    " tensor");
  t.storage_ = std::shared_ptr<uint8_t>(static_cast<uint8_t *>(p), std::free);
  return t;
}

Tensor Tensor::zeros(DType dtype, Shape shape) {
  Tensor t = empty(dtype, std::move(shape));
  std::memset(t.raw(), 0, t.nbytes());
  return t;
}

int64_t Tensor::dim(int64_t i) const {
  if (i < 0)
    i += rank();
  if (i < 0 || i >= rank())
    throw makeError("dimension ", i, " of a rank-", rank(), " tensor");
  return shape_[i];
}

Tensor Tensor::clone() const {
  Tensor t = empty(dtype_, shape_);
  std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (shapeNumel(shape) != numel_)
    throw makeError("cannot view a ", formatShape(shape_), " tensor as ", formatShape(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

template <typename From, typename To> static void convert(const Tensor &src, Tensor &dst) {
  const From *s = src.data<From>();
  To *d = dst.data<To>();
  for (int64_t i = 0, n = src.numel(); i < n; ++i)
    d[i] = static_cast<To>(s[i]);
}

template <typename From> static void convertFrom(const Tensor &src, Tensor &dst) {
  switch (dst.dtype()) {
  case DType::F32:
    return convert<From, float>(src, dst);
  case DType::F64:
    return convert<From, double>(src, dst);
  case DType::I64:
    return convert<From, int64_t>(src, dst);
  }
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_)
    return *this;
  Tensor t = empty(dtype, shape_);
  switch (dtype_) {
  case DType::F32:
    convertFrom<float>(*this, t);
    break;
  case DType::F64:
    convertFrom<double>(*this, t);
    break;
  case DType::I64:
    convertFrom<int64_t>(*this, t);
    break;
  }
  return t;
}

void Tensor::checkType(DType want) const {
  if (want != dtype_)
    throw makeError("tensor of type ", dtypeName(dtype_), " accessed as ", dtypeName(want));
}

} // namespace mm
