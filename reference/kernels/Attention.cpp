//===- Attention.cpp - rotary embedding and grouped-query attention -------===//
#include "reference/kernels/Common.h"
#include "reference/kernels/Reference.h"

#include <cmath>
#include <limits>

namespace mm::ref {

Tensor rope(const Tensor &x, const Tensor &positions, int64_t rotaryDim, double theta) {
  expectRank(x, 4, "mm.rope", "input");
  expectRank(positions, 2, "mm.rope", "positions");
  int64_t B = x.dim(0), T = x.dim(1), H = x.dim(2), D = x.dim(3);
  if (positions.dim(0) != B || positions.dim(1) != T)
    throw makeError("mm.rope: positions ", formatShape(positions.shape()), " do not match input ",
                    formatShape(x.shape()));
  if (rotaryDim <= 0 || rotaryDim % 2 || rotaryDim > D)
    throw makeError("mm.rope: invalid rotary_dim ", rotaryDim, " for head_dim ", D);
  int64_t half = rotaryDim / 2;
  std::vector<double> invFreq(half);
  for (int64_t i = 0; i < half; ++i)
    invFreq[i] = std::pow(theta, -2.0 * double(i) / double(rotaryDim));
  return withFloat(x, "mm.rope", [&](auto tag) {
    using F = decltype(tag);
    Tensor y = x.clone();
    const F *in = x.data<F>();
    F *out = y.data<F>();
    const int64_t *pos = positions.data<int64_t>();
    std::vector<F> c(half), s(half);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t) {
        // Angles in double: positions times frequencies lose digits in float.
        for (int64_t i = 0; i < half; ++i) {
          double a = double(pos[b * T + t]) * invFreq[i];
          c[i] = F(std::cos(a));
          s[i] = F(std::sin(a));
        }
        for (int64_t h = 0; h < H; ++h) {
          int64_t base = ((b * T + t) * H + h) * D;
          for (int64_t i = 0; i < half; ++i) {
            F x1 = in[base + i], x2 = in[base + i + half];
            out[base + i] = x1 * c[i] - x2 * s[i];
            out[base + i + half] = x2 * c[i] + x1 * s[i];
          }
        }
      }
    return y;
  });
}

/// Takes the caller's cache if nobody else holds it, else copies it.
static Tensor writable(std::optional<Tensor> &cache) {
  Tensor t = std::move(*cache);
  cache.reset();
  return t.uniquelyOwned() ? t : t.clone();
}

int64_t causalQueryStart(const char *op, const Tensor *queryStart, int64_t queries, int64_t keys) {
  if (!queryStart)
    return 0;
  if (queryStart->numel() != 1 || queryStart->dtype() != DType::I64)
    throw makeError(op, ": query_start must be one integer, got ", formatShape(queryStart->shape()));
  int64_t start = queryStart->data<int64_t>()[0];
  if (start < 0 || start + queries > keys)
    throw makeError(op, ": ", queries, " queries from query_start ", start, " do not fit among ",
                    keys, " keys");
  return start;
}

KeyVisibility::KeyVisibility(const char *op, const Tensor *keyMask, int64_t batch, int64_t keys)
    : keys(keys) {
  if (!keyMask)
    return;
  if (keyMask->rank() != 2 || keyMask->dim(0) != batch || keyMask->dim(1) != keys)
    throw makeError(op, ": key_mask ", formatShape(keyMask->shape()), " must be [", batch, ", ",
                    keys, "]");
  Tensor m = keyMask->to(DType::F64);
  const double *p = m.data<double>();
  mask.resize(size_t(batch * keys));
  for (int64_t i = 0; i < batch * keys; ++i)
    mask[i] = p[i] != 0.0;
}

AttentionResult attention(const Tensor &q, const Tensor &k, const Tensor &v, bool causal,
                          double scale, std::optional<Tensor> keyCache,
                          std::optional<Tensor> valueCache, const Tensor *cachePositions,
                          const Tensor *queryStart, const Tensor *keyMask) {
  const char *op = "mm.attention";
  expectRank(q, 4, op, "query");
  expectRank(k, 4, op, "key");
  expectRank(v, 4, op, "value");
  expectSameType(q, k, op);
  expectSameType(q, v, op);
  int64_t B = q.dim(0), Tq = q.dim(1), Hq = q.dim(2), D = q.dim(3);
  int64_t Tk = k.dim(1), Hkv = k.dim(2), Dv = v.dim(3);
  if (k.dim(0) != B || v.dim(0) != B || v.dim(1) != Tk || v.dim(2) != Hkv || k.dim(3) != D ||
      Hkv == 0 || Hq % Hkv)
    throw makeError(op, ": incompatible query ", formatShape(q.shape()), ", key ",
                    formatShape(k.shape()), ", value ", formatShape(v.shape()));
  bool cached = keyCache.has_value();
  if (!cached && causal && !queryStart && Tq != Tk)
    throw makeError(op, ": causal attention needs equal query and key lengths");
  if (queryStart && (cached || !causal))
    throw makeError(op, ": query_start is for causal attention without a cache");
  if (cached && Tq != Tk)
    throw makeError(op, ": with a cache, query and new key lengths must match");
  if (cached && keyMask)
    throw makeError(op, ": key_mask is for attention without a cache");
  const KeyVisibility seen(op, keyMask, B, Tk);

  AttentionResult result;
  Tensor keys = k, values = v;
  // The absolute position of query 0.
  std::vector<int64_t> offset(B, causalQueryStart(op, queryStart, Tq, Tk));
  std::vector<int64_t> written(B, Tk); // number of valid keys
  if (cached) {
    Tensor kc = writable(keyCache), vc = writable(valueCache);
    int64_t S = kc.dim(1);
    if (kc.rank() != 4 || vc.rank() != 4 || kc.dim(0) != B || vc.dim(0) != B || vc.dim(1) != S ||
        kc.dim(2) != Hkv || vc.dim(2) != Hkv || kc.dim(3) != D || vc.dim(3) != Dv ||
        cachePositions->numel() != B)
      throw makeError(op, ": caches ", formatShape(kc.shape()), " / ", formatShape(vc.shape()),
                      " do not match the keys");
    const int64_t *pos = cachePositions->data<int64_t>();
    withFloat(q, op, [&](auto tag) {
      using F = decltype(tag);
      for (int64_t b = 0; b < B; ++b) {
        if (pos[b] < 0 || pos[b] + Tk > S)
          throw makeError(op, ": writing ", Tk, " tokens at position ", pos[b],
                          " overflows the cache capacity ", S);
        offset[b] = pos[b];
        written[b] = pos[b] + Tk;
        std::copy(k.data<F>() + b * Tk * Hkv * D, k.data<F>() + (b + 1) * Tk * Hkv * D,
                  kc.data<F>() + (b * S + pos[b]) * Hkv * D);
        std::copy(v.data<F>() + b * Tk * Hkv * Dv, v.data<F>() + (b + 1) * Tk * Hkv * Dv,
                  vc.data<F>() + (b * S + pos[b]) * Hkv * Dv);
      }
      return 0;
    });
    keys = kc;
    values = vc;
    result.keyCache = kc;
    result.valueCache = vc;
  }
  int64_t S = keys.dim(1), group = Hq / Hkv;
  result.output = withFloat(q, op, [&](auto tag) {
    using F = decltype(tag);
    Tensor out = Tensor::zeros(q.dtype(), {B, Tq, Hq, Dv});
    const F *pq = q.data<F>(), *pk = keys.data<F>(), *pv = values.data<F>();
    F *po = out.data<F>();
    std::vector<F> scores(S);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < Tq; ++i) {
        int64_t visible = causal ? offset[b] + i + 1 : written[b];
        for (int64_t h = 0; h < Hq; ++h) {
          int64_t kvh = h / group; // grouped-query head mapping
          const F *qv = pq + ((b * Tq + i) * Hq + h) * D;
          F maxScore = -std::numeric_limits<F>::infinity();
          for (int64_t j = 0; j < visible; ++j) {
            scores[j] = seen(b, j) ? dot(qv, pk + ((b * S + j) * Hkv + kvh) * D, D) * F(scale)
                                   : -std::numeric_limits<F>::infinity();
            maxScore = std::max(maxScore, scores[j]);
          }
          if (maxScore == -std::numeric_limits<F>::infinity())
            continue; // every key hidden: the output row stays zero
          F denom = 0;
          for (int64_t j = 0; j < visible; ++j)
            denom += scores[j] = std::exp(scores[j] - maxScore);
          F *o = po + ((b * Tq + i) * Hq + h) * Dv;
          for (int64_t j = 0; j < visible; ++j) {
            F w = scores[j] / denom;
            const F *vv = pv + ((b * S + j) * Hkv + kvh) * Dv;
            for (int64_t d = 0; d < Dv; ++d)
              o[d] += w * vv[d];
          }
        }
      }
    return out;
  });
  return result;
}

} // namespace mm::ref
