//===- Shape.cpp - reshape, transpose, concat, slice, gather, scatter -----===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <cstring>

namespace mm::ref {

Tensor reshape(const Tensor &x, const std::vector<int64_t> &spec) {
  Shape shape;
  int64_t inferAt = -1, known = 1;
  for (size_t i = 0; i < spec.size(); ++i) {
    int64_t s = spec[i];
    if (s == 0) {
      if (static_cast<int64_t>(i) >= x.rank())
        throw makeError("mm.reshape: copy entry ", i, " beyond the input rank");
      s = x.dim(i);
    } else if (s == -1) {
      inferAt = i;
      shape.push_back(1);
      continue;
    }
    shape.push_back(s);
    known *= s;
  }
  if (inferAt >= 0) {
    if (known == 0 || x.numel() % known)
      throw makeError("mm.reshape: cannot infer -1 for ", formatShape(x.shape()));
    shape[inferAt] = x.numel() / known;
  }
  if (shapeNumel(shape) != x.numel())
    throw makeError("mm.reshape: cannot reshape ", formatShape(x.shape()), " into ",
                    formatShape(shape));
  return x.reshaped(shape);
}

Tensor transpose(const Tensor &x, const std::vector<int64_t> &perm) {
  int64_t rank = x.rank();
  if (static_cast<int64_t>(perm.size()) != rank)
    throw makeError("mm.transpose: permutation of the wrong size");
  Shape shape(rank);
  std::vector<int64_t> inStride(rank), srcStride(rank);
  for (int64_t d = rank - 1, s = 1; d >= 0; --d) {
    inStride[d] = s;
    s *= x.dim(d);
  }
  for (int64_t d = 0; d < rank; ++d) {
    shape[d] = x.dim(perm[d]);
    srcStride[d] = inStride[perm[d]];
  }
  Tensor y = Tensor::empty(x.dtype(), shape);
  size_t es = dtypeSize(x.dtype());
  const uint8_t *in = static_cast<const uint8_t *>(x.raw());
  uint8_t *out = static_cast<uint8_t *>(y.raw());
  std::vector<int64_t> index(rank, 0);
  int64_t src = 0;
  for (int64_t i = 0, n = y.numel(); i < n; ++i) {
    std::memcpy(out + i * es, in + src * es, es);
    for (int64_t d = rank - 1; d >= 0; --d) {
      src += srcStride[d];
      if (++index[d] < shape[d])
        break;
      src -= srcStride[d] * shape[d];
      index[d] = 0;
    }
  }
  return y;
}

Tensor concat(const std::vector<Tensor> &inputs, int64_t dimAttr) {
  if (inputs.empty())
    throw makeError("mm.concat: no inputs");
  const Tensor &first = inputs.front();
  int64_t dim = normalizeDim(dimAttr, first.rank(), "mm.concat");
  Shape shape = first.shape();
  shape[dim] = 0;
  for (const Tensor &t : inputs) {
    if (t.rank() != first.rank() || t.dtype() != first.dtype())
      throw makeError("mm.concat: inputs differ in rank or type");
    for (int64_t d = 0; d < t.rank(); ++d)
      if (d != dim && t.dim(d) != first.dim(d))
        throw makeError("mm.concat: inputs differ in dim ", d);
    shape[dim] += t.dim(dim);
  }
  Tensor y = Tensor::empty(first.dtype(), shape);
  size_t es = dtypeSize(first.dtype());
  int64_t outer = prod(shape, 0, dim), inner = prod(shape, dim + 1, shape.size());
  uint8_t *out = static_cast<uint8_t *>(y.raw());
  int64_t rowOut = shape[dim] * inner * es, at = 0;
  for (const Tensor &t : inputs) {
    int64_t chunk = t.dim(dim) * inner * es;
    const uint8_t *in = static_cast<const uint8_t *>(t.raw());
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(out + o * rowOut + at, in + o * chunk, chunk);
    at += chunk;
  }
  return y;
}

Tensor slice(const Tensor &x, int64_t dimAttr, int64_t start, std::optional<int64_t> end,
             int64_t step) {
  int64_t dim = normalizeDim(dimAttr, x.rank(), "mm.slice");
  if (step < 1)
    throw makeError("mm.slice: step must be positive");
  int64_t n = x.dim(dim);
  auto clampIndex = [n](int64_t i) {
    if (i < 0)
      i = i < -n ? 0 : i + n;
    return std::min(i, n);
  };
  int64_t b = clampIndex(start), e = end ? clampIndex(*end) : n;
  int64_t count = e > b ? (e - b + step - 1) / step : 0;
  Shape shape = x.shape();
  shape[dim] = count;
  Tensor y = Tensor::empty(x.dtype(), shape);
  size_t es = dtypeSize(x.dtype());
  int64_t outer = prod(shape, 0, dim), inner = prod(shape, dim + 1, shape.size()) * es;
  const uint8_t *in = static_cast<const uint8_t *>(x.raw());
  uint8_t *out = static_cast<uint8_t *>(y.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      std::memcpy(out + (o * count + j) * inner, in + (o * n + b + j * step) * inner, inner);
  return y;
}

Tensor gather(const Tensor &x, const Tensor &indices, int64_t dimAttr, int64_t batchDims) {
  int64_t dim = normalizeDim(dimAttr, x.rank(), "mm.gather");
  if (batchDims < 0 || batchDims > dim || batchDims > indices.rank())
    throw makeError("mm.gather: invalid batch_dims ", batchDims);
  for (int64_t d = 0; d < batchDims; ++d)
    if (x.dim(d) != indices.dim(d))
      throw makeError("mm.gather: batch dim ", d, " differs");
  int64_t batch = prod(x.shape(), 0, batchDims);
  int64_t outerPerBatch = prod(x.shape(), batchDims, dim);
  int64_t n = x.dim(dim);
  int64_t inner = prod(x.shape(), dim + 1, x.rank());
  int64_t idxPerBatch = prod(indices.shape(), batchDims, indices.rank());
  Shape shape(x.shape().begin(), x.shape().begin() + dim);
  shape.insert(shape.end(), indices.shape().begin() + batchDims, indices.shape().end());
  shape.insert(shape.end(), x.shape().begin() + dim + 1, x.shape().end());
  Tensor y = Tensor::empty(x.dtype(), shape);
  size_t es = dtypeSize(x.dtype());
  const uint8_t *in = static_cast<const uint8_t *>(x.raw());
  uint8_t *out = static_cast<uint8_t *>(y.raw());
  const int64_t *idx = indices.data<int64_t>();
  int64_t row = inner * es, o = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t m = 0; m < outerPerBatch; ++m)
      for (int64_t j = 0; j < idxPerBatch; ++j) {
        int64_t i = idx[b * idxPerBatch + j];
        if (i < 0 || i >= n)
          throw makeError("mm.gather: index ", i, " outside [0, ", n, ")");
        std::memcpy(out + (o++) * row, in + ((b * outerPerBatch + m) * n + i) * row, row);
      }
  return y;
}

template <typename T>
static void scatterAddTyped(Tensor &y, const Tensor &indices, const Tensor &updates, int64_t dim,
                            int64_t batchDims) {
  int64_t outer = prod(y.shape(), 0, dim), n = y.dim(dim),
          inner = prod(y.shape(), dim + 1, y.rank()), m = indices.dim(batchDims);
  // Outer rows per batch entry: row o scatters with index row o / perBatch.
  int64_t perBatch = prod(y.shape(), batchDims, dim);
  const int64_t *indexBase = indices.data<int64_t>();
  const T *u = updates.data<T>();
  T *out = y.data<T>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < m; ++j) {
      const int64_t *idx = indexBase + (o / perBatch) * m;
      if (idx[j] < 0 || idx[j] >= n)
        throw makeError("mm.scatter_add: index ", idx[j], " outside [0, ", n, ")");
      for (int64_t i = 0; i < inner; ++i)
        out[(o * n + idx[j]) * inner + i] += u[(o * m + j) * inner + i];
    }
}

Tensor scatterAdd(const Tensor &dest, const Tensor &indices, const Tensor &updates,
                  int64_t dimAttr, int64_t batchDims) {
  int64_t dim = normalizeDim(dimAttr, dest.rank(), "mm.scatter_add");
  expectSameType(dest, updates, "mm.scatter_add");
  if (batchDims < 0 || batchDims > dim || indices.rank() != batchDims + 1)
    throw makeError("mm.scatter_add: indices ", formatShape(indices.shape()), " do not fit ",
                    batchDims, " batch dims");
  for (int64_t i = 0; i < batchDims; ++i)
    if (indices.dim(i) != dest.dim(i))
      throw makeError("mm.scatter_add: indices ", formatShape(indices.shape()),
                      " do not match the batch dims of dest ", formatShape(dest.shape()));
  Shape want = dest.shape();
  want[dim] = indices.dim(batchDims);
  if (updates.shape() != want)
    throw makeError("mm.scatter_add: updates ", formatShape(updates.shape()), " must be ",
                    formatShape(want));
  Tensor y = dest.clone();
  if (y.dtype() == DType::I64)
    scatterAddTyped<int64_t>(y, indices, updates, dim, batchDims);
  else
    withFloat(y, "mm.scatter_add", [&](auto tag) {
      scatterAddTyped<decltype(tag)>(y, indices, updates, dim, batchDims);
      return 0;
    });
  return y;
}

} // namespace mm::ref
