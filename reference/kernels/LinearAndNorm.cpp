//===- LinearAndNorm.cpp - norms, linear, matmul, embedding ---------------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <cmath>

namespace mm::ref {

static void checkFeatureVector(const Tensor &x, const Tensor &v, const char *op) {
  if (x.rank() < 1 || v.rank() != 1 || v.dim(0) != x.dim(-1))
    throw makeError(op, ": weight/bias of shape ", formatShape(v.shape()), " does not match input ",
                    formatShape(x.shape()));
  expectSameType(x, v, op);
}

Tensor rmsNorm(const Tensor &x, const Tensor &weight, double eps) {
  checkFeatureVector(x, weight, "mm.rms_norm");
  return withFloat(x, "mm.rms_norm", [&](auto tag) {
    using T = decltype(tag);
    int64_t d = x.dim(-1), rows = x.numel() / std::max<int64_t>(d, 1);
    Tensor y = Tensor::empty(x.dtype(), x.shape());
    const T *in = x.data<T>(), *g = weight.data<T>();
    T *out = y.data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      const T *row = in + r * d;
      T inv = T(1) / std::sqrt(dot(row, row, d) / T(d) + T(eps));
      for (int64_t i = 0; i < d; ++i)
        out[r * d + i] = g[i] * (row[i] * inv);
    }
    return y;
  });
}

Tensor layerNorm(const Tensor &x, const Tensor &weight, const Tensor &bias, double eps) {
  checkFeatureVector(x, weight, "mm.layer_norm");
  checkFeatureVector(x, bias, "mm.layer_norm");
  return withFloat(x, "mm.layer_norm", [&](auto tag) {
    using T = decltype(tag);
    int64_t d = x.dim(-1), rows = x.numel() / std::max<int64_t>(d, 1);
    Tensor y = Tensor::empty(x.dtype(), x.shape());
    const T *in = x.data<T>(), *g = weight.data<T>(), *b = bias.data<T>();
    T *out = y.data<T>();
    for (int64_t r = 0; r < rows; ++r) {
      const T *row = in + r * d;
      T mean = 0;
      for (int64_t i = 0; i < d; ++i)
        mean += row[i];
      mean /= T(d);
      T var = 0;
      for (int64_t i = 0; i < d; ++i)
        var += (row[i] - mean) * (row[i] - mean);
      T inv = T(1) / std::sqrt(var / T(d) + T(eps));
      for (int64_t i = 0; i < d; ++i)
        out[r * d + i] = (row[i] - mean) * inv * g[i] + b[i];
    }
    return y;
  });
}

Tensor linear(const Tensor &x, const Tensor &weight, const Tensor *bias) {
  expectRank(weight, 2, "mm.linear", "weight");
  if (x.rank() < 1 || x.dim(-1) != weight.dim(1))
    throw makeError("mm.linear: input ", formatShape(x.shape()), " does not match weight ",
                    formatShape(weight.shape()));
  expectSameType(x, weight, "mm.linear");
  if (bias && (bias->rank() != 1 || bias->dim(0) != weight.dim(0)))
    throw makeError("mm.linear: bias ", formatShape(bias->shape()), " does not match weight ",
                    formatShape(weight.shape()));
  return withFloat(x, "mm.linear", [&](auto tag) {
    using T = decltype(tag);
    int64_t k = weight.dim(1), n = weight.dim(0), m = x.numel() / std::max<int64_t>(k, 1);
    Shape shape = x.shape();
    shape.back() = n;
    Tensor y = Tensor::empty(x.dtype(), shape);
    const T *in = x.data<T>(), *w = weight.data<T>();
    const T *b = bias ? bias->data<T>() : nullptr;
    T *out = y.data<T>();
#pragma omp parallel for schedule(static) if (m * n * k > (1 << 16))
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c)
        out[r * n + c] = dot(in + r * k, w + c * k, k) + (b ? b[c] : T(0));
    return y;
  });
}

Tensor matmul(const Tensor &a, const Tensor &b, bool transposeA, bool transposeB) {
  if (a.rank() < 2 || b.rank() < 2)
    throw makeError("mm.matmul: operands must have rank >= 2");
  expectSameType(a, b, "mm.matmul");
  int64_t m = transposeA ? a.dim(-1) : a.dim(-2), ka = transposeA ? a.dim(-2) : a.dim(-1);
  int64_t kb = transposeB ? b.dim(-1) : b.dim(-2), n = transposeB ? b.dim(-2) : b.dim(-1);
  if (ka != kb)
    throw makeError("mm.matmul: contraction sizes ", ka, " and ", kb, " differ");
  Shape batchA(a.shape().begin(), a.shape().end() - 2);
  Shape batchB(b.shape().begin(), b.shape().end() - 2);
  Shape batch = broadcastShape(batchA, batchB);
  Shape outShape = batch;
  outShape.push_back(m);
  outShape.push_back(n);
  // Batch index of each operand for every output batch element.
  int64_t batches = prod(batch, 0, batch.size());
  auto batchOffsets = [&](const Shape &own) {
    std::vector<int64_t> offs(batches);
    for (int64_t i = 0; i < batches; ++i) {
      int64_t rem = i, off = 0, stride = 1;
      for (int64_t d = static_cast<int64_t>(batch.size()) - 1; d >= 0; --d) {
        int64_t idx = rem % batch[d];
        rem /= batch[d];
        int64_t od = d - (static_cast<int64_t>(batch.size()) - static_cast<int64_t>(own.size()));
        if (od >= 0) {
          off += (own[od] == 1 ? 0 : idx) * stride;
          stride *= own[od];
        }
      }
      offs[i] = off;
    }
    return offs;
  };
  std::vector<int64_t> offA = batchOffsets(batchA), offB = batchOffsets(batchB);
  return withFloat(a, "mm.matmul", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::zeros(a.dtype(), outShape);
    const T *pa = a.data<T>(), *pb = b.data<T>();
    T *py = y.data<T>();
    int64_t k = ka;
    for (int64_t bi = 0; bi < batches; ++bi) {
      const T *A = pa + offA[bi] * m * k, *B = pb + offB[bi] * k * n;
      T *Y = py + bi * m * n;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          T s = 0;
          for (int64_t l = 0; l < k; ++l)
            s += (transposeA ? A[l * m + i] : A[i * k + l]) *
                 (transposeB ? B[j * k + l] : B[l * n + j]);
          Y[i * n + j] = s;
        }
    }
    return y;
  });
}

Tensor embedding(const Tensor &table, const Tensor &ids,
                 std::optional<std::pair<int64_t, int64_t>> part) {
  expectRank(table, 2, "mm.embedding", "table");
  int64_t rows = table.dim(0), d = table.dim(1);
  auto [first, vocab] = part.value_or(std::make_pair(int64_t(0), rows));
  Shape shape = ids.shape();
  shape.push_back(d);
  return withFloat(table, "mm.embedding", [&](auto tag) {
    using T = decltype(tag);
    Tensor y = Tensor::empty(table.dtype(), shape);
    const int64_t *id = ids.data<int64_t>();
    const T *t = table.data<T>();
    T *out = y.data<T>();
    for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
      if (id[i] < 0 || id[i] >= vocab)
        throw makeError("mm.embedding: token id ", id[i], " is outside the vocabulary [0, ", vocab,
                        ")");
      int64_t row = id[i] - first;
      if (row < 0 || row >= rows) // another part's row
        std::fill(out + i * d, out + (i + 1) * d, T(0));
      else
        std::copy(t + row * d, t + (row + 1) * d, out + i * d);
    }
    return y;
  });
}

} // namespace mm::ref
