//===- HostKernels.h - building blocks of generated host kernels -*- C++ -*-===//
//
// Generated host code (codegen/host/HostCodegen.cpp) is one C++ file per model:
// this header, verbatim, then one `extern "C"` function per mm.kernel that
// instantiates these templates with the kernel's constants and with lambdas
// holding its fused elementwise prologue / epilogue. Everything here mirrors a
// reference kernel (reference/kernels/Reference.h) and is tested against it
// through the generated code. Float data is f32; weights are f32, bf16, or
// int8 with a float32 scale per row (the matrices of gemm and the grouped
// kinds, --weight-dtype int8).
//
// Self-contained on purpose (standard headers only): the generated file is
// compiled by the system compiler when a model is compiled, not with mmc.
//
//===----------------------------------------------------------------------===//
#ifndef MM_HOST_KERNELS_H
#define MM_HOST_KERNELS_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif
#ifdef _OPENMP
#include <omp.h>
#endif

extern "C" {
/// What the runtime passes every kernel: the run-time sizes (B, T, S) and one
/// pointer per operand, inputs then results. A kernel returns 0, or non-zero
/// with a message in `error`.
struct mm_kernel_ctx {
  const int64_t *symbols;
  void *const *operands;
  char *error;
  int64_t error_size;
};
}

namespace mmh {

using bf16 = uint16_t;

inline float load(const float *p, int64_t i) { return p[i]; }
inline int64_t load(const int64_t *p, int64_t i) { return p[i]; }
inline float load(const bf16 *p, int64_t i) {
  uint32_t bits = uint32_t(p[i]) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline float load(const int8_t *p, int64_t i) { return float(p[i]); }

/// A weight stored as int8 with one float32 scale per row of its last dim
/// (weight-only quantization): element (r, k) is q[r * K + k] * scale[r].
/// The buffer holds the rows' int8 values, then the scales from the next
/// 64-byte boundary (runtime/compiled/WeightQuantization.h writes it).
/// Kernels sum x . q in float and scale the sum once per row.
struct q8_rows {
  const int8_t *q;
  const float *scale;
  q8_rows(const void *base, int64_t rows, int64_t K)
      : q(static_cast<const int8_t *>(base)),
        scale(reinterpret_cast<const float *>(static_cast<const char *>(base) +
                                              (rows * K + 63) / 64 * 64)) {}
};
template <typename W> constexpr bool is_q8 = std::is_same_v<std::decay_t<W>, q8_rows>;

/// Row r of a [rows, K] weight, and the factor its dot products take.
template <typename T> inline const T *weight_row(const T *w, int64_t r, int64_t K) {
  return w + r * K;
}
inline const int8_t *weight_row(const q8_rows &w, int64_t r, int64_t K) { return w.q + r * K; }
template <typename W> inline float scaled(const W &w, int64_t r, float dot) {
  if constexpr (is_q8<W>)
    return dot * w.scale[r];
  else
    return dot;
}

inline float silu(float x) { return x / (1.0f + std::exp(-x)); }
inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float gelu(float x) { return 0.5f * x * (1.0f + std::erf(x * 0.70710678118654752f)); }
inline float gelu_tanh(float x) {
  return 0.5f * x * (1.0f + std::tanh(0.79788456080286536f * (x + 0.044715f * x * x * x)));
}

/// x rounded to the nearest bf16 value (ties to even), as a float.
inline float round_bf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u) // inf and NaN stay
    return x;
  bits = (bits + 0x7fffu + ((bits >> 16) & 1)) & 0xffff0000u;
  std::memcpy(&x, &bits, 4);
  return x;
}

/// x rounded to the nearest IEEE half value (ties to even), as a float.
inline float round_f16(float x) {
  if (!std::isfinite(x) || x == 0.0f)
    return x;
  int e = std::ilogb(x);
  float quantum = std::ldexp(1.0f, std::max(e, -14) - 10);
  float r = std::nearbyint(x / quantum) * quantum;
  return std::fabs(r) > 65504.0f ? std::copysign(INFINITY, x) : r;
}

/// e^x for x <= 0 (max-subtracted softmax and log-sum-exp terms), within
/// 3 ulp of expf, with no libm call so that loops over it vectorise:
/// x = n ln 2 + r with |r| <= ln 2 / 2, e^r by its degree-6 Taylor polynomial
/// (remainder below 2^-27), and 2^n put in the exponent bits. Below -87 (where
/// expf leaves the normal range) it returns 0. A NaN argument gives an
/// unspecified value (a NaN check would stop the vectorisation): callers
/// check their inputs for NaN.
inline float exp_nonpositive(float x) {
  float xc = x > -88.0f ? x : -88.0f; // keeps -inf and NaN out of the integer n
  // Round to nearest by adding and subtracting 1.5 * 2^23 (no libm call).
  float n = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  float r = std::fma(n, -0.693145751953125f, xc); // ln 2, split for an exact product
  r = std::fma(n, -1.42860682030941723212e-6f, r);
  float p = 1.0f / 720;
  p = std::fma(p, r, 1.0f / 120);
  p = std::fma(p, r, 1.0f / 24);
  p = std::fma(p, r, 1.0f / 6);
  p = std::fma(p, r, 0.5f);
  p = std::fma(p, r, 1.0f);
  p = std::fma(p, r, 1.0f);
  int32_t bits = (int32_t(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, 4);
  return x < -87.0f ? 0.0f : p * scale;
}

inline int fail(const mm_kernel_ctx *c, const char *message) {
  std::snprintf(c->error, static_cast<size_t>(c->error_size), "%s", message);
  return 1;
}

//===--- dot products -----------------------------------------------------===//

#if defined(__AVX512F__)
/// Widens 32 weights of row `b` from k on into two 16-lane float vectors.
template <typename W> inline void load32(const W *b, int64_t k, __m512 &b0, __m512 &b1) {
  if constexpr (sizeof(W) == 4) {
    b0 = _mm512_loadu_ps(reinterpret_cast<const float *>(b) + k);
    b1 = _mm512_loadu_ps(reinterpret_cast<const float *>(b) + k + 16);
  } else if constexpr (sizeof(W) == 1) { // int8: widened exactly to float
    __m128i q0 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(b + k));
    __m128i q1 = _mm_loadu_si128(reinterpret_cast<const __m128i *>(b + k + 16));
    b0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q0));
    b1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(q1));
  } else {
    __m256i h0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + k));
    __m256i h1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(b + k + 16));
    b0 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h0), 16));
    b1 = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h1), 16));
  }
}
#endif

/// MR x R dot products: rows a[0..MR) with rows b[0..R), out[i][r] =
/// a[i] . b[r]. Every product is summed the same way whatever MR and R (so
/// one result never depends on its neighbours, and decode equals prefill): 2
/// x 16-lane partial sums on AVX-512, 4 scalar ones elsewhere. The tile
/// shares each load (and widening) of a weight row among the MR rows of a,
/// and each load of a among the R weight rows.
template <int MR, int R, typename W>
inline void dot_tile(const float *const *a, const W *const *b, int64_t n, float (*out)[R]) {
#if defined(__AVX512F__)
  __m512 acc0[MR][R], acc1[MR][R];
  for (int i = 0; i < MR; ++i)
    for (int r = 0; r < R; ++r)
      acc0[i][r] = acc1[i][r] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 32 <= n; k += 32) {
    __m512 a0[MR], a1[MR];
    for (int i = 0; i < MR; ++i) {
      a0[i] = _mm512_loadu_ps(a[i] + k);
      a1[i] = _mm512_loadu_ps(a[i] + k + 16);
    }
    // Narrow weights take more instructions per byte, so fewer of their
    // cache misses are in flight: decode pulled int8 rows from memory at
    // half float32's bytes per second. Asking 4 KiB ahead closes most of it.
    if constexpr (sizeof(W) < 4)
      for (int r = 0; r < R; ++r)
        _mm_prefetch(reinterpret_cast<const char *>(reinterpret_cast<uintptr_t>(b[r] + k) + 4096),
                     _MM_HINT_T0); // a hint: past the end of the rows is harmless
    for (int r = 0; r < R; ++r) {
      __m512 b0, b1;
      load32(b[r], k, b0, b1);
      for (int i = 0; i < MR; ++i) {
        acc0[i][r] = _mm512_fmadd_ps(a0[i], b0, acc0[i][r]);
        acc1[i][r] = _mm512_fmadd_ps(a1[i], b1, acc1[i][r]);
      }
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int r = 0; r < R; ++r) {
      float s = _mm512_reduce_add_ps(_mm512_add_ps(acc0[i][r], acc1[i][r]));
      for (int64_t t = k; t < n; ++t)
        s += a[i][t] * load(b[r], t);
      out[i][r] = s;
    }
#else
  for (int i = 0; i < MR; ++i)
    for (int r = 0; r < R; ++r) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      int64_t k = 0;
      for (; k + 4 <= n; k += 4) {
        s0 += a[i][k] * load(b[r], k);
        s1 += a[i][k + 1] * load(b[r], k + 1);
        s2 += a[i][k + 2] * load(b[r], k + 2);
        s3 += a[i][k + 3] * load(b[r], k + 3);
      }
      for (; k < n; ++k)
        s0 += a[i][k] * load(b[r], k);
      out[i][r] = (s0 + s1) + (s2 + s3);
    }
#endif
}

/// R dot products of one row `a` with rows b[0..R) (dot_tile with MR = 1).
template <int R, typename W>
inline void dots(const float *a, const W *const *b, int64_t n, float *out) {
  dot_tile<1, R>(&a, b, n, reinterpret_cast<float(*)[R]>(out));
}

/// For rows r in [begin, end) of x ([*, K] row-major): each(r, sums) with
/// sums[j] = x[r] . rows[j], two rows of x per tile.
template <typename Row, typename Each>
inline void dot_rows(const float *x, int64_t K, int64_t begin, int64_t end, const Row (&rows)[4],
                     Each each) {
  int64_t r = begin;
  for (; r + 2 <= end; r += 2) {
    const float *xs[2] = {x + r * K, x + (r + 1) * K};
    float sums[2][4];
    dot_tile<2, 4>(xs, rows, K, sums);
    each(r, sums[0]);
    each(r + 1, sums[1]);
  }
  if (r < end) {
    float sums[4];
    dots<4>(x + r * K, rows, K, sums);
    each(r, sums);
  }
}

/// sum_k a[k] * b[k] in float, vectorised.
template <typename W> inline float dot(const float *a, const W *b, int64_t n) {
  float out;
  dots<1>(a, &b, n, &out);
  return out;
}

//===--- GEMM with a fused epilogue ---------------------------------------===//

/// For every (m, n): epilogue(m, n, sum_k x[m, k] * w[n, k]). x is [M, K]
/// row-major, w is [N, K] (a linear layer's weight). The work splits over n
/// across threads (decode has M = 1).
///
/// Many rows (prefill, vision towers, training batches) would re-read all of
/// x for every weight row, so x goes in blocks of rows that stay in L2, and
/// four weight rows share each load of x (`dots`). Each (m, n) is still
/// dot()'s sum: the blocking changes no result, decode or prefill. `w` is a
/// pointer to f32 or bf16 rows, or a q8_rows.
template <typename W, typename Epilogue>
inline void gemm(const float *x, int64_t M, int64_t K, W w, int64_t N, Epilogue epilogue) {
  const int64_t blockRows = std::max<int64_t>(1, (int64_t(1) << 19) / std::max<int64_t>(1, K * 4));
  const int64_t groups = (N + 3) / 4;
  for (int64_t m0 = 0; m0 < M; m0 += blockRows) {
    const int64_t m1 = std::min(M, m0 + blockRows);
#pragma omp parallel for schedule(static) if (M * N * K > (1 << 15))
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t n0 = g * 4, count = std::min<int64_t>(4, N - n0);
      decltype(weight_row(w, 0, K)) rows[4];
      for (int64_t i = 0; i < 4; ++i)
        rows[i] = weight_row(w, std::min(n0 + i, N - 1), K); // a short group repeats its last row
      dot_rows(x, K, m0, m1, rows, [&](int64_t m, const float *out) {
        for (int64_t i = 0; i < count; ++i)
          epilogue(m, n0 + i, scaled(w, n0 + i, out[i]));
      });
    }
  }
}

//===--- RMSNorm with prologue and epilogue -------------------------------===//

/// For each of `rows` rows of width N: v_i = prologue(row, i); then
/// epilogue(row, i, g_i * v_i / sqrt(mean(v^2) + eps)).
template <typename W, typename Prologue, typename Epilogue>
inline void rms_norm(int64_t rows, int64_t N, float eps, const W *g, Prologue prologue,
                     Epilogue epilogue) {
#pragma omp parallel if (rows * N > (1 << 15))
  {
    std::vector<float> v(N);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < N; ++i)
        v[i] = prologue(r, i);
      float inv = 1.0f / std::sqrt(dot(v.data(), v.data(), N) / float(N) + eps);
      for (int64_t i = 0; i < N; ++i)
        epilogue(r, i, load(g, i) * (v[i] * inv));
    }
  }
}

//===--- lookups ----------------------------------------------------------===//

/// `table` holds rows [first, first + rows) of a `vocab`-row vocabulary
/// (all of it unless vocab parallel): other ids give zero rows.
template <typename W>
inline int embedding(const mm_kernel_ctx *c, const W *table, int64_t rows, int64_t D,
                     const int64_t *ids, int64_t n, float *out, int64_t first = 0,
                     int64_t vocab = -1) {
  if (vocab < 0)
    vocab = rows;
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      std::snprintf(c->error, size_t(c->error_size),
                    "mm.embedding: token id %lld is outside the vocabulary [0, %lld)",
                    (long long)ids[i], (long long)vocab);
      return 1;
    }
    const int64_t row = ids[i] - first;
    for (int64_t d = 0; d < D; ++d)
      out[i * D + d] = row >= 0 && row < rows ? load(table, row * D + d) : 0.0f;
  }
  return 0;
}

/// out[b, :] = x[b, index[b], :] for x [B, T, D] (gather dim 1, batch_dims 1).
inline int gather_rows(const mm_kernel_ctx *c, const float *x, int64_t B, int64_t T, int64_t D,
                       const int64_t *index, float *out) {
  for (int64_t b = 0; b < B; ++b) {
    if (index[b] < 0 || index[b] >= T)
      return fail(c, "mm.gather: index outside the sequence");
    std::memcpy(out + b * D, x + (b * T + index[b]) * D, size_t(D) * 4);
  }
  return 0;
}

//===--- attention --------------------------------------------------------===//

/// Rotate-half RoPE of the first `rotary` dims of one head vector, in place.
inline void rope(float *x, int64_t rotary, double theta, int64_t position) {
  int64_t half = rotary / 2;
  for (int64_t i = 0; i < half; ++i) {
    double a = double(position) * std::pow(theta, -2.0 * double(i) / double(rotary));
    float c = float(std::cos(a)), s = float(std::sin(a));
    float x1 = x[i], x2 = x[i + half];
    x[i] = x1 * c - x2 * s;
    x[i + half] = x2 * c + x1 * s;
  }
}

/// Grouped-query attention against a KV cache [B, S, Hkv, D]: writes the T new
/// keys (RoPE'd when rotary > 0) and values at cache_pos[b], then attends
/// query i (absolute position cache_pos[b] + i) to every cached key up to it.
/// q, k, v are [B, T, H*, D]; positions [B, T] feed RoPE.
inline int attention(const mm_kernel_ctx *c, const float *q, const float *k, const float *v,
                     const int64_t *positions, float *kc, float *vc, const int64_t *cache_pos,
                     int64_t B, int64_t T, int64_t S, int64_t Hq, int64_t Hkv, int64_t D,
                     int64_t rotary, double theta, float scale, bool causal, float *out) {
  for (int64_t b = 0; b < B; ++b)
    if (cache_pos[b] < 0 || cache_pos[b] + T > S) {
      std::snprintf(c->error, size_t(c->error_size),
                    "mm.attention: writing %lld tokens at position %lld overflows the cache "
                    "capacity %lld",
                    (long long)T, (long long)cache_pos[b], (long long)S);
      return 1;
    }
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < Hkv; ++h) {
        float *kd = kc + ((b * S + cache_pos[b] + t) * Hkv + h) * D;
        std::memcpy(kd, k + ((b * T + t) * Hkv + h) * D, size_t(D) * 4);
        if (rotary > 0)
          rope(kd, rotary, theta, positions[b * T + t]);
        std::memcpy(vc + ((b * S + cache_pos[b] + t) * Hkv + h) * D,
                    v + ((b * T + t) * Hkv + h) * D, size_t(D) * 4);
      }
  int64_t group = Hq / Hkv;
#pragma omp parallel if (B * T * Hq > 4 && B * T * Hq * S * D > (1 << 15)) // (as lightning's)
  {
    std::vector<float> qv(D), scores(S), acc(D);
#pragma omp for collapse(3) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t h = 0; h < Hq; ++h) {
          std::memcpy(qv.data(), q + ((b * T + t) * Hq + h) * D, size_t(D) * 4);
          if (rotary > 0)
            rope(qv.data(), rotary, theta, positions[b * T + t]);
          int64_t visible = causal ? cache_pos[b] + t + 1 : cache_pos[b] + T;
          int64_t kvh = h / group;
          float mx = -INFINITY;
          for (int64_t j = 0; j < visible; ++j) {
            scores[j] = dot(qv.data(), kc + ((b * S + j) * Hkv + kvh) * D, D) * scale;
            mx = std::max(mx, scores[j]);
          }
          float denom = 0;
          for (int64_t j = 0; j < visible; ++j)
            denom += scores[j] = std::exp(scores[j] - mx);
          std::fill(acc.begin(), acc.end(), 0.0f);
          for (int64_t j = 0; j < visible; ++j) {
            const float *vj = vc + ((b * S + j) * Hkv + kvh) * D;
            float wj = scores[j] / denom;
            for (int64_t d = 0; d < D; ++d)
              acc[d] += wj * vj[d];
          }
          std::memcpy(out + ((b * T + t) * Hq + h) * D, acc.data(), size_t(D) * 4);
        }
  }
  return 0;
}

//===--- lightning attention ----------------------------------------------===//

/// MiniMax lightning attention, block-wise (see reference/kernels/Lightning.cpp):
/// q/k/v rows of (b, t, h) start at base + (b * T + t) * tokenStride + h *
/// headStride (so q, k and v can be read straight out of the interleaved qkv
/// projection); state [B, H, D, D] is updated in place; out is [B, T, H, D].
/// Tokens at or past lengths[b] are skipped (their outputs are zero).
inline int lightning(const mm_kernel_ctx *c, const float *q, const float *k, const float *v,
                     int64_t tokenStride, int64_t headStride, float *state, const int64_t *lengths,
                     int64_t B, int64_t T, int64_t H, int64_t D, int64_t block,
                     const double *slopes, float *out) {
  for (int64_t b = 0; b < B; ++b)
    if (lengths && (lengths[b] < 0 || lengths[b] > T))
      return fail(c, "mm.lightning_attention: a sequence length is outside [0, T]");
  // Threads only for work that pays for waking them: a decode step of a
  // small model's few heads runs faster alone, and a busy machine can
  // deschedule a woken thread for a whole time slice.
#pragma omp parallel if (B * H > 1 && B * H * T * D * D > (1 << 15))
  {
    std::vector<float> decay(block + 1), qk(block), kv(D * D);
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        int64_t len = lengths ? lengths[b] : T;
        for (int64_t n = 0; n <= block; ++n)
          decay[n] = float(std::exp(-slopes[h] * double(n)));
        float *S = state + (b * H + h) * D * D;
        auto row = [&](const float *base, int64_t t) {
          return base + (b * T + t) * tokenStride + h * headStride;
        };
        float *o = out + (b * T * H + h) * D;
        for (int64_t t = len; t < T; ++t)
          std::fill(o + t * H * D, o + t * H * D + D, 0.0f);
        for (int64_t start = 0; start < len; start += block) {
          int64_t m = std::min(block, len - start);
          for (int64_t i = 0; i < m; ++i) {
            const float *qi = row(q, start + i);
            float *oi = o + (start + i) * H * D;
            for (int64_t e = 0; e < D; ++e)
              oi[e] = 0;
            for (int64_t d = 0; d < D; ++d) { // inter: lambda^(i+1) q_i^T S
              float qd = qi[d] * decay[i + 1];
              const float *Sd = S + d * D;
              for (int64_t e = 0; e < D; ++e)
                oi[e] += qd * Sd[e];
            }
            for (int64_t j = 0; j <= i; ++j) // intra: lambda^(i-j) (q_i . k_j) v_j
              qk[j] = decay[i - j] * dot(qi, row(k, start + j), D);
            for (int64_t j = 0; j <= i; ++j) {
              const float *vj = row(v, start + j);
              for (int64_t e = 0; e < D; ++e)
                oi[e] += qk[j] * vj[e];
            }
          }
          // S <- lambda^m S + sum_j lambda^(m-1-j) k_j v_j^T
          std::fill(kv.begin(), kv.end(), 0.0f);
          for (int64_t j = 0; j < m; ++j) {
            const float *kj = row(k, start + j), *vj = row(v, start + j);
            float w = decay[m - 1 - j];
            for (int64_t d = 0; d < D; ++d) {
              float kd = w * kj[d];
              for (int64_t e = 0; e < D; ++e)
                kv[d * D + e] += kd * vj[e];
            }
          }
          for (int64_t x = 0; x < D * D; ++x)
            S[x] = decay[m] * S[x] + kv[x];
        }
      }
  }
  return 0;
}

//===--- mixture of experts -----------------------------------------------===//

/// Softmax over E experts (in float), top-k (ties: lower index), renormalise.
inline void moe_router(const float *logits, int64_t N, int64_t E, int64_t topk, bool renormalize,
                       float *weights, int64_t *indices) {
  std::vector<float> p(E);
  std::vector<int64_t> order(E);
  for (int64_t t = 0; t < N; ++t) {
    const float *row = logits + t * E;
    float mx = *std::max_element(row, row + E), sum = 0;
    for (int64_t e = 0; e < E; ++e)
      sum += p[e] = std::exp(row[e] - mx);
    for (int64_t e = 0; e < E; ++e)
      p[e] /= sum;
    for (int64_t e = 0; e < E; ++e)
      order[e] = e;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
    float chosen = 0;
    for (int64_t j = 0; j < topk; ++j)
      chosen += p[order[j]];
    for (int64_t j = 0; j < topk; ++j) {
      indices[t * topk + j] = order[j];
      weights[t * topk + j] = renormalize ? p[order[j]] / chosen : p[order[j]];
    }
  }
}

/// Rows of x copied per (token, slot), sorted by expert (stable).
inline int moe_dispatch(const mm_kernel_ctx *c, const float *x, int64_t N, int64_t D,
                        const int64_t *indices, int64_t topk, int64_t E, float *rows,
                        int64_t *offsets, int64_t *order) {
  std::vector<int64_t> count(E, 0);
  for (int64_t s = 0; s < N * topk; ++s) {
    if (indices[s] < 0 || indices[s] >= E)
      return fail(c, "mm.moe_dispatch: an expert index is out of range");
    ++count[indices[s]];
  }
  offsets[0] = 0;
  for (int64_t e = 0; e < E; ++e)
    offsets[e + 1] = offsets[e] + count[e];
  std::vector<int64_t> next(offsets, offsets + E);
  for (int64_t s = 0; s < N * topk; ++s)
    order[next[indices[s]]++] = s;
  for (int64_t r = 0; r < N * topk; ++r)
    std::memcpy(rows + r * D, x + (order[r] / topk) * D, size_t(D) * 4);
  return 0;
}

/// Weight rows [n0, n0 + 4) of expert e's [N, K] block, a short group
/// repeating its last row (as gemm's groups).
template <typename W>
inline void expert_rows(const W &w, int64_t e, int64_t n0, int64_t N, int64_t K,
                        decltype(weight_row(w, 0, K)) (&rows)[4]) {
  for (int64_t i = 0; i < 4; ++i)
    rows[i] = weight_row(w, e * N + std::min(n0 + i, N - 1), K);
}

/// body(e, n0, count) for every group of four output columns [n0, n0 +
/// count) of every expert e that has rows, in one parallel loop: decode
/// wakes the threads once per kernel, not once per expert. It runs threaded
/// above `threshold` multiply-adds.
template <typename Body>
inline void for_expert_groups(const int64_t *offsets, int64_t E, int64_t N, int64_t K,
                              int64_t threshold, Body body) {
  std::vector<int64_t> active;
  int64_t work = 0;
  for (int64_t e = 0; e < E; ++e)
    if (offsets[e + 1] > offsets[e]) {
      active.push_back(e);
      work += (offsets[e + 1] - offsets[e]) * N * K;
    }
  const int64_t groups = (N + 3) / 4, items = int64_t(active.size()) * groups;
#pragma omp parallel for schedule(static) if (work > threshold)
  for (int64_t t = 0; t < items; ++t) {
    const int64_t n0 = t % groups * 4;
    body(active[t / groups], n0, std::min<int64_t>(4, N - n0));
  }
}

/// For rows r of expert e: epilogue(r, n, x[r] . w[e, n]). Four weight rows
/// share each load of x (`dots`), as in gemm; every element is still dot()'s
/// sum. One parallel loop covers every expert that has rows: decode wakes the
/// threads once per kernel, not once per expert.
template <typename W, typename Epilogue>
inline void grouped_gemm(const float *x, int64_t M, int64_t K, W w, int64_t N,
                         const int64_t *offsets, int64_t E, Epilogue epilogue) {
  // Rows of no expert here (a rank's block of experts) are zero products.
  for (auto [begin, end] : {std::pair(int64_t(0), offsets[0]), std::pair(offsets[E], M)})
    for (int64_t r = begin; r < end; ++r)
      for (int64_t n = 0; n < N; ++n)
        epilogue(r, n, 0.0f);
  for_expert_groups(offsets, E, N, K, 1 << 15, [&](int64_t e, int64_t n0, int64_t count) {
    decltype(weight_row(w, 0, K)) rows[4];
    expert_rows(w, e, n0, N, K, rows);
    dot_rows(x, K, offsets[e], offsets[e + 1], rows, [&](int64_t r, const float *sums) {
      for (int64_t i = 0; i < count; ++i)
        epilogue(r, n0 + i, scaled(w, e * N + n0 + i, sums[i]));
    });
  });
}

/// silu(x W1_e^T) * (x W3_e^T) for every dispatched row, both GEMMs in one
/// pass, four rows of each weight at a time (one parallel loop, as above).
template <typename W1, typename W3>
inline void grouped_gemm_swiglu(const float *x, int64_t M, int64_t K, W1 w1, W3 w3, int64_t N,
                                const int64_t *offsets, int64_t E, float *out) {
  // Rows of no expert here: silu(0) * 0.
  std::fill(out, out + offsets[0] * N, 0.0f);
  std::fill(out + offsets[E] * N, out + M * N, 0.0f);
  for_expert_groups(offsets, E, N, K, 1 << 14, [&](int64_t e, int64_t n0, int64_t count) {
    decltype(weight_row(w1, 0, K)) gate[4];
    decltype(weight_row(w3, 0, K)) up[4];
    expert_rows(w1, e, n0, N, K, gate);
    expert_rows(w3, e, n0, N, K, up);
    int64_t r = offsets[e];
    auto store = [&](int64_t row, const float *a, const float *b) {
      for (int64_t i = 0; i < count; ++i) {
        const int64_t wrow = e * N + n0 + i;
        out[row * N + n0 + i] = silu(scaled(w1, wrow, a[i])) * scaled(w3, wrow, b[i]);
      }
    };
    for (; r + 2 <= offsets[e + 1]; r += 2) { // two rows of x per tile
      const float *xs[2] = {x + r * K, x + (r + 1) * K};
      float a[2][4], b[2][4];
      dot_tile<2, 4>(xs, gate, K, a);
      dot_tile<2, 4>(xs, up, K, b);
      store(r, a[0], b[0]);
      store(r + 1, a[1], b[1]);
    }
    if (r < offsets[e + 1]) {
      float a[4], b[4];
      dots<4>(x + r * K, gate, K, a);
      dots<4>(x + r * K, up, K, b);
      store(r, a, b);
    }
  });
}

/// epilogue(t, d, sum_j weights[t, j] * y[row of slot t * k + j, d]), in slot order.
template <typename Epilogue>
inline int moe_combine(const mm_kernel_ctx *c, const float *y, const int64_t *order,
                       const float *weights, int64_t N, int64_t topk, int64_t D,
                       Epilogue epilogue) {
  std::vector<int64_t> rowOf(N * topk, -1);
  for (int64_t r = 0; r < N * topk; ++r) {
    if (order[r] < 0 || order[r] >= N * topk || rowOf[order[r]] != -1)
      return fail(c, "mm.moe_combine: token_order is not a permutation");
    rowOf[order[r]] = r;
  }
#pragma omp parallel for schedule(static) if (N * D > (1 << 14))
  for (int64_t t = 0; t < N; ++t)
    for (int64_t d = 0; d < D; ++d) {
      float acc = 0;
      for (int64_t j = 0; j < topk; ++j)
        acc += weights[t * topk + j] * y[rowOf[t * topk + j] * D + d];
      epilogue(t, d, acc);
    }
  return 0;
}

//===--- copies: transpose, slice, concat ---------------------------------===//

/// Row-major strides of `shape`.
inline void row_major_strides(const int64_t *shape, int rank, int64_t *strides) {
  int64_t s = 1;
  for (int k = rank - 1; k >= 0; --k) {
    strides[k] = s;
    s *= shape[k];
  }
}

/// For every index c of `shape`: out[out_offset + c . out_strides] =
/// in[in_offset + c . in_strides] (bf16 weights widen as they are read).
template <typename In, typename Out>
inline void strided_copy(const In *in, int64_t in_offset, const int64_t *in_strides, Out *out,
                         int64_t out_offset, const int64_t *out_strides, const int64_t *shape,
                         int rank) {
  int64_t n = 1;
  for (int k = 0; k < rank; ++k)
    n *= shape[k];
#pragma omp parallel for schedule(static) if (n > (1 << 16))
  for (int64_t i = 0; i < n; ++i) {
    int64_t rest = i, src = in_offset, dst = out_offset;
    for (int k = rank - 1; k >= 0; --k) {
      int64_t c = rest % shape[k];
      rest /= shape[k];
      src += c * in_strides[k];
      dst += c * out_strides[k];
    }
    out[dst] = load(in, src);
  }
}

/// out = in transposed: out.shape[k] = in.shape[perm[k]].
template <typename In, typename Out>
inline void transpose(const In *in, const int64_t *in_shape, int rank, const int64_t *perm,
                      Out *out) {
  int64_t in_strides[16], shape[16], src[16], dst[16];
  row_major_strides(in_shape, rank, in_strides);
  for (int k = 0; k < rank; ++k) {
    shape[k] = in_shape[perm[k]];
    src[k] = in_strides[perm[k]];
  }
  row_major_strides(shape, rank, dst);
  strided_copy(in, 0, src, out, 0, dst, shape, rank);
}

/// Python's in[..., start:end:step, ...] on `dim` (step > 0; has_end false:
/// to the end). Returns the length taken, which must match the result type.
template <typename In, typename Out>
inline int slice(const mm_kernel_ctx *c, const In *in, const int64_t *in_shape, int rank, int dim,
                 int64_t start, bool has_end, int64_t end, int64_t step, int64_t want, Out *out) {
  int64_t n = in_shape[dim];
  start = start < 0 ? std::max<int64_t>(start + n, 0) : std::min(start, n);
  end = !has_end ? n : end < 0 ? std::max<int64_t>(end + n, 0) : std::min(end, n);
  int64_t len = end > start ? (end - start + step - 1) / step : 0;
  if (len != want) {
    std::snprintf(c->error, size_t(c->error_size),
                  "mm.slice: takes %lld of %lld elements, the result type has %lld", (long long)len,
                  (long long)n, (long long)want);
    return 1;
  }
  int64_t in_strides[16], shape[16], src[16], dst[16];
  row_major_strides(in_shape, rank, in_strides);
  for (int k = 0; k < rank; ++k) {
    shape[k] = k == dim ? len : in_shape[k];
    src[k] = k == dim ? in_strides[k] * step : in_strides[k];
  }
  row_major_strides(shape, rank, dst);
  strided_copy(in, start * in_strides[dim], src, out, 0, dst, shape, rank);
  return 0;
}

/// Copies `in` into `out` (of `out_shape`) at `offset` along `dim`: one
/// operand of a concatenation.
template <typename In, typename Out>
inline void copy_into(const In *in, const int64_t *in_shape, int rank, Out *out,
                      const int64_t *out_shape, int dim, int64_t offset) {
  int64_t src[16], dst[16];
  row_major_strides(in_shape, rank, src);
  row_major_strides(out_shape, rank, dst);
  strided_copy(in, 0, src, out, offset * dst[dim], dst, in_shape, rank);
}

//===--- reductions -------------------------------------------------------===//

enum reduce_kind { reduce_sum, reduce_mean, reduce_max, reduce_min, reduce_prod };

/// Reduces `in` over the dims flagged in `reduced` (the result drops or keeps
/// them: same element order either way). Float sums accumulate in double.
template <typename T>
inline void reduce(reduce_kind kind, const T *in, const int64_t *shape, int rank,
                   const bool *reduced, T *out) {
  using Acc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;
  int64_t strides[16], keptSize[16], keptStride[16], redSize[16], redStride[16];
  row_major_strides(shape, rank, strides);
  int kept = 0, red = 0;
  int64_t outer = 1, count = 1;
  for (int k = 0; k < rank; ++k) {
    if (reduced[k]) {
      redSize[red] = shape[k];
      redStride[red++] = strides[k];
      count *= shape[k];
    } else {
      keptSize[kept] = shape[k];
      keptStride[kept++] = strides[k];
      outer *= shape[k];
    }
  }
  // The reduced dims trailing (the common case): each output reads one
  // contiguous run, without the index arithmetic below.
  bool trailing = true;
  for (int k = 0; k < rank; ++k)
    trailing = trailing && (reduced[k] || k < rank - red);
  auto combine = [kind](Acc acc, Acc v, bool first) -> Acc {
    if (first && (kind == reduce_max || kind == reduce_min))
      return v;
    switch (kind) {
    case reduce_sum:
    case reduce_mean:
      return acc + v;
    case reduce_prod:
      return acc * v;
    case reduce_max:
      return (v > acc || v != v) ? v : acc; // NaN propagates
    case reduce_min:
      return (v < acc || v != v) ? v : acc;
    }
    return acc;
  };
  // The reduced dims leading (a bias or norm-weight gradient's sum over the
  // rows): row r's `outer` values are contiguous, so each output takes its
  // terms in the same order (r ascending) as below, while rows are read
  // in turn, without a division per element. Threads own slices of outputs.
  bool leading = true;
  for (int k = 0; k < rank; ++k)
    leading = leading && (!reduced[k] || k < red);
  if (leading && red > 0 && kept > 0) {
#pragma omp parallel if (outer * count > (1 << 16))
    {
#ifdef _OPENMP
      int threads = omp_get_num_threads(), t = omp_get_thread_num();
#else
      int threads = 1, t = 0;
#endif
      int64_t begin = outer * t / threads, end = outer * (t + 1) / threads;
      std::vector<Acc> acc(size_t(end - begin), kind == reduce_prod ? Acc(1) : Acc(0));
      for (int64_t r = 0; r < count; ++r) {
        const T *row = in + r * outer;
        for (int64_t o = begin; o < end; ++o)
          acc[size_t(o - begin)] = combine(acc[size_t(o - begin)], Acc(row[o]), r == 0);
      }
      for (int64_t o = begin; o < end; ++o)
        out[o] =
            T(kind == reduce_mean ? acc[size_t(o - begin)] / Acc(count) : acc[size_t(o - begin)]);
    }
    return;
  }
#pragma omp parallel for schedule(static) if (outer * count > (1 << 16))
  for (int64_t o = 0; o < outer; ++o) {
    int64_t base = 0, rest = o;
    for (int k = kept - 1; k >= 0; --k) {
      base += (rest % keptSize[k]) * keptStride[k];
      rest /= keptSize[k];
    }
    Acc acc = kind == reduce_prod ? Acc(1) : Acc(0);
    if (trailing) {
      for (int64_t r = 0; r < count; ++r)
        acc = combine(acc, Acc(in[base + r]), r == 0);
    } else {
      for (int64_t r = 0; r < count; ++r) {
        int64_t at = base, left = r;
        for (int k = red - 1; k >= 0; --k) {
          at += (left % redSize[k]) * redStride[k];
          left /= redSize[k];
        }
        acc = combine(acc, Acc(in[at]), r == 0);
      }
    }
    out[o] = T(kind == reduce_mean ? acc / Acc(count) : acc);
  }
}

/// The parts of a log-sum-exp over n values at stride 1: their maximum and
/// sum_j e^(row[j] - max), the terms vectorised in float, the sum in double.
/// Both are NaN when a value is NaN or every value is -inf (0 / 0, as in the
/// reference).
struct exp_sum_parts {
  float max;
  double sum;
};
inline exp_sum_parts exp_sum(const float *row, int64_t n) {
  float max = -INFINITY;
  bool nan = false;
  for (int64_t j = 0; j < n; ++j) {
    max = std::max(max, row[j]);
    nan |= row[j] != row[j];
  }
  if (nan || max == -INFINITY) // the fast exp below does not propagate NaN
    return {NAN, NAN};
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int64_t j = 0; j < n; ++j)
    sum += exp_nonpositive(row[j] - max);
  return {max, sum};
}

/// One (log_)softmax over n values at stride 1 (the vectorised path).
inline void softmax_row(const float *row, int64_t n, bool log, float *dst) {
  exp_sum_parts lse = exp_sum(row, n);
  const float max = lse.max;
  const double sum = lse.sum;
  if (sum != sum) {
    for (int64_t j = 0; j < n; ++j)
      dst[j] = NAN;
    return;
  }
  float logSum = float(std::log(sum)), inv = float(1.0 / sum);
  if (log) {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j)
      dst[j] = row[j] - max - logSum;
  } else {
#pragma omp simd
    for (int64_t j = 0; j < n; ++j)
      dst[j] = exp_nonpositive(row[j] - max) * inv;
  }
}

/// (log_)softmax along the middle axis of [outer, len, inner], max-subtracted.
inline void softmax(const float *x, int64_t outer, int64_t len, int64_t inner, bool log,
                    float *out) {
  if (inner == 1) {
#pragma omp parallel for schedule(static) if (outer * len > (1 << 16))
    for (int64_t o = 0; o < outer; ++o)
      softmax_row(x + o * len, len, log, out + o * len);
    return;
  }
#pragma omp parallel if (outer * len * inner > (1 << 16))
  {
    std::vector<float> row(len), dst(len);
#pragma omp for collapse(2) schedule(static)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        for (int64_t j = 0; j < len; ++j)
          row[j] = x[(o * len + j) * inner + i];
        softmax_row(row.data(), len, log, dst.data());
        for (int64_t j = 0; j < len; ++j)
          out[(o * len + j) * inner + i] = dst[j];
      }
  }
}

//===--- batched matmul and LayerNorm -------------------------------------===//

/// out[..., m, n] = sum_k a[..., m, k] * b[..., k, n] (a stored [..., K, M]
/// when ta, b stored [..., N, K] when tb); batch dims broadcast as in NumPy.
template <typename A, typename B>
inline void matmul(const A *a, const int64_t *a_shape, int a_rank, bool ta, const B *b,
                   const int64_t *b_shape, int b_rank, bool tb, float *out,
                   const int64_t *out_shape, int out_rank) {
  const int64_t M = out_shape[out_rank - 2], N = out_shape[out_rank - 1];
  const int64_t K = ta ? a_shape[a_rank - 2] : a_shape[a_rank - 1];
  int batch_rank = out_rank - 2;
  int64_t batches = 1;
  for (int k = 0; k < batch_rank; ++k)
    batches *= out_shape[k];
#pragma omp parallel for collapse(2) schedule(static) if (batches * M * N * K > (1 << 16))
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t m = 0; m < M; ++m) {
      // The batch offsets of a and b: right-aligned, size-1 dims broadcast.
      int64_t a_off = 0, b_off = 0, a_stride = M * K, b_stride = K * N, rest = bi;
      for (int k = batch_rank - 1; k >= 0; --k) {
        int64_t c = rest % out_shape[k];
        rest /= out_shape[k];
        int ak = k - (out_rank - a_rank), bk = k - (out_rank - b_rank);
        if (ak >= 0) {
          a_off += (a_shape[ak] == 1 ? 0 : c) * a_stride;
          a_stride *= a_shape[ak];
        }
        if (bk >= 0) {
          b_off += (b_shape[bk] == 1 ? 0 : c) * b_stride;
          b_stride *= b_shape[bk];
        }
      }
      float *row = out + (bi * M + m) * N;
      if constexpr (std::is_same_v<A, float>)
        if (!ta && tb) { // both operands contiguous along k: vectorised dot products
          for (int64_t n = 0; n < N; ++n)
            row[n] = dot(a + a_off + m * K, b + b_off + n * K, K);
          continue;
        }
      if (!tb) { // rows of b are contiguous along n: accumulate a[m, k] * b[k, :]
        std::fill(row, row + N, 0.0f);
        for (int64_t k = 0; k < K; ++k) {
          float amk = load(a, a_off + (ta ? k * M + m : m * K + k));
          for (int64_t n = 0; n < N; ++n)
            row[n] += amk * load(b, b_off + k * N + n);
        }
        continue;
      }
      for (int64_t n = 0; n < N; ++n) {
        float acc = 0;
        for (int64_t k = 0; k < K; ++k)
          acc += load(a, a_off + (ta ? k * M + m : m * K + k)) * load(b, b_off + n * K + k);
        row[n] = acc;
      }
    }
}

/// LayerNorm over rows of N: (x - mean) / sqrt(var + eps) * g + beta, with
/// the biased variance accumulated in double.
template <typename X, typename G, typename Bias>
inline void layer_norm(const X *x, int64_t rows, int64_t N, float eps, const G *g, const Bias *beta,
                       float *out) {
#pragma omp parallel for schedule(static) if (rows * N > (1 << 15))
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < N; ++i)
      mean += load(x, r * N + i);
    mean /= double(N);
    for (int64_t i = 0; i < N; ++i) {
      double d = load(x, r * N + i) - mean;
      var += d * d;
    }
    float inv = float(1.0 / std::sqrt(var / double(N) + double(eps)));
    for (int64_t i = 0; i < N; ++i)
      out[r * N + i] = (load(x, r * N + i) - float(mean)) * inv * load(g, i) + load(beta, i);
  }
}

//===--- indexing: general gather, scatter-add, argmax --------------------===//

/// mm.gather: out[o, j, k] = in[o, index[o / between, j], k] over
/// [outer = batch * between, D, inner] input rows and J indices per batch.
template <typename In, typename Out>
inline int gather(const mm_kernel_ctx *c, const In *in, int64_t outer, int64_t between, int64_t D,
                  int64_t inner, const int64_t *index, int64_t J, Out *out) {
  for (int64_t i = 0; i < (outer / between) * J; ++i)
    if (index[i] < 0 || index[i] >= D) {
      std::snprintf(c->error, size_t(c->error_size),
                    "mm.gather: index %lld is outside the dimension [0, %lld)", (long long)index[i],
                    (long long)D);
      return 1;
    }
#pragma omp parallel for schedule(static) if (outer * J * inner > (1 << 16))
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < J; ++j) {
      int64_t row = index[(o / between) * J + j];
      for (int64_t k = 0; k < inner; ++k)
        out[(o * J + j) * inner + k] = load(in, (o * D + row) * inner + k);
    }
  return 0;
}

/// mm.scatter_add: out = dest, then out[o, index[b, m], k] += updates[o, m, k]
/// over [outer, D, inner] and M indices per batch entry b = o / per_batch
/// (per_batch = outer without batch dims; repeated indices accumulate in order).
template <typename T>
inline int scatter_add(const mm_kernel_ctx *c, const T *dest, const int64_t *index, int64_t M,
                       const T *updates, int64_t outer, int64_t D, int64_t inner,
                       int64_t per_batch, T *out) {
  int64_t batches = per_batch > 0 ? outer / per_batch : 0;
  for (int64_t m = 0; m < batches * M; ++m)
    if (index[m] < 0 || index[m] >= D) {
      std::snprintf(c->error, size_t(c->error_size),
                    "mm.scatter_add: index %lld is outside the dimension [0, %lld)",
                    (long long)index[m], (long long)D);
      return 1;
    }
  if (out != dest)
    std::memcpy(out, dest, size_t(outer * D * inner) * sizeof(T));
#pragma omp parallel for schedule(static) if (outer * M * inner > (1 << 16))
  for (int64_t o = 0; o < outer; ++o) {
    const int64_t *row = index + (o / per_batch) * M;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t k = 0; k < inner; ++k)
        out[(o * D + row[m]) * inner + k] += updates[(o * M + m) * inner + k];
  }
  return 0;
}

/// mm.argmax along the middle axis of [outer, len, inner]: the first maximum.
template <typename T>
inline void argmax(const T *x, int64_t outer, int64_t len, int64_t inner, int64_t *out) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * len * inner > (1 << 16))
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const T *row = x + o * len * inner + i;
      int64_t best = 0;
      for (int64_t j = 1; j < len; ++j)
        if (row[j * inner] > row[best * inner])
          best = j;
      out[o * inner + i] = best;
    }
}

//===--- losses -----------------------------------------------------------===//

enum loss_reduction { loss_none, loss_sum, loss_mean };

/// Softmax cross-entropy of [rows, classes] logits against labels (rows
/// labelled `ignore` contribute 0 and are not counted by the mean).
inline int cross_entropy(const mm_kernel_ctx *c, const float *logits, int64_t rows, int64_t classes,
                         const int64_t *labels, int64_t ignore, loss_reduction reduction,
                         float *out) {
  for (int64_t r = 0; r < rows; ++r)
    if (labels[r] != ignore && (labels[r] < 0 || labels[r] >= classes)) {
      std::snprintf(c->error, size_t(c->error_size),
                    "mm.cross_entropy: label %lld is outside [0, %lld)", (long long)labels[r],
                    (long long)classes);
      return 1;
    }
  std::vector<double> losses(rows, 0.0);
#pragma omp parallel for schedule(static) if (rows * classes > (1 << 16))
  for (int64_t r = 0; r < rows; ++r) {
    if (labels[r] == ignore)
      continue;
    const float *row = logits + r * classes;
    exp_sum_parts lse = exp_sum(row, classes); // NaN in, NaN out
    losses[r] = double(lse.max) + std::log(lse.sum) - double(row[labels[r]]);
  }
  double total = 0;
  int64_t counted = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (reduction == loss_none)
      out[r] = float(losses[r]);
    total += losses[r];
    counted += labels[r] != ignore;
  }
  if (reduction == loss_sum)
    out[0] = float(total);
  else if (reduction == loss_mean) // a mean over nothing is 0: it adds no gradient
    out[0] = counted ? float(total / double(counted)) : 0.0f;
  return 0;
}

/// max(x, 0) - x * y + log(1 + exp(-|x|)) per element, then the reduction.
inline void sigmoid_bce(const float *x, const float *y, int64_t n, loss_reduction reduction,
                        float *out) {
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    double xi = x[i];
    double loss = std::max(xi, 0.0) - xi * double(y[i]) + std::log1p(std::exp(-std::fabs(xi)));
    if (reduction == loss_none)
      out[i] = float(loss);
    total += loss;
  }
  if (reduction == loss_sum)
    out[0] = float(total);
  else if (reduction == loss_mean)
    out[0] = float(total / double(n));
}

/// mm.policy_loss over [B, T] tokens: CISPO (cispo true; weight min(r, cap)
/// when cap > 0, else the clamped ratio) or PPO-clip (dual clip when
/// dual > 0), with advantages per sequence (adv_per_token false) or per
/// token. Normalised per token (sum over tokens / N) or per sequence (each
/// row's mean, summed / S); N or S is *normalizer when given, else the
/// token count or B. A zero count gives 0.
inline void policy_loss(bool cispo, const float *lp, const float *old, const float *adv,
                        bool adv_per_token, const float *mask, const float *normalizer,
                        int64_t B, int64_t T, double eps_low, double eps_high,
                        double clamp_log_ratio, double cap, double dual, bool per_sequence,
                        float *out) {
  double total = 0, tokens = 0;
  for (int64_t b = 0; b < B; ++b) {
    double row_total = 0, row_tokens = 0;
    for (int64_t t = 0; t < T; ++t) {
      int64_t i = b * T + t;
      double a = adv_per_token ? adv[i] : adv[b];
      double log_ratio =
          std::clamp(double(lp[i]) - double(old[i]), -clamp_log_ratio, clamp_log_ratio);
      double r = std::exp(log_ratio), c = std::clamp(r, 1 - eps_low, 1 + eps_high);
      double loss;
      if (cispo) {
        loss = -(cap > 0 ? std::min(r, cap) : c) * a * double(lp[i]);
      } else {
        loss = -std::min(r * a, c * a);
        if (dual > 0 && a < 0)
          loss = std::min(loss, -dual * a);
      }
      row_total += double(mask[i]) * loss;
      row_tokens += mask[i];
    }
    total += per_sequence ? (row_tokens > 0 ? row_total / row_tokens : 0.0) : row_total;
    tokens += row_tokens;
  }
  double count = normalizer ? double(normalizer[0]) : per_sequence ? double(B) : tokens;
  out[0] = count > 0 ? float(total / count) : 0.0f;
}

//===--- top-k, convolutions, pooling -------------------------------------===//

/// The k largest of each row of n, descending; ties keep the lower index.
template <typename T>
inline void top_k(const T *x, int64_t rows, int64_t n, int64_t k, T *values, int64_t *indices) {
#pragma omp parallel if (rows * n > (1 << 16))
  {
    std::vector<int64_t> order(n);
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      const T *row = x + r * n;
      for (int64_t j = 0; j < n; ++j)
        order[j] = j;
      std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
        return row[a] > row[b] || (row[a] == row[b] && a < b);
      });
      for (int64_t j = 0; j < k; ++j) {
        values[r * k + j] = row[order[j]];
        indices[r * k + j] = order[j];
      }
    }
  }
}

/// NCHW cross-correlation with an OIHW weight, strides, symmetric padding and
/// dilation; out is [N, Co, Ho, Wo]. Each output position gathers its input
/// patch once (zeros where it overhangs the padding) and takes one vectorised
/// dot product per output channel with that channel's contiguous weights.
template <typename X, typename W, typename Bias>
inline void conv2d(const X *x, int64_t N, int64_t Ci, int64_t H, int64_t Wd, const W *w, int64_t Co,
                   int64_t KH, int64_t KW, const Bias *bias, int64_t sh, int64_t sw, int64_t ph,
                   int64_t pw, int64_t dh, int64_t dw, int64_t Ho, int64_t Wo, float *out) {
  const int64_t K = Ci * KH * KW;
#pragma omp parallel if (N * Co * Ho * Wo * K > (1 << 15))
  {
    std::vector<float> patch(K);
#pragma omp for collapse(3) schedule(static)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          for (int64_t ci = 0; ci < Ci; ++ci)
            for (int64_t kh = 0; kh < KH; ++kh) {
              int64_t ih = oh * sh - ph + kh * dh;
              for (int64_t kw = 0; kw < KW; ++kw) {
                int64_t iw = ow * sw - pw + kw * dw;
                bool inside = ih >= 0 && ih < H && iw >= 0 && iw < Wd;
                patch[(ci * KH + kh) * KW + kw] =
                    inside ? float(load(x, ((n * Ci + ci) * H + ih) * Wd + iw)) : 0.0f;
              }
            }
          for (int64_t co = 0; co < Co; ++co)
            out[((n * Co + co) * Ho + oh) * Wo + ow] =
                dot(patch.data(), w + co * K, K) + (bias ? float(load(bias, co)) : 0.0f);
        }
  }
}

/// Channels-last 1-D convolution: x [N, L, Ci], w [Co, Ci, K], zero padding
/// `before` (and after, through Lo), stride and dilation; out [N, Lo, Co].
template <typename X, typename W, typename Bias>
inline void conv1d(const X *x, int64_t N, int64_t L, int64_t Ci, const W *w, int64_t Co, int64_t K,
                   const Bias *bias, int64_t stride, int64_t dilation, int64_t before, int64_t Lo,
                   float *out) {
#pragma omp parallel for collapse(2) schedule(static) if (N * Lo * Co > (1 << 12))
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < Lo; ++o)
      for (int64_t co = 0; co < Co; ++co) {
        float acc = bias ? load(bias, co) : 0.0f;
        for (int64_t k = 0; k < K; ++k) {
          int64_t at = o * stride - before + k * dilation;
          if (at < 0 || at >= L)
            continue;
          for (int64_t ci = 0; ci < Ci; ++ci)
            acc += load(x, (n * L + at) * Ci + ci) * load(w, (co * Ci + ci) * K + k);
        }
        out[(n * Lo + o) * Co + co] = acc;
      }
}

enum pool_kind { pool_sum, pool_mean, pool_max };

/// Pools [outer, len, inner] over len where mask[outer, len] (if any) is
/// non-zero; a fully masked row pools to 0.
inline void pool(pool_kind kind, const float *x, const float *mask, int64_t outer, int64_t len,
                 int64_t inner, float *out) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * len * inner > (1 << 16))
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      double acc = 0;
      int64_t count = 0;
      for (int64_t j = 0; j < len; ++j) {
        if (mask && mask[o * len + j] == 0.0f)
          continue;
        double v = x[(o * len + j) * inner + i];
        acc = kind == pool_max ? (count ? std::max(acc, v) : v) : acc + v;
        ++count;
      }
      out[o * inner + i] = count == 0 ? 0.0f : float(kind == pool_mean ? acc / count : acc);
    }
}

//===--- standalone RoPE, vision and recommender ops ----------------------===//

/// mm.rope of [rows = B*T, H, D] at positions [B*T]: copies, then rotates
/// the first `rotary` dims of each head (the same rotation as attention's).
inline void rope_rows(const float *x, const int64_t *positions, int64_t rows, int64_t H, int64_t D,
                      int64_t rotary, double theta, float *out) {
#pragma omp parallel for schedule(static) if (rows * H * D > (1 << 15))
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t h = 0; h < H; ++h) {
      float *y = out + (r * H + h) * D;
      std::memcpy(y, x + (r * H + h) * D, size_t(D) * sizeof(float));
      rope(y, rotary, theta, positions[r]);
    }
}

/// Whether `rows` ids hold exactly n image placeholders `token` (else the
/// error, naming `op`).
inline bool image_placeholders_match(const mm_kernel_ctx *c, const char *op, const int64_t *ids,
                                     int64_t rows, int64_t n, int64_t token) {
  int64_t placeholders = 0;
  for (int64_t r = 0; r < rows; ++r)
    placeholders += ids[r] == token;
  if (placeholders != n)
    std::snprintf(c->error, size_t(c->error_size), "%s: %lld image placeholders but %lld feature rows",
                  op, (long long)placeholders, (long long)n);
  return placeholders == n;
}

/// mm.merge_image_features: embeddings [rows, D] with each row whose id is
/// `token` replaced, in order, by the next of the n feature rows.
inline int merge_image_features(const mm_kernel_ctx *c, const float *emb, const int64_t *ids,
                                int64_t rows, int64_t D, const float *features, int64_t n,
                                int64_t token, float *out) {
  if (!image_placeholders_match(c, "mm.merge_image_features", ids, rows, n, token))
    return 1;
  for (int64_t r = 0, next = 0; r < rows; ++r)
    std::memcpy(out + r * D, ids[r] == token ? features + (next++) * D : emb + r * D,
                size_t(D) * sizeof(float));
  return 0;
}

/// mm.merge_image_features_grad: the rows of g [rows, D] whose id is
/// `token`, in order, as the n rows of out [n, D].
inline int merge_image_features_grad(const mm_kernel_ctx *c, const float *g, const int64_t *ids,
                                     int64_t rows, int64_t D, int64_t n, int64_t token,
                                     float *out) {
  if (!image_placeholders_match(c, "mm.merge_image_features_grad", ids, rows, n, token))
    return 1;
  for (int64_t r = 0, next = 0; r < rows; ++r)
    if (ids[r] == token)
      std::memcpy(out + (next++) * D, g + r * D, size_t(D) * sizeof(float));
  return 0;
}

/// mm.gru (PyTorch gate order r, z, n) over x [B, T, I]; h0 [B, Hd] or null.
/// A null `seq` or `last` is a result nothing reads: not written.
template <typename W>
inline void gru(const float *x, int64_t B, int64_t T, int64_t I, const W *wih, const W *whh,
                const W *bih, const W *bhh, const float *h0, int64_t Hd, float *seq, float *last) {
#pragma omp parallel if (B * T * Hd * (I + Hd) > (1 << 16))
  {
    std::vector<float> h(Hd), gi(3 * Hd), gh(3 * Hd);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t j = 0; j < Hd; ++j)
        h[j] = h0 ? h0[b * Hd + j] : 0.0f;
      for (int64_t t = 0; t < T; ++t) {
        const float *xt = x + (b * T + t) * I;
        for (int64_t g = 0; g < 3 * Hd; ++g) {
          gi[g] = dot(xt, wih + g * I, I) + load(bih, g);
          gh[g] = dot(h.data(), whh + g * Hd, Hd) + load(bhh, g);
        }
        for (int64_t j = 0; j < Hd; ++j) {
          float r = sigmoid(gi[j] + gh[j]), z = sigmoid(gi[Hd + j] + gh[Hd + j]);
          float n = std::tanh(gi[2 * Hd + j] + r * gh[2 * Hd + j]);
          h[j] = (1.0f - z) * n + z * h[j];
          if (seq)
            seq[(b * T + t) * Hd + j] = h[j];
        }
      }
      if (last)
        std::memcpy(last + b * Hd, h.data(), size_t(Hd) * sizeof(float));
    }
  }
}

/// mm.target_attention: softmax over t of scale * (seq[b, t] . target[b])
/// (masked positions excluded; a fully masked row gives 0), then the
/// weighted sum of seq[b, t].
inline void target_attention(const float *seq, const float *target, const float *mask, int64_t B,
                             int64_t T, int64_t D, float scale, float *out) {
#pragma omp parallel if (B * T * D > (1 << 15))
  {
    std::vector<double> w(T);
#pragma omp for schedule(static)
    for (int64_t b = 0; b < B; ++b) {
      double max = -INFINITY;
      for (int64_t t = 0; t < T; ++t) {
        bool on = !mask || mask[b * T + t] != 0.0f;
        w[t] = on ? double(scale) * dot(seq + (b * T + t) * D, target + b * D, D) : -INFINITY;
        max = std::max(max, w[t]);
      }
      double sum = 0;
      for (int64_t t = 0; t < T; ++t)
        sum += w[t] = max == -INFINITY || w[t] == -INFINITY ? 0.0 : std::exp(w[t] - max);
      for (int64_t d = 0; d < D; ++d) {
        double acc = 0;
        for (int64_t t = 0; t < T; ++t)
          acc += w[t] * seq[(b * T + t) * D + d];
        out[b * D + d] = sum > 0 ? float(acc / sum) : 0.0f;
      }
    }
  }
}

/// mm.hadamard_interaction: out[b, g, :] = prod of fields[b, f, :] over the
/// fields f of group g (groups given as offsets into one flat list).
inline void hadamard_interaction(const float *fields, int64_t B, int64_t F, int64_t D,
                                 const int64_t *members, const int64_t *starts, int64_t G,
                                 float *out) {
#pragma omp parallel for collapse(2) schedule(static) if (B * G * D > (1 << 15))
  for (int64_t b = 0; b < B; ++b)
    for (int64_t g = 0; g < G; ++g)
      for (int64_t d = 0; d < D; ++d) {
        float acc = 1.0f;
        for (int64_t m = starts[g]; m < starts[g + 1]; ++m)
          acc *= fields[(b * F + members[m]) * D + d];
        out[(b * G + g) * D + d] = acc;
      }
}

/// The position of query 0 among `keys` keys (an attention's query_start,
/// or 0 without one); -1 with the error set when the queries do not fit.
inline int64_t query_start(const mm_kernel_ctx *c, const char *op, const int64_t *start,
                           int64_t queries, int64_t keys) {
  if (!start)
    return 0;
  if (start[0] < 0 || start[0] + queries > keys) {
    std::snprintf(c->error, size_t(c->error_size),
                  "%s: %lld queries from query_start %lld do not fit among %lld keys", op,
                  (long long)queries, (long long)start[0], (long long)keys);
    return -1;
  }
  return start[0];
}

/// Attention without a cache: q [B, Tq, Hq, D], k [B, Tk, Hkv, D],
/// v [B, Tk, Hkv, Dv]; query head h reads kv head h / (Hq / Hkv); with
/// `causal` query i (at key position start + i) sees keys j <= start + i;
/// with a `key_mask` [B, Tk] only the keys where it is non-zero (a row that
/// sees none is zero). Scores and softmax in double.
inline void attention_nocache(const float *q, const float *k, const float *v, int64_t B, int64_t Tq,
                              int64_t Tk, int64_t Hq, int64_t Hkv, int64_t D, int64_t Dv,
                              float scale, bool causal, int64_t start, const float *key_mask,
                              float *out) {
  const int64_t group = Hq / Hkv;
#pragma omp parallel if (B * Tq * Hq * Tk * D > (1 << 15))
  {
    std::vector<double> w(Tk), acc(Dv);
#pragma omp for collapse(3) schedule(static)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < Tq; ++i)
        for (int64_t h = 0; h < Hq; ++h) {
          const float *qi = q + ((b * Tq + i) * Hq + h) * D;
          int64_t kvh = h / group, keys = causal ? std::min(Tk, start + i + 1) : Tk;
          const float *seen = key_mask ? key_mask + b * Tk : nullptr;
          double max = -INFINITY, sum = 0;
          for (int64_t j = 0; j < keys; ++j) {
            w[j] = !seen || seen[j] != 0.0f
                       ? double(scale) * dot(qi, k + ((b * Tk + j) * Hkv + kvh) * D, D)
                       : -INFINITY;
            max = std::max(max, w[j]);
          }
          if (max == -INFINITY) // no key at all, or every one hidden: zeros
            keys = 0;
          for (int64_t j = 0; j < keys; ++j)
            sum += w[j] = std::exp(w[j] - max);
          // Keys outer, so each value row is read once, contiguously; every
          // acc[d] still sums over j in order, as a d-outer loop would.
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t j = 0; j < keys; ++j) {
            const float *vj = v + ((b * Tk + j) * Hkv + kvh) * Dv;
            const double wj = w[j];
            for (int64_t d = 0; d < Dv; ++d)
              acc[d] += wj * vj[d];
          }
          float *o = out + ((b * Tq + i) * Hq + h) * Dv;
          for (int64_t d = 0; d < Dv; ++d)
            o[d] = keys ? float(acc[d] / sum) : 0.0f;
        }
  }
}

} // namespace mmh

#endif // MM_HOST_KERNELS_H
