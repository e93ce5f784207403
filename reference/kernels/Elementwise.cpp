//===- Elementwise.cpp - unary, broadcasting binary, swiglu ---------------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <cmath>

namespace mm::ref {

template <typename T> static T applyUnary(UnaryKind kind, T x) {
  switch (kind) {
  case UnaryKind::Silu:
    return x / (T(1) + std::exp(-x));
  case UnaryKind::Sigmoid:
    return T(1) / (T(1) + std::exp(-x));
  case UnaryKind::Relu:
    return x > T(0) ? x : T(0);
  case UnaryKind::Tanh:
    return std::tanh(x);
  case UnaryKind::Exp:
    return std::exp(x);
  case UnaryKind::Log:
    return std::log(x);
  case UnaryKind::Sqrt:
    return std::sqrt(x);
  case UnaryKind::Rsqrt:
    return T(1) / std::sqrt(x);
  case UnaryKind::Neg:
    return -x;
  case UnaryKind::Gelu:
    return T(0.5) * x * (T(1) + std::erf(x / std::sqrt(T(2))));
  case UnaryKind::GeluTanh: {
    const T c = std::sqrt(T(2) / T(M_PI));
    return T(0.5) * x * (T(1) + std::tanh(c * (x + T(0.044715) * x * x * x)));
  }
  }
  return x;
}

Tensor unary(UnaryKind kind, const Tensor &x) {
  return withFloat(x, "unary", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(x.dtype(), x.shape());
    const T *in = x.data<T>();
    T *out = y.data<T>();
    for (int64_t i = 0, n = x.numel(); i < n; ++i)
      out[i] = applyUnary(kind, in[i]);
    return y;
  });
}

Shape broadcastShape(const Shape &a, const Shape &b) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1)
      throw makeError("shapes ", formatShape(a), " and ", formatShape(b), " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Element strides of `shape` viewed as `out` (0 on broadcast dims).
static std::vector<int64_t> broadcastStrides(const Shape &shape, const Shape &out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    size_t d = shape.size() - 1 - i, o = out.size() - 1 - i;
    strides[o] = shape[d] == 1 ? 0 : stride;
    stride *= shape[d];
  }
  return strides;
}

template <typename T> static T applyBinary(BinaryKind kind, T a, T b) {
  switch (kind) {
  case BinaryKind::Add:
    return a + b;
  case BinaryKind::Sub:
    return a - b;
  case BinaryKind::Mul:
    return a * b;
  case BinaryKind::Div:
    if constexpr (std::is_integral_v<T>)
      if (b == 0)
        throw makeError("mm.div: integer division by zero");
    return a / b;
  case BinaryKind::Max:
    return a > b ? a : b;
  case BinaryKind::Min:
    return a < b ? a : b;
  }
  return a;
}

template <typename T> static Tensor binaryTyped(BinaryKind kind, const Tensor &a, const Tensor &b) {
  Shape out = broadcastShape(a.shape(), b.shape());
  Tensor y = Tensor::empty(a.dtype(), out);
  const T *pa = a.data<T>(), *pb = b.data<T>();
  T *py = y.data<T>();
  int64_t n = y.numel();
  if (a.shape() == out && b.shape() == out) {
    for (int64_t i = 0; i < n; ++i)
      py[i] = applyBinary(kind, pa[i], pb[i]);
    return y;
  }
  if (a.shape() == out && b.numel() == 1) {
    for (int64_t i = 0; i < n; ++i)
      py[i] = applyBinary(kind, pa[i], pb[0]);
    return y;
  }
  // General case: walk the output with a multi-index.
  std::vector<int64_t> sa = broadcastStrides(a.shape(), out);
  std::vector<int64_t> sb = broadcastStrides(b.shape(), out);
  std::vector<int64_t> index(out.size(), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < n; ++i) {
    py[i] = applyBinary(kind, pa[ia], pb[ib]);
    for (int64_t d = static_cast<int64_t>(out.size()) - 1; d >= 0; --d) {
      ia += sa[d];
      ib += sb[d];
      if (++index[d] < out[d])
        break;
      ia -= sa[d] * out[d];
      ib -= sb[d] * out[d];
      index[d] = 0;
    }
  }
  return y;
}

Tensor binary(BinaryKind kind, const Tensor &a, const Tensor &b) {
  expectSameType(a, b, "binary op");
  if (a.dtype() == DType::I64)
    return binaryTyped<int64_t>(kind, a, b);
  return withFloat(a, "binary op",
                   [&](auto tag) { return binaryTyped<decltype(tag)>(kind, a, b); });
}

namespace {
/// The nearest value with `digits` significand bits, exponent >= minExp
/// (subnormals below), ties to even (nearbyint's default rounding).
double roundTo(double x, int digits, int minExp, double maxFinite) {
  if (!std::isfinite(x) || x == 0.0)
    return x;
  double quantum = std::ldexp(1.0, std::max(std::ilogb(x), minExp) - (digits - 1));
  double r = std::nearbyint(x / quantum) * quantum;
  return std::fabs(r) > maxFinite ? std::copysign(INFINITY, x) : r;
}
} // namespace

Tensor roundToFormat(const Tensor &x, NarrowFloat format) {
  if (x.dtype() == DType::I64)
    throw makeError("mm.cast: rounding an integer tensor to a float format");
  bool bf16 = format == NarrowFloat::BF16;
  int digits = bf16 ? 8 : 11, minExp = bf16 ? -126 : -14;
  double maxFinite = bf16 ? 3.38953138925153547590470800371487866880e38 : 65504.0;
  Tensor out = Tensor::empty(x.dtype(), x.shape());
  Tensor in = x.to(DType::F64);
  const double *src = in.data<double>();
  if (x.dtype() == DType::F64) {
    double *dst = out.data<double>();
    for (int64_t i = 0; i < x.numel(); ++i)
      dst[i] = roundTo(src[i], digits, minExp, maxFinite);
  } else {
    float *dst = out.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i)
      dst[i] = static_cast<float>(roundTo(src[i], digits, minExp, maxFinite));
  }
  return out;
}

Tensor swiglu(const Tensor &gate, const Tensor &up) {
  expectSameType(gate, up, "mm.swiglu");
  if (gate.shape() != up.shape())
    throw makeError("mm.swiglu: shapes ", formatShape(gate.shape()), " and ",
                    formatShape(up.shape()), " differ");
  return withFloat(gate, "mm.swiglu", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(gate.dtype(), gate.shape());
    const T *g = gate.data<T>(), *u = up.data<T>();
    T *out = y.data<T>();
    for (int64_t i = 0, n = y.numel(); i < n; ++i)
      out[i] = g[i] / (T(1) + std::exp(-g[i])) * u[i];
    return y;
  });
}

} // namespace mm::ref
