//===- attention.cuh - grouped-query softmax attention with a KV cache -----===//
//
// ref::attention (reference/kernels/Attention.cpp): query head hq reads KV head
// hq / G (G = HQ / HKV). With a cache [B, S, HKV, D] (S = capacity), the new
// keys/values of sequence b are written at rows cachePositions[b] .. + T - 1
// (mm_kv_cache_write_kernel, launched first on the same stream) and query i of
// sequence b, at absolute position p = cachePositions[b] + i, attends to cache
// rows j < p + 1 (causal) or j < cachePositions[b] + T (not causal). Without a
// cache, pass the keys [B, Tk, HKV, D] as the "cache" with capacity = Tk and
// cachePositions = null: queries see keys j <= i (causal, Tq == Tk) or all Tk.
//
// Online softmax (flash attention) in fp32: per row the running max m and sum
// l, output rescaled by exp(m_old - m_new) per key tile; out = acc / l.
// Accuracy: against the reference's two-pass softmax the weights differ by a
// few ulp each (expf, re-associated sums over <= S keys); the output is a
// convex combination of value rows, so |error| <= (D + S + 8) 2^-24 max|v|
// (the scores' own error, |q||k| scale D 2^-24, enters through exp).
//
// Layouts: q row (b, i) at q + (b * T + i) * qTokenStride, heads contiguous
// (hq * D) inside it; output row (b, i) at out + (b * T + i) * outTokenStride.
// Strides and bases are multiples of 4 floats.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_ATTENTION_CUH
#define MM_CUDA_ATTENTION_CUH

#include "tile.cuh"

/// kCache[b, pos_b + t] = k[b, t] and vCache likewise, for t < tokens (all HKV heads).
/// pos_b < 0 or pos_b + tokens > capacity sets kCacheOverflow and skips sequence b.
/// k row (b, t) at k + (b * tokens + t) * kTokenStride (HKV * D floats), v likewise.
/// Launch: block THREADS (e.g. rowThreads(HKV * D / 4)), grid up to batch * tokens.
template <int HKV, int D, int THREADS>
__device__ __forceinline__ void
mm_kv_cache_write_kernel(const float *k, mm_i64 kTokenStride, const float *v, mm_i64 vTokenStride,
                         float *kCache, float *vCache, const mm_i64 *cachePositions, mm_i64 batch,
                         mm_i64 tokens, mm_i64 capacity, int *error) {
  constexpr int ROW = HKV * D;
  static_assert(ROW % 4 == 0, "float4 rows");
  for (mm_i64 r = blockIdx.x; r < batch * tokens; r += gridDim.x) {
    mm_i64 b = r / tokens, t = r % tokens, pos = cachePositions[b];
    if (pos < 0 || pos + tokens > capacity) {
      if (t == 0 && threadIdx.x == 0)
        mm_report_error(error, mmk::kCacheOverflow);
      continue;
    }
    mm_i64 dst = (b * capacity + pos + t) * ROW;
    for (int i = threadIdx.x; i < ROW / 4; i += THREADS) {
      mm_store4(kCache + dst + 4 * i, mm_load4(k + r * kTokenStride + 4 * i));
      mm_store4(vCache + dst + 4 * i, mm_load4(v + r * vTokenStride + 4 * i));
    }
  }
}

/// One CTA's rows of queries against a range of keys, flash style. Shared
/// memory (floats): Q [R][D+4] | K [BN][D+4] | V [BN][D+4] | P [R][BN+4] |
/// visible count [R] (int64) | alpha [R] | l [R] | m [R].
template <int R, int D, int BN, int THREADS> struct MmAttentionTile {
  typedef MmTileGemm<R, BN, THREADS, false, true> ScoreGemm; // Q K^T
  typedef MmTileGemm<R, D, THREADS, false, false> ValueGemm; // P V
  static constexpr int LD = D + mmk::kSmemPad, LDP = BN + mmk::kSmemPad;
  static_assert(BN % 16 == 0 && D % 16 == 0, "tile widths");
  static_assert(ScoreGemm::ACTIVE % 16 == 0, "row reductions need whole 16-lane groups");

  float *Qs, *Ks, *Vs, *Ps, *alpha, *lsum, *mrow;
  mm_i64 *visible;

  __device__ explicit MmAttentionTile(float *smem) {
    Qs = smem;
    Ks = Qs + R * LD;
    Vs = Ks + BN * LD;
    Ps = Vs + BN * LD;
    visible = reinterpret_cast<mm_i64 *>(Ps + R * LDP);
    alpha = reinterpret_cast<float *>(visible + R);
    lsum = alpha + R;
    mrow = lsum + R;
  }

  /// acc (ValueGemm layout) = sum over keys j in [keyBegin, keyEnd), j < visible[r],
  /// of exp(score - m) v_j; lsum / mrow receive each row's l and m. Q and
  /// visible[] must be filled (and synchronised) by the caller; every row must
  /// see keyBegin (so the first tile gives it a finite max).
  __device__ void run(const float *kBase, const float *vBase, mm_i64 keyStride, mm_i64 keyBegin,
                      mm_i64 keyEnd, float scale, float (&acc)[ValueGemm::RM][ValueGemm::RN]) {
    const bool scorer = ScoreGemm::active();
    float m[ScoreGemm::RM], l[ScoreGemm::RM];
#pragma unroll
    for (int i = 0; i < ScoreGemm::RM; ++i) {
      m[i] = mm_neg_inf();
      l[i] = 0.f;
    }
    ValueGemm::zero(acc);
    for (mm_i64 kt = keyBegin; kt < keyEnd; kt += BN) {
      mm_tile_load<BN, D, THREADS>(Ks, LD, kBase + kt * keyStride, keyStride, keyEnd - kt);
      mm_tile_load<BN, D, THREADS>(Vs, LD, vBase + kt * keyStride, keyStride, keyEnd - kt);
      __syncthreads();
      float sc[ScoreGemm::RM][ScoreGemm::RN];
      ScoreGemm::zero(sc);
      if (scorer)
        ScoreGemm::template accumulate<D>(sc, Qs, LD, Ks, LD);
      // Every thread joins the row reductions (shuffles need whole warps);
      // idle threads carry -inf / 0.
#pragma unroll
      for (int i = 0; i < ScoreGemm::RM; ++i) {
        const int r = scorer ? ScoreGemm::row(i) : 0;
        const mm_i64 limit = scorer ? mm_min64(keyEnd, visible[r]) : 0;
        float rowMax = mm_neg_inf();
#pragma unroll
        for (int j = 0; j < ScoreGemm::RN; ++j) {
          sc[i][j] = kt + ScoreGemm::col(j) < limit ? sc[i][j] * scale : mm_neg_inf();
          rowMax = fmaxf(rowMax, sc[i][j]);
        }
        rowMax = mm_group_max<ScoreGemm::TX>(rowMax);
        const float mNew = fmaxf(m[i], rowMax);
        const float mRef = mNew == mm_neg_inf() ? 0.f : mNew; // no key yet: keep exp finite
        float rowSum = 0.f;
#pragma unroll
        for (int j = 0; j < ScoreGemm::RN; ++j) {
          const float p = expf(sc[i][j] - mRef);
          if (scorer)
            Ps[r * LDP + ScoreGemm::col(j)] = p;
          rowSum += p;
        }
        rowSum = mm_group_sum<ScoreGemm::TX>(rowSum);
        const float a = expf(m[i] - mRef);
        l[i] = l[i] * a + rowSum;
        m[i] = mNew;
        if (scorer && ScoreGemm::tx() == 0)
          alpha[r] = a;
      }
      __syncthreads();
      if (ValueGemm::active()) {
#pragma unroll
        for (int i = 0; i < ValueGemm::RM; ++i) {
          const float a = alpha[ValueGemm::row(i)];
#pragma unroll
          for (int j = 0; j < ValueGemm::RN; ++j)
            acc[i][j] *= a;
        }
        ValueGemm::template accumulate<BN>(acc, Ps, LDP, Vs, LD);
      }
      __syncthreads();
    }
    if (scorer && ScoreGemm::tx() == 0) {
#pragma unroll
      for (int i = 0; i < ScoreGemm::RM; ++i) {
        lsum[ScoreGemm::row(i)] = l[i];
        mrow[ScoreGemm::row(i)] = m[i];
      }
    }
    __syncthreads();
  }
};

/// Prefill (any T >= 1): one CTA per (query tile of QT tokens, KV head, sequence)
/// holding rows (token, g) for the G query heads of that KV head.
/// Launch: grid (ceilDiv(tokens, QT), HKV, batch), block kAttentionThreads, dynamic
/// shared memory attentionSharedBytes(QT * G, D, BN); QT = attentionQueryTile(G),
/// BN = kAttentionKeyTile are the intended values.
template <int HQ, int HKV, int D, int QT, int BN>
__device__ __forceinline__ void
mm_attention_prefill_kernel(const float *q, mm_i64 qTokenStride, const float *kCache,
                            const float *vCache, mm_i64 capacity, const mm_i64 *cachePositions,
                            float *out, mm_i64 outTokenStride, mm_i64 batch, mm_i64 tokens,
                            float scale, int causal, int *error) {
  static_assert(HQ % HKV == 0, "grouped-query heads");
  constexpr int G = HQ / HKV, R = QT * G, THREADS = mmk::kAttentionThreads;
  typedef MmAttentionTile<R, D, BN, THREADS> Tile;
  if (!mm_has_dynamic_smem(mmk::attentionSharedBytes(R, D, BN), error))
    return;
  Tile tile(mm_dynamic_smem());
  const mm_i64 i0 = (mm_i64)blockIdx.x * QT;
  const int kvh = blockIdx.y;
  const mm_i64 b = blockIdx.z;
  const mm_i64 offset = cachePositions ? cachePositions[b] : 0;
  const mm_i64 written = cachePositions ? offset + tokens : capacity;
  if (offset < 0 || written > capacity) {
    if (blockIdx.x == 0 && kvh == 0 && threadIdx.x == 0)
      mm_report_error(error, mmk::kCacheOverflow);
    return;
  }
  for (int r = threadIdx.x; r < R; r += THREADS) {
    mm_i64 i = i0 + r / G;
    tile.visible[r] = i < tokens ? (causal ? offset + i + 1 : written) : 1;
  }
  for (int f = threadIdx.x; f < R * (D / 4); f += THREADS) {
    int r = f / (D / 4), c = 4 * (f % (D / 4));
    mm_i64 i = i0 + r / G;
    int hq = kvh * G + r % G;
    mm_store4(tile.Qs + r * Tile::LD + c,
              i < tokens ? mm_load4(q + (b * tokens + i) * qTokenStride + hq * D + c) : mm_zero4());
  }
  __syncthreads();
  const mm_i64 keyEnd = causal ? mm_min64(written, offset + mm_min64(i0 + QT, tokens)) : written;
  const mm_i64 keyStride = (mm_i64)HKV * D;
  const mm_i64 base = (b * capacity * HKV + kvh) * D;
  typedef typename Tile::ValueGemm VG;
  float acc[VG::RM][VG::RN];
  tile.run(kCache + base, vCache + base, keyStride, 0, keyEnd, scale, acc);
  if (!VG::active())
    return;
#pragma unroll
  for (int i = 0; i < VG::RM; ++i) {
    const int r = VG::row(i);
    const mm_i64 tok = i0 + r / G;
    if (tok >= tokens)
      continue;
    const float inv = 1.0f / tile.lsum[r];
    float *orow = out + (b * tokens + tok) * outTokenStride + (kvh * G + r % G) * D;
#pragma unroll
    for (int j = 0; j < VG::RN; ++j)
      orow[VG::col(j)] = acc[i][j] * inv;
  }
}

/// Decode (one query token per sequence, already written to the cache at
/// cachePositions[b]): the keys 0 .. cachePositions[b] are split over
/// gridDim.x CTAs of keysPerSplit keys (flash decoding); each writes an
/// unnormalised partial result to partial[b, hq, split, 0..D+1] =
/// (sum_j e^(s_j - m) v_j, m, l), combined by mm_attention_decode_combine_kernel.
/// q row of sequence b at q + b * qTokenStride.
/// Launch: grid (splits, HKV, batch), block attentionDecodeThreads(G), dynamic
/// shared memory attentionSharedBytes(G, D, BN); keysPerSplit =
/// attentionDecodeKeysPerSplit(capacity, splits).
template <int HQ, int HKV, int D, int BN>
__device__ __forceinline__ void
mm_attention_decode_kernel(const float *q, mm_i64 qTokenStride, const float *kCache,
                           const float *vCache, mm_i64 capacity, const mm_i64 *cachePositions,
                           float *partial, mm_i64 batch, mm_i64 keysPerSplit, float scale,
                           int *error) {
  static_assert(HQ % HKV == 0, "grouped-query heads");
  constexpr int G = HQ / HKV, R = G, THREADS = mmk::attentionDecodeThreads(G);
  constexpr int PF = mmk::attentionDecodePartialFloats(D);
  typedef MmAttentionTile<R, D, BN, THREADS> Tile;
  typedef typename Tile::ValueGemm VG;
  if (!mm_has_dynamic_smem(mmk::attentionSharedBytes(R, D, BN), error))
    return;
  Tile tile(mm_dynamic_smem());
  const int split = blockIdx.x, splits = gridDim.x, kvh = blockIdx.y;
  const mm_i64 b = blockIdx.z;
  const mm_i64 pos = cachePositions[b];
  const bool valid = pos >= 0 && pos < capacity;
  if (!valid && split == 0 && kvh == 0 && threadIdx.x == 0)
    mm_report_error(error, mmk::kCacheOverflow);
  const mm_i64 k0 = (mm_i64)split * keysPerSplit;
  const mm_i64 k1 = valid ? mm_min64(k0 + keysPerSplit, pos + 1) : 0;
  float *pb = partial + ((b * HQ + kvh * G) * splits + split) * PF;
  if (k0 >= k1) { // nothing to see in this split: an empty partial
    for (int f = threadIdx.x; f < G * PF; f += THREADS) {
      int g = f / PF, c = f % PF;
      pb[(mm_i64)g * splits * PF + c] = c == D ? mm_neg_inf() : 0.f;
    }
    return;
  }
  for (int r = threadIdx.x; r < R; r += THREADS)
    tile.visible[r] = pos + 1;
  for (int f = threadIdx.x; f < R * (D / 4); f += THREADS) {
    int r = f / (D / 4), c = 4 * (f % (D / 4));
    mm_store4(tile.Qs + r * Tile::LD + c, mm_load4(q + b * qTokenStride + (kvh * G + r) * D + c));
  }
  __syncthreads();
  const mm_i64 base = (b * capacity * HKV + kvh) * D;
  float acc[VG::RM][VG::RN];
  tile.run(kCache + base, vCache + base, (mm_i64)HKV * D, k0, k1, scale, acc);
  if (VG::active()) {
#pragma unroll
    for (int i = 0; i < VG::RM; ++i) {
      float *prow = pb + (mm_i64)VG::row(i) * splits * PF;
#pragma unroll
      for (int j = 0; j < VG::RN; ++j)
        prow[VG::col(j)] = acc[i][j];
    }
  }
  for (int r = threadIdx.x; r < R; r += THREADS) {
    pb[(mm_i64)r * splits * PF + D] = tile.mrow[r];
    pb[(mm_i64)r * splits * PF + D + 1] = tile.lsum[r];
  }
}

/// out[b, hq, :] = sum_s e^(m_s - M) o_s / sum_s e^(m_s - M) l_s over the
/// splits of mm_attention_decode_kernel (M = max_s m_s; zeros when no split saw
/// a key). Output row of sequence b at out + b * outTokenStride.
/// Launch: grid (HQ, batch), block min(D, 1024) threads.
template <int HQ, int D>
__device__ __forceinline__ void mm_attention_decode_combine_kernel(const float *partial, float *out,
                                                                   mm_i64 outTokenStride,
                                                                   mm_i64 batch, int splits) {
  constexpr int PF = mmk::attentionDecodePartialFloats(D);
  const int hq = blockIdx.x;
  const mm_i64 b = blockIdx.y;
  const float *p = partial + (b * HQ + hq) * splits * PF;
  float M = mm_neg_inf();
  for (int s = 0; s < splits; ++s)
    M = fmaxf(M, p[s * PF + D]);
  float total = 0.f;
  for (int s = 0; s < splits; ++s)
    if (p[s * PF + D] != mm_neg_inf())
      total += expf(p[s * PF + D] - M) * p[s * PF + D + 1];
  float *o = out + b * outTokenStride + hq * D;
  for (int n = threadIdx.x; n < D; n += blockDim.x) {
    float sum = 0.f;
    for (int s = 0; s < splits; ++s)
      if (p[s * PF + D] != mm_neg_inf())
        sum += expf(p[s * PF + D] - M) * p[s * PF + n];
    o[n] = total > 0.f ? sum / total : 0.f;
  }
}

#endif // MM_CUDA_ATTENTION_CUH
