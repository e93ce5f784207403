//===- VisionAndRecsys.cpp - convolutions, GRU, pooling, interactions -----===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <cmath>
#include <limits>

namespace mm::ref {

Tensor conv2d(const Tensor &x, const Tensor &w, const Tensor *bias,
              const std::vector<int64_t> &strides, const std::vector<int64_t> &padding,
              const std::vector<int64_t> &dilation) {
  const char *op = "mm.conv2d";
  expectRank(x, 4, op, "input");
  expectRank(w, 4, op, "weight");
  expectSameType(x, w, op);
  int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3);
  int64_t O = w.dim(0), KH = w.dim(2), KW = w.dim(3);
  if (w.dim(1) != C)
    throw makeError(op, ": channel mismatch");
  int64_t OH = (H + 2 * padding[0] - dilation[0] * (KH - 1) - 1) / strides[0] + 1;
  int64_t OW = (W + 2 * padding[1] - dilation[1] * (KW - 1) - 1) / strides[1] + 1;
  if (OH < 1 || OW < 1)
    throw makeError(op, ": kernel larger than the padded input");
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::empty(x.dtype(), {N, O, OH, OW});
    const F *in = x.data<F>(), *k = w.data<F>();
    F *out = y.data<F>();
    for (int64_t n = 0; n < N; ++n)
      for (int64_t o = 0; o < O; ++o)
        for (int64_t oh = 0; oh < OH; ++oh)
          for (int64_t ow = 0; ow < OW; ++ow) {
            F acc = bias ? bias->data<F>()[o] : F(0);
            for (int64_t c = 0; c < C; ++c)
              for (int64_t kh = 0; kh < KH; ++kh) {
                int64_t ih = oh * strides[0] - padding[0] + kh * dilation[0];
                if (ih < 0 || ih >= H)
                  continue;
                for (int64_t kw = 0; kw < KW; ++kw) {
                  int64_t iw = ow * strides[1] - padding[1] + kw * dilation[1];
                  if (iw >= 0 && iw < W)
                    acc +=
                        in[((n * C + c) * H + ih) * W + iw] * k[((o * C + c) * KH + kh) * KW + kw];
                }
              }
            out[((n * O + o) * OH + oh) * OW + ow] = acc;
          }
    return y;
  });
}

namespace {
/// The merge's operands agree: [batch, seq, D] rows of the ids, [n, D]
/// features, n placeholders among the ids.
void checkMerge(const char *op, const Tensor &rows, const char *rowsName, const Tensor &ids,
                const Tensor &features, int64_t imageTokenId) {
  expectRank(rows, 3, op, rowsName);
  expectRank(features, 2, op, "image_features");
  int64_t D = rows.dim(2);
  if (ids.numel() * D != rows.numel() || features.dim(1) != D)
    throw makeError(op, ": ids or features do not match the ", rowsName);
  const int64_t *id = ids.data<int64_t>();
  int64_t placeholders = 0;
  for (int64_t i = 0; i < ids.numel(); ++i)
    placeholders += id[i] == imageTokenId;
  if (placeholders != features.dim(0))
    throw makeError(op, ": the text has ", placeholders, " image placeholder tokens (id ",
                    imageTokenId, ") but ", features.dim(0), " image features were given");
}
} // namespace

Tensor mergeImageFeaturesGrad(const Tensor &grad, const Tensor &ids, const Tensor &features,
                              int64_t imageTokenId) {
  const char *op = "mm.merge_image_features_grad";
  checkMerge(op, grad, "grad_output", ids, features, imageTokenId);
  int64_t D = grad.dim(2);
  const int64_t *id = ids.data<int64_t>();
  return withFloat(grad, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::zeros(grad.dtype(), features.shape());
    F *out = y.data<F>();
    const F *g = grad.data<F>();
    for (int64_t i = 0, next = 0; i < ids.numel(); ++i)
      if (id[i] == imageTokenId)
        std::copy(g + i * D, g + (i + 1) * D, out + (next++) * D);
    return y;
  });
}

Tensor mergeImageFeatures(const Tensor &embeddings, const Tensor &ids, const Tensor &features,
                          int64_t imageTokenId) {
  const char *op = "mm.merge_image_features";
  checkMerge(op, embeddings, "embeddings", ids, features, imageTokenId);
  int64_t D = embeddings.dim(2);
  const int64_t *id = ids.data<int64_t>();
  return withFloat(embeddings, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = embeddings.clone();
    F *out = y.data<F>();
    const F *f = features.data<F>();
    for (int64_t i = 0, next = 0; i < ids.numel(); ++i)
      if (id[i] == imageTokenId) {
        std::copy(f + next * D, f + (next + 1) * D, out + i * D);
        ++next;
      }
    return y;
  });
}

Tensor conv1d(const Tensor &x, const Tensor &w, const Tensor *bias, int64_t stride,
              int64_t dilation, int64_t padBefore, int64_t padAfter) {
  const char *op = "mm.conv1d";
  expectRank(x, 3, op, "input");
  expectRank(w, 3, op, "weight");
  int64_t B = x.dim(0), T = x.dim(1), C = x.dim(2), O = w.dim(0), K = w.dim(2);
  if (w.dim(1) != C)
    throw makeError(op, ": channel mismatch");
  int64_t L = (T + padBefore + padAfter - dilation * (K - 1) - 1) / stride + 1;
  if (L < 1)
    throw makeError(op, ": kernel longer than the padded sequence");
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::empty(x.dtype(), {B, L, O});
    const F *in = x.data<F>(), *k = w.data<F>();
    F *out = y.data<F>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t l = 0; l < L; ++l)
        for (int64_t o = 0; o < O; ++o) {
          F acc = bias ? bias->data<F>()[o] : F(0);
          for (int64_t j = 0; j < K; ++j) {
            int64_t t = l * stride - padBefore + j * dilation;
            if (t < 0 || t >= T)
              continue;
            for (int64_t c = 0; c < C; ++c)
              acc += in[(b * T + t) * C + c] * k[(o * C + c) * K + j];
          }
          out[(b * L + l) * O + o] = acc;
        }
    return y;
  });
}

std::pair<Tensor, Tensor> gru(const Tensor &x, const Tensor &wih, const Tensor &whh,
                              const Tensor &bih, const Tensor &bhh, const Tensor *h0) {
  const char *op = "mm.gru";
  expectRank(x, 3, op, "input");
  int64_t B = x.dim(0), T = x.dim(1), I = x.dim(2), H = whh.dim(1);
  if (wih.dim(0) != 3 * H || wih.dim(1) != I || whh.dim(0) != 3 * H || bih.numel() != 3 * H ||
      bhh.numel() != 3 * H)
    throw makeError(op, ": weights do not match input size ", I, " and hidden size ", H);
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor seq = Tensor::empty(x.dtype(), {B, T, H});
    Tensor last = h0 ? h0->clone() : Tensor::zeros(x.dtype(), {B, H});
    const F *in = x.data<F>(), *Wi = wih.data<F>(), *Wh = whh.data<F>(), *bi = bih.data<F>(),
            *bh = bhh.data<F>();
    std::vector<F> gi(3 * H), gh(3 * H);
    for (int64_t b = 0; b < B; ++b) {
      F *h = last.data<F>() + b * H;
      for (int64_t t = 0; t < T; ++t) {
        const F *xt = in + (b * T + t) * I;
        for (int64_t g = 0; g < 3 * H; ++g) {
          gi[g] = dot(Wi + g * I, xt, I) + bi[g];
          gh[g] = dot(Wh + g * H, h, H) + bh[g];
        }
        for (int64_t j = 0; j < H; ++j) {
          F r = F(1) / (F(1) + std::exp(-(gi[j] + gh[j])));
          F z = F(1) / (F(1) + std::exp(-(gi[H + j] + gh[H + j])));
          F n = std::tanh(gi[2 * H + j] + r * gh[2 * H + j]);
          h[j] = (F(1) - z) * n + z * h[j];
        }
        std::copy(h, h + H, seq.data<F>() + (b * T + t) * H);
      }
    }
    return std::pair<Tensor, Tensor>{seq, last};
  });
}

Tensor pool(PoolKind kind, const Tensor &x, const Tensor *mask, int64_t dimAttr) {
  const char *op = "mm.pool";
  int64_t dim = normalizeDim(dimAttr, x.rank(), op);
  int64_t outer = prod(x.shape(), 0, dim), n = x.dim(dim),
          inner = prod(x.shape(), dim + 1, x.rank());
  if (mask && mask->numel() != outer * n)
    throw makeError(op, ": mask ", formatShape(mask->shape()), " does not cover the pooled dims");
  Shape shape = x.shape();
  shape.erase(shape.begin() + dim);
  return withFloat(x, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::zeros(x.dtype(), shape);
    const F *in = x.data<F>();
    const F *m = mask ? mask->data<F>() : nullptr;
    F *out = y.data<F>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        F acc = kind == PoolKind::Max ? -std::numeric_limits<F>::infinity() : F(0);
        int64_t count = 0;
        for (int64_t j = 0; j < n; ++j) {
          if (m && m[o * n + j] == F(0))
            continue;
          F v = in[(o * n + j) * inner + i];
          acc = kind == PoolKind::Max ? std::max(acc, v) : acc + v;
          ++count;
        }
        out[o * inner + i] = count == 0 ? F(0) : kind == PoolKind::Mean ? acc / F(count) : acc;
      }
    return y;
  });
}

Tensor targetAttention(const Tensor &seq, const Tensor &target, const Tensor *mask,
                       std::optional<double> scale) {
  const char *op = "mm.target_attention";
  expectRank(seq, 3, op, "sequence");
  expectRank(target, 2, op, "target");
  int64_t B = seq.dim(0), T = seq.dim(1), D = seq.dim(2);
  if (target.dim(0) != B || target.dim(1) != D || (mask && mask->numel() != B * T))
    throw makeError(op, ": target or mask does not match the sequence");
  double s = scale ? *scale : 1.0 / std::sqrt(double(D));
  return withFloat(seq, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::zeros(seq.dtype(), {B, D});
    const F *ps = seq.data<F>(), *pt = target.data<F>();
    const F *m = mask ? mask->data<F>() : nullptr;
    std::vector<F> score(T);
    for (int64_t b = 0; b < B; ++b) {
      F mx = -std::numeric_limits<F>::infinity();
      for (int64_t t = 0; t < T; ++t)
        if (!m || m[b * T + t] != F(0)) {
          score[t] = F(s) * dot(ps + (b * T + t) * D, pt + b * D, D);
          mx = std::max(mx, score[t]);
        }
      if (mx == -std::numeric_limits<F>::infinity())
        continue; // fully masked: zeros
      F denom = 0;
      for (int64_t t = 0; t < T; ++t)
        if (!m || m[b * T + t] != F(0))
          denom += score[t] = std::exp(score[t] - mx);
      for (int64_t t = 0; t < T; ++t)
        if (!m || m[b * T + t] != F(0))
          for (int64_t d = 0; d < D; ++d)
            y.data<F>()[b * D + d] += score[t] / denom * ps[(b * T + t) * D + d];
    }
    return y;
  });
}

Tensor hadamardInteraction(const Tensor &fields, const std::vector<std::vector<int64_t>> &groups) {
  const char *op = "mm.hadamard_interaction";
  expectRank(fields, 3, op, "fields");
  int64_t B = fields.dim(0), Fn = fields.dim(1), D = fields.dim(2),
          G = static_cast<int64_t>(groups.size());
  return withFloat(fields, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor y = Tensor::empty(fields.dtype(), {B, G, D});
    const F *in = fields.data<F>();
    F *out = y.data<F>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t g = 0; g < G; ++g)
        for (int64_t d = 0; d < D; ++d) {
          F acc = F(1);
          for (int64_t f : groups[g]) {
            if (f < 0 || f >= Fn)
              throw makeError(op, ": field ", f, " outside [0, ", Fn, ")");
            acc *= in[(b * Fn + f) * D + d];
          }
          out[(b * G + g) * D + d] = acc;
        }
    return y;
  });
}

} // namespace mm::ref
