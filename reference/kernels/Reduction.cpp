//===- Reduction.cpp - softmax, reduce, top-k, argmax ---------------------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

// GCC 12 reports a false -Wfree-nonheap-object on the index vectors below
// (GCC bug 108088); the code is plain std::vector use.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wfree-nonheap-object"
#endif

namespace mm::ref {

Tensor softmax(const Tensor &x, int64_t dimAttr, bool log) {
  const char *op = log ? "mm.log_softmax" : "mm.softmax";
  int64_t dim = normalizeDim(dimAttr, x.rank(), op);
  int64_t outer = prod(x.shape(), 0, dim), n = x.dim(dim),
          inner = prod(x.shape(), dim + 1, x.rank());
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::empty(x.dtype(), x.shape());
    const F *in = x.data<F>();
    F *out = y.data<F>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        auto at = [&](int64_t j) { return (o * n + j) * inner + i; };
        F mx = -std::numeric_limits<F>::infinity();
        for (int64_t j = 0; j < n; ++j)
          mx = std::max(mx, in[at(j)]);
        F sum = 0;
        for (int64_t j = 0; j < n; ++j)
          sum += std::exp(in[at(j)] - mx);
        for (int64_t j = 0; j < n; ++j)
          out[at(j)] = log ? in[at(j)] - mx - std::log(sum) : std::exp(in[at(j)] - mx) / sum;
      }
    return y;
  });
}

template <typename T>
static Tensor reduceTyped(ReduceKind kind, const Tensor &x, const std::vector<uint8_t> &reduced,
                          const Shape &outShape) {
  Tensor y = Tensor::empty(x.dtype(), outShape);
  T *out = y.data<T>();
  int64_t outN = y.numel();
  T init = kind == ReduceKind::Max    ? std::numeric_limits<T>::lowest()
           : kind == ReduceKind::Min  ? std::numeric_limits<T>::max()
           : kind == ReduceKind::Prod ? T(1)
                                      : T(0);
  std::fill(out, out + outN, init);
  // Output strides over the input's dims (0 on reduced dims).
  int64_t rank = x.rank();
  std::vector<int64_t> ostride(rank, 0);
  for (int64_t d = rank - 1, s = 1; d >= 0; --d)
    if (!reduced[d]) {
      ostride[d] = s;
      s *= x.dim(d);
    }
  const T *in = x.data<T>();
  std::vector<int64_t> index(rank, 0);
  int64_t o = 0;
  for (int64_t i = 0, n = x.numel(); i < n; ++i) {
    T v = in[i];
    switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Mean:
      out[o] += v;
      break;
    case ReduceKind::Max:
      out[o] = std::max(out[o], v);
      break;
    case ReduceKind::Min:
      out[o] = std::min(out[o], v);
      break;
    case ReduceKind::Prod:
      out[o] *= v;
      break;
    }
    for (int64_t d = rank - 1; d >= 0; --d) {
      o += ostride[d];
      if (++index[d] < x.dim(d))
        break;
      o -= ostride[d] * x.dim(d);
      index[d] = 0;
    }
  }
  if (kind == ReduceKind::Mean) {
    int64_t count = outN ? x.numel() / outN : 0;
    for (int64_t i = 0; i < outN; ++i)
      out[i] = count ? out[i] / T(count) : T(0);
  }
  return y;
}

Tensor reduce(ReduceKind kind, const Tensor &x, const std::vector<int64_t> &dims, bool keepDims) {
  std::vector<uint8_t> reduced(x.rank(), 0);
  for (int64_t d : dims)
    reduced[normalizeDim(d, x.rank(), "mm.reduce")] = 1;
  Shape outShape;
  for (int64_t d = 0; d < x.rank(); ++d)
    if (!reduced[d])
      outShape.push_back(x.dim(d));
    else if (keepDims)
      outShape.push_back(1);
  Shape flatShape; // reduced dims dropped, for indexing
  for (int64_t d = 0; d < x.rank(); ++d)
    if (!reduced[d])
      flatShape.push_back(x.dim(d));
  Tensor y = x.dtype() == DType::I64
                 ? reduceTyped<int64_t>(kind, x, reduced, flatShape)
                 : withFloat(x, "mm.reduce", [&](auto tag) {
                     return reduceTyped<decltype(tag)>(kind, x, reduced, flatShape);
                   });
  return y.reshaped(outShape);
}

template <typename T> static std::pair<Tensor, Tensor> topKTyped(const Tensor &x, int64_t k) {
  int64_t n = x.dim(-1), rows = x.numel() / std::max<int64_t>(n, 1);
  Shape shape = x.shape();
  shape.back() = k;
  Tensor values = Tensor::empty(x.dtype(), shape), indices = Tensor::empty(DType::I64, shape);
  const T *in = x.data<T>();
  std::vector<int64_t> order(n);
  for (int64_t r = 0; r < rows; ++r) {
    const T *row = in + r * n;
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return row[a] > row[b]; });
    for (int64_t j = 0; j < k; ++j) {
      values.data<T>()[r * k + j] = row[order[j]];
      indices.data<int64_t>()[r * k + j] = order[j];
    }
  }
  return {values, indices};
}

std::pair<Tensor, Tensor> topK(const Tensor &x, int64_t k) {
  if (x.rank() < 1 || k < 1 || k > x.dim(-1))
    throw makeError("mm.top_k: k = ", k, " for input ", formatShape(x.shape()));
  if (x.dtype() == DType::I64)
    return topKTyped<int64_t>(x, k);
  return withFloat(x, "mm.top_k", [&](auto tag) { return topKTyped<decltype(tag)>(x, k); });
}

template <typename T> static Tensor argmaxTyped(const Tensor &x, int64_t dim, bool keepDims) {
  int64_t outer = prod(x.shape(), 0, dim), n = x.dim(dim),
          inner = prod(x.shape(), dim + 1, x.rank());
  Shape shape = x.shape();
  if (keepDims)
    shape[dim] = 1;
  else
    shape.erase(shape.begin() + dim);
  Tensor y = Tensor::empty(DType::I64, shape);
  const T *in = x.data<T>();
  int64_t *out = y.data<int64_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j)
        if (in[(o * n + j) * inner + i] > in[(o * n + best) * inner + i])
          best = j;
      out[o * inner + i] = best;
    }
  return y;
}

Tensor argmax(const Tensor &x, int64_t dimAttr, bool keepDims) {
  int64_t dim = normalizeDim(dimAttr, x.rank(), "mm.argmax");
  if (x.dim(dim) == 0)
    throw makeError("mm.argmax: empty dimension");
  if (x.dtype() == DType::I64)
    return argmaxTyped<int64_t>(x, dim, keepDims);
  return withFloat(x, "mm.argmax",
                   [&](auto tag) { return argmaxTyped<decltype(tag)>(x, dim, keepDims); });
}

} // namespace mm::ref
