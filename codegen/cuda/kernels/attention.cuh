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
// (hq * D) inside it; output row (b, i) at out + (b * T + i) * outTokenStride,
// heads of DV (the value head dim, D by default) contiguous inside it.
//
// Any D and DV: the shared-memory tiles are mmk::headTile wide (a multiple of
// 16) and zero-padded, so the padded columns add zeros to the scores and
// produce output columns that are never stored. When D and DV are multiples
// of 4 (then so are the strides the generator passes), rows are read as
// float4; otherwise one float at a time.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CUDA_ATTENTION_CUH
#define MM_CUDA_ATTENTION_CUH

#include "tile.cuh"

/// kCache[b, pos_b + t] = k[b, t] and vCache likewise, for t < tokens (all HKV heads).
/// pos_b < 0 or pos_b + tokens > capacity sets kCacheOverflow and skips sequence b.
/// k row (b, t) at k + (b * tokens + t) * kTokenStride (HKV * D floats), v likewise
/// (HKV * DV floats).
/// Launch: block THREADS (e.g. rowThreads(HKV * D / 4)), grid up to batch * tokens.
template <int HKV, int D, int THREADS, int DV = D>
__device__ __forceinline__ void
mm_kv_cache_write_kernel(const float *k, mm_i64 kTokenStride, const float *v, mm_i64 vTokenStride,
                         float *kCache, float *vCache, const mm_i64 *cachePositions, mm_i64 batch,
                         mm_i64 tokens, mm_i64 capacity, int *error) {
  constexpr int ROW = HKV * D, VROW = HKV * DV;
  constexpr bool VEC = ROW % 4 == 0 && VROW % 4 == 0;
  for (mm_i64 r = blockIdx.x; r < batch * tokens; r += gridDim.x) {
    mm_i64 b = r / tokens, t = r % tokens, pos = cachePositions[b];
    if (pos < 0 || pos + tokens > capacity) {
      if (t == 0 && threadIdx.x == 0)
        mm_report_error(error, mmk::kCacheOverflow);
      continue;
    }
    const mm_i64 slot = b * capacity + pos + t;
    for (int c = 4 * threadIdx.x; c < ROW; c += 4 * THREADS)
      mm_store4_upto<ROW, VEC>(kCache + slot * ROW + c, c,
                               mm_load4_upto<ROW, VEC>(k + r * kTokenStride + c, c));
    for (int c = 4 * threadIdx.x; c < VROW; c += 4 * THREADS)
      mm_store4_upto<VROW, VEC>(vCache + slot * VROW + c, c,
                                mm_load4_upto<VROW, VEC>(v + r * vTokenStride + c, c));
  }
}

/// One CTA's rows of queries against a range of keys, flash style, for key
/// head dim D and value head dim DV. Shared memory (floats), W =
/// headTile(max(D, DV)): Q [R][W+4] | K [BN][W+4] | V [BN][W+4] | P [R][BN+4] |
/// visible count [R] (int64) | alpha [R] | l [R] | m [R].
template <int R, int D, int BN, int THREADS, int DV = D> struct MmAttentionTile {
  static constexpr int DP = mmk::headTile(D), DVP = mmk::headTile(DV);
  static constexpr bool VEC = D % 4 == 0 && DV % 4 == 0;
  typedef MmTileGemm<R, BN, THREADS, false, true> ScoreGemm;   // Q K^T
  typedef MmTileGemm<R, DVP, THREADS, false, false> ValueGemm; // P V
  static constexpr int LD = (DP > DVP ? DP : DVP) + mmk::kSmemPad, LDP = BN + mmk::kSmemPad;
  static_assert(BN % 16 == 0, "tile widths");
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

  /// Fills Q: row r (DP floats, zero past D) from rowOf(r), or zeros where
  /// that is null. Consecutive threads read consecutive float4s of a row.
  template <class RowOf> __device__ void loadQueries(RowOf rowOf) {
    constexpr int Q = DP / 4;
    for (int f = threadIdx.x; f < R * Q; f += THREADS) {
      const int r = f / Q, c = 4 * (f % Q);
      const float *row = rowOf(r);
      mm_store4(Qs + r * LD + c, row ? mm_load4_upto<D, VEC>(row + c, c) : mm_zero4());
    }
  }

  /// acc (ValueGemm layout) = sum over keys j in [keyBegin, keyEnd), j < visible[r]
  /// and keyMask[j] != 0 (when a mask is given), of exp(score - m) v_j; lsum /
  /// mrow receive each row's l and m (0 and -inf for a row that saw no key).
  /// Q and visible[] must be filled (and synchronised) by the caller. Key j's
  /// row is at kBase + j * keyStride, its value at vBase + j * valueStride.
  __device__ void run(const float *kBase, mm_i64 keyStride, const float *vBase, mm_i64 valueStride,
                      mm_i64 keyBegin, mm_i64 keyEnd, float scale,
                      float (&acc)[ValueGemm::RM][ValueGemm::RN], const float *keyMask = nullptr) {
    const bool scorer = ScoreGemm::active();
    float m[ScoreGemm::RM], l[ScoreGemm::RM];
#pragma unroll
    for (int i = 0; i < ScoreGemm::RM; ++i) {
      m[i] = mm_neg_inf();
      l[i] = 0.f;
    }
    ValueGemm::zero(acc);
    for (mm_i64 kt = keyBegin; kt < keyEnd; kt += BN) {
      mm_tile_load<BN, DP, THREADS, D, VEC>(Ks, LD, kBase + kt * keyStride, keyStride, keyEnd - kt);
      mm_tile_load<BN, DVP, THREADS, DV, VEC>(Vs, LD, vBase + kt * valueStride, valueStride,
                                              keyEnd - kt);
      __syncthreads();
      float sc[ScoreGemm::RM][ScoreGemm::RN];
      ScoreGemm::zero(sc);
      if (scorer)
        ScoreGemm::template accumulate<DP>(sc, Qs, LD, Ks, LD);
        // Every thread joins the row reductions (shuffles need whole warps);
        // idle threads carry -inf / 0.
#pragma unroll
      for (int i = 0; i < ScoreGemm::RM; ++i) {
        const int r = scorer ? ScoreGemm::row(i) : 0;
        const mm_i64 limit = scorer ? mm_min64(keyEnd, visible[r]) : 0;
        float rowMax = mm_neg_inf();
#pragma unroll
        for (int j = 0; j < ScoreGemm::RN; ++j) {
          const mm_i64 key = kt + ScoreGemm::col(j);
          sc[i][j] =
              key < limit && (!keyMask || keyMask[key] != 0.f) ? sc[i][j] * scale : mm_neg_inf();
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
/// Without a cache (cachePositions null), kCache / vCache are the keys and
/// values themselves (capacity = their length) and query i sits at position
/// *queryStart + i (0 when queryStart is null); a start that puts a query past
/// the last key sets kQueryStartOutOfRange. keyMask (null, or [batch, capacity]
/// float) hides the keys where it is zero; a query that sees none outputs zeros.
/// Launch: grid (ceilDiv(tokens, QT), HKV, batch), block kAttentionThreads, dynamic
/// shared memory attentionSharedBytes(QT * G, headTile(max(D, DV)), BN); QT =
/// attentionQueryTile(G), BN = kAttentionKeyTile are the intended values.
template <int HQ, int HKV, int D, int QT, int BN, int DV = D>
__device__ __forceinline__ void
mm_attention_prefill_kernel(const float *q, mm_i64 qTokenStride, const float *kCache,
                            const float *vCache, mm_i64 capacity, const mm_i64 *cachePositions,
                            float *out, mm_i64 outTokenStride, mm_i64 batch, mm_i64 tokens,
                            float scale, int causal, int *error, const mm_i64 *queryStart = nullptr,
                            const float *keyMask = nullptr) {
  static_assert(HQ % HKV == 0, "grouped-query heads");
  constexpr int G = HQ / HKV, R = QT * G, THREADS = mmk::kAttentionThreads;
  typedef MmAttentionTile<R, D, BN, THREADS, DV> Tile;
  if (!mm_has_dynamic_smem(mmk::attentionSharedBytes(R, Tile::LD - mmk::kSmemPad, BN), error))
    return;
  Tile tile(mm_dynamic_smem());
  const mm_i64 i0 = (mm_i64)blockIdx.x * QT;
  const int kvh = blockIdx.y;
  const mm_i64 b = blockIdx.z;
  const mm_i64 offset = cachePositions ? cachePositions[b] : queryStart ? *queryStart : 0;
  const mm_i64 written = cachePositions ? offset + tokens : capacity;
  const bool cacheOverflow = cachePositions && (offset < 0 || written > capacity);
  const bool badStart = queryStart && !cachePositions && (offset < 0 || offset + tokens > capacity);
  if (cacheOverflow || badStart) {
    if (blockIdx.x == 0 && kvh == 0 && threadIdx.x == 0)
      mm_report_error(error, cacheOverflow ? mmk::kCacheOverflow : mmk::kQueryStartOutOfRange);
    return;
  }
  for (int r = threadIdx.x; r < R; r += THREADS) {
    mm_i64 i = i0 + r / G;
    tile.visible[r] = i < tokens ? (causal ? offset + i + 1 : written) : 1;
  }
  tile.loadQueries([&](int r) -> const float * {
    const mm_i64 i = i0 + r / G;
    return i < tokens ? q + (b * tokens + i) * qTokenStride + (kvh * G + r % G) * D : nullptr;
  });
  __syncthreads();
  const mm_i64 keyEnd = causal ? mm_min64(written, offset + mm_min64(i0 + QT, tokens)) : written;
  typedef typename Tile::ValueGemm VG;
  float acc[VG::RM][VG::RN];
  tile.run(kCache + (b * capacity * HKV + kvh) * D, (mm_i64)HKV * D,
           vCache + (b * capacity * HKV + kvh) * DV, (mm_i64)HKV * DV, 0, keyEnd, scale, acc,
           keyMask ? keyMask + b * capacity : nullptr);
  if (!VG::active())
    return;
#pragma unroll
  for (int i = 0; i < VG::RM; ++i) {
    const int r = VG::row(i);
    const mm_i64 tok = i0 + r / G;
    if (tok >= tokens)
      continue;
    const float inv = tile.lsum[r] > 0.f ? 1.0f / tile.lsum[r] : 0.f; // (0: every key hidden)
    float *orow = out + (b * tokens + tok) * outTokenStride + (kvh * G + r % G) * DV;
#pragma unroll
    for (int j = 0; j < VG::RN; ++j)
      if (DV == Tile::DVP || VG::col(j) < DV)
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
/// shared memory attentionSharedBytes(G, headTile(max(D, DV)), BN); keysPerSplit =
/// attentionDecodeKeysPerSplit(capacity, splits). Partials are DV + 2 floats.
template <int HQ, int HKV, int D, int BN, int DV = D>
__device__ __forceinline__ void
mm_attention_decode_kernel(const float *q, mm_i64 qTokenStride, const float *kCache,
                           const float *vCache, mm_i64 capacity, const mm_i64 *cachePositions,
                           float *partial, mm_i64 batch, mm_i64 keysPerSplit, float scale,
                           int *error) {
  static_assert(HQ % HKV == 0, "grouped-query heads");
  constexpr int G = HQ / HKV, R = G, THREADS = mmk::attentionDecodeThreads(G);
  constexpr int PF = mmk::attentionDecodePartialFloats(DV);
  typedef MmAttentionTile<R, D, BN, THREADS, DV> Tile;
  typedef typename Tile::ValueGemm VG;
  if (!mm_has_dynamic_smem(mmk::attentionSharedBytes(R, Tile::LD - mmk::kSmemPad, BN), error))
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
      pb[(mm_i64)g * splits * PF + c] = c == DV ? mm_neg_inf() : 0.f;
    }
    return;
  }
  for (int r = threadIdx.x; r < R; r += THREADS)
    tile.visible[r] = pos + 1;
  tile.loadQueries(
      [&](int r) -> const float * { return q + b * qTokenStride + (kvh * G + r) * D; });
  __syncthreads();
  float acc[VG::RM][VG::RN];
  tile.run(kCache + (b * capacity * HKV + kvh) * D, (mm_i64)HKV * D,
           vCache + (b * capacity * HKV + kvh) * DV, (mm_i64)HKV * DV, k0, k1, scale, acc);
  if (VG::active()) {
#pragma unroll
    for (int i = 0; i < VG::RM; ++i) {
      float *prow = pb + (mm_i64)VG::row(i) * splits * PF;
#pragma unroll
      for (int j = 0; j < VG::RN; ++j)
        if (DV == Tile::DVP || VG::col(j) < DV)
          prow[VG::col(j)] = acc[i][j];
    }
  }
  for (int r = threadIdx.x; r < R; r += THREADS) {
    pb[(mm_i64)r * splits * PF + DV] = tile.mrow[r];
    pb[(mm_i64)r * splits * PF + DV + 1] = tile.lsum[r];
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
