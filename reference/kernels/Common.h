//===- Common.h - helpers shared by the reference kernels -------*- C++ -*-===//
#ifndef MM_RUNTIME_KERNELS_COMMON_H
#define MM_RUNTIME_KERNELS_COMMON_H

#include "runtime/Tensor.h"

namespace mm::ref {

/// Calls fn(T{}) with T = float or double after the tensor's type.
template <typename Fn> auto withFloat(const Tensor &t, const char *op, Fn &&fn) {
  switch (t.dtype()) {
  case DType::F32:
    return fn(float{});
  case DType::F64:
    return fn(double{});
  default:
    throw makeError(op, ": expected a float tensor, got ", dtypeName(t.dtype()));
  }
}

inline void expectRank(const Tensor &t, int64_t rank, const char *op, const char *what) {
  if (t.rank() != rank)
    throw makeError(op, ": ", what, " must have rank ", rank, ", got ", formatShape(t.shape()));
}

inline void expectSameType(const Tensor &a, const Tensor &b, const char *op) {
  if (a.dtype() != b.dtype())
    throw makeError(op, ": operands have types ", dtypeName(a.dtype()), " and ",
                    dtypeName(b.dtype()));
}

inline int64_t normalizeDim(int64_t dim, int64_t rank, const char *op) {
  int64_t d = dim < 0 ? dim + rank : dim;
  if (d < 0 || d >= rank)
    throw makeError(op, ": dim ", dim, " out of range for rank ", rank);
  return d;
}

/// Product of shape[begin, end).
inline int64_t prod(const Shape &shape, size_t begin, size_t end) {
  int64_t n = 1;
  for (size_t i = begin; i < end && i < shape.size(); ++i)
    n *= shape[i];
  return n;
}

/// Dot product with four independent accumulators (ILP; deterministic order).
template <typename T> inline T dot(const T *a, const T *b, int64_t n) {
  T s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

} // namespace mm::ref

#endif // MM_RUNTIME_KERNELS_COMMON_H
