//===- AttentionCases.cpp - KV-cache write, prefill and decode attention ----===//
//
// Against ref::attention with caches (grouped-query, causal by absolute
// position). Tolerance per output row (b, i, hq): scores differ by at most
// ds = (D + 2) u scale max_j sum_d |q_d k_jd| (two D-term dot products); a
// softmax weight w_j moves by <= w_j (e^{2 ds} - 1) <= 2.2 ds w_j, so the
// convex combination moves by <= 2.2 ds max|v|; the exponentials, the online
// rescaling and the sums over <= vis keys add (2 vis + D + 16) u max|v|:
//   |gpu - ref| <= (2.2 ds + (2 vis + D + 16) u) max_{j < vis} |v_j|.
// Cache contents are copies and must match exactly.
//
//===----------------------------------------------------------------------===//
#include "reference/kernels/Reference.h"
#include "test/cuda/CaseUtil.h"

#include <algorithm>

using namespace mm;
using namespace mm::cudatest;

namespace {

bool gpu() { return !testRunner().emulated(); }

struct AttentionConfig {
  std::string tag;
  int qHeads, kvHeads, headDim;
};
const AttentionConfig kTiny{"tiny", 4, 2, 16}, kMid{"mid", 16, 2, 128}, kFull{"full", 64, 8, 128};

/// Per-element tolerance of an attention output [B, Tq, HQ, D] (see the top).
std::vector<double> attentionTolerance(const AttentionConfig &c, const std::vector<float> &q,
                                       const std::vector<float> &kCache,
                                       const std::vector<float> &vCache, int64_t B, int64_t Tq,
                                       int64_t S, const std::vector<int64_t> &visibleOfRow,
                                       double scale) {
  const int HQ = c.qHeads, HKV = c.kvHeads, D = c.headDim, G = HQ / HKV;
  std::vector<double> tol(B * Tq * HQ * D);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Tq; ++i)
      for (int h = 0; h < HQ; ++h) {
        int64_t vis = visibleOfRow[b * Tq + i];
        const float *qv = &q[((b * Tq + i) * HQ + h) * D];
        double qkMax = 0, vMax = 0;
        for (int64_t j = 0; j < vis; ++j) {
          const float *kv = &kCache[((b * S + j) * HKV + h / G) * D];
          const float *vv = &vCache[((b * S + j) * HKV + h / G) * D];
          double dot = 0;
          for (int d = 0; d < D; ++d) {
            dot += std::fabs(double(qv[d]) * kv[d]);
            vMax = std::max(vMax, std::fabs(double(vv[d])));
          }
          qkMax = std::max(qkMax, dot);
        }
        double ds = (D + 2) * kU * scale * qkMax;
        double t = (2.2 * ds + (2.0 * vis + D + 16) * kU) * vMax;
        std::fill_n(tol.begin() + ((b * Tq + i) * HQ + h) * D, D, t);
      }
  return tol;
}

struct CacheState {
  std::vector<float> k, v; // [B, S, HKV, D]
};

/// Prefill of T tokens per sequence at `positions` into caches that already
/// hold earlier tokens; q/k/v come from one fused projection row per token
/// [(HQ + 2 HKV) D]. Checks output and caches against the reference and
/// returns the updated caches.
CacheState checkPrefill(const AttentionConfig &c, int64_t B, int64_t T, int64_t S,
                        const std::vector<int64_t> &positions, CacheState cache, uint64_t seed) {
  SCOPED_TRACE(c.tag + " prefill T=" + std::to_string(T));
  KernelRunner &r = testRunner();
  const int HQ = c.qHeads, HKV = c.kvHeads, D = c.headDim;
  const int64_t row = int64_t(HQ + 2 * HKV) * D;
  std::vector<float> fused = randomFloats(B * T * row, seed, 0.7);
  std::vector<float> q(B * T * HQ * D), k(B * T * HKV * D), v(B * T * HKV * D);
  for (int64_t t = 0; t < B * T; ++t) {
    std::copy_n(&fused[t * row], HQ * D, &q[t * HQ * D]);
    std::copy_n(&fused[t * row + HQ * D], HKV * D, &k[t * HKV * D]);
    std::copy_n(&fused[t * row + (HQ + HKV) * D], HKV * D, &v[t * HKV * D]);
  }
  const double scale = 1.0 / std::sqrt(double(D));
  Tensor pos = intTensor({B}, positions);
  auto want = ref::attention(floatTensor({B, T, HQ, D}, q), floatTensor({B, T, HKV, D}, k),
                             floatTensor({B, T, HKV, D}, v), true, scale,
                             floatTensor({B, S, HKV, D}, cache.k),
                             floatTensor({B, S, HKV, D}, cache.v), &pos);
  CacheState next{floatsOf(*want.keyCache), floatsOf(*want.valueCache)};
  std::vector<int64_t> visible(B * T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T; ++i)
      visible[b * T + i] = positions[b] + i + 1;
  std::vector<double> tol = attentionTolerance(c, q, next.k, next.v, B, T, S, visible, scale);

  DeviceArray<float> fusedDev(r, fused), kc(r, cache.k), vc(r, cache.v), out(r, B * T * HQ * D);
  DeviceArray<int64_t> posDev(r, positions);
  ErrorFlag err;
  run("t_kv_write_" + c.tag, cuda::launch::rows(B * T, mmk::rowThreads(HKV * D / 4)),
      fusedDev.ptr() + HQ * D, row, fusedDev.ptr() + (HQ + HKV) * D, row, kc.ptr(), vc.ptr(),
      posDev.ptr(), B, T, S, err.ptr());
  run("t_attn_prefill_" + c.tag, cuda::launch::attentionPrefill(B, T, HQ, HKV, D),
      static_cast<const float *>(fusedDev.ptr()), row, static_cast<const float *>(kc.ptr()),
      static_cast<const float *>(vc.ptr()), S, posDev.ptr(), out.ptr(), int64_t(HQ * D), B, T,
      float(scale), 1, err.ptr());
  EXPECT_NO_KERNEL_ERROR(err);
  EXPECT_EQ(kc.download(), next.k) << "key cache";
  EXPECT_EQ(vc.download(), next.v) << "value cache";
  EXPECT_TRUE(allClose(out.download(), floatsOf(want.output), tol)) << "output";
  return next;
}

/// One decode token per sequence at `positions` with `splits` flash-decoding splits.
CacheState checkDecode(const AttentionConfig &c, int64_t B, int64_t S,
                       const std::vector<int64_t> &positions, CacheState cache, int splits,
                       uint64_t seed) {
  SCOPED_TRACE(c.tag + " decode, splits " + std::to_string(splits));
  KernelRunner &r = testRunner();
  const int HQ = c.qHeads, HKV = c.kvHeads, D = c.headDim;
  std::vector<float> q = randomFloats(B * HQ * D, seed, 0.7),
                     k = randomFloats(B * HKV * D, seed + 1, 0.7),
                     v = randomFloats(B * HKV * D, seed + 2, 0.7);
  const double scale = 1.0 / std::sqrt(double(D));
  Tensor pos = intTensor({B}, positions);
  auto want = ref::attention(floatTensor({B, 1, HQ, D}, q), floatTensor({B, 1, HKV, D}, k),
                             floatTensor({B, 1, HKV, D}, v), true, scale,
                             floatTensor({B, S, HKV, D}, cache.k),
                             floatTensor({B, S, HKV, D}, cache.v), &pos);
  CacheState next{floatsOf(*want.keyCache), floatsOf(*want.valueCache)};
  std::vector<int64_t> visible(B);
  for (int64_t b = 0; b < B; ++b)
    visible[b] = positions[b] + 1;
  std::vector<double> tol = attentionTolerance(c, q, next.k, next.v, B, 1, S, visible, scale);

  DeviceArray<float> qd(r, q), kd(r, k), vd(r, v), kc(r, cache.k), vc(r, cache.v),
      out(r, B * HQ * D), partial(r, B * HQ * splits * mmk::attentionDecodePartialFloats(D));
  DeviceArray<int64_t> posDev(r, positions);
  ErrorFlag err;
  run("t_kv_write_" + c.tag, cuda::launch::rows(B, mmk::rowThreads(HKV * D / 4)), kd.ptr(),
      int64_t(HKV * D), vd.ptr(), int64_t(HKV * D), kc.ptr(), vc.ptr(), posDev.ptr(), B, int64_t(1),
      S, err.ptr());
  run("t_attn_decode_" + c.tag, cuda::launch::attentionDecode(B, HQ, HKV, D, splits),
      static_cast<const float *>(qd.ptr()), int64_t(HQ * D), static_cast<const float *>(kc.ptr()),
      static_cast<const float *>(vc.ptr()), S, posDev.ptr(), partial.ptr(), B,
      int64_t(mmk::attentionDecodeKeysPerSplit(S, splits)), float(scale), err.ptr());
  run("t_attn_combine_" + c.tag, cuda::launch::attentionDecodeCombine(B, HQ, D),
      static_cast<const float *>(partial.ptr()), out.ptr(), int64_t(HQ * D), B, splits);
  EXPECT_NO_KERNEL_ERROR(err);
  EXPECT_EQ(kc.download(), next.k) << "key cache";
  EXPECT_EQ(vc.download(), next.v) << "value cache";
  EXPECT_TRUE(allClose(out.download(), floatsOf(want.output), tol)) << "output";
  return next;
}

/// Caches with earlier tokens already present (and garbage past them, which
/// attention must never read).
CacheState randomCache(const AttentionConfig &c, int64_t B, int64_t S, uint64_t seed) {
  size_t n = B * S * c.kvHeads * c.headDim;
  return {randomFloats(n, seed, 0.7), randomFloats(n, seed + 1, 0.7)};
}

/// Chunked prefill of two sequences at different offsets, then decode steps,
/// each decode with a different split count (including more splits than keys).
void prefillThenDecode(const AttentionConfig &c, int64_t T, int64_t S, int64_t offset1,
                       uint64_t seed) {
  const int64_t B = 2;
  CacheState cache = randomCache(c, B, S, seed);
  std::vector<int64_t> pos{0, offset1};
  cache = checkPrefill(c, B, T, S, pos, cache, seed + 10);
  int splitChoices[] = {1, 3, int(mmk::ceilDiv(S, mmk::kAttentionKeyTile)) + 2};
  for (int step = 0; step < 3; ++step) {
    for (int64_t &p : pos)
      p += step == 0 ? T : 1;
    cache = checkDecode(c, B, S, pos, cache, splitChoices[step], seed + 20 + step);
  }
}

} // namespace

TEST(Attention, TinyPrefillThenDecodeGqa) { prefillThenDecode(kTiny, 19, 90, 23, 101); }

TEST(Attention, MidPrefillThenDecodeGroup8) { prefillThenDecode(kMid, 9, 150, 70, 111); }

// GPU binary only (64 query heads; the emulator's mid case covers head_dim
// 128 and group 8).
#ifdef MM_CUDA_GPU_CASES
TEST(Attention, FullSizePrefillThenDecode) { prefillThenDecode(kFull, 100, 600, 333, 121); }
#endif

// Decode against a long cache where most splits are empty for the shorter sequence.
TEST(Attention, DecodeLongCacheManySplits) {
  const AttentionConfig &c = gpu() ? kFull : kMid;
  const int64_t B = 2, S = gpu() ? 4096 : 300;
  CacheState cache = randomCache(c, B, S, 131);
  checkDecode(c, B, S, {S - 1, 5}, cache,
              cuda::launch::attentionDecodeSplits(B, c.kvHeads, S, gpu() ? 132 : 4), 132);
}

// Without a cache: keys are the "cache" (capacity = Tk, no positions).
TEST(Attention, NoCacheCausalAndBidirectional) {
  KernelRunner &r = testRunner();
  const AttentionConfig &c = kTiny;
  const int HQ = c.qHeads, HKV = c.kvHeads, D = c.headDim;
  for (int causal : {1, 0}) {
    SCOPED_TRACE(causal ? "causal" : "bidirectional");
    const int64_t B = 2, Tq = 21, Tk = causal ? Tq : 34;
    std::vector<float> q = randomFloats(B * Tq * HQ * D, 141 + causal, 0.7),
                       k = randomFloats(B * Tk * HKV * D, 143, 0.7),
                       v = randomFloats(B * Tk * HKV * D, 144, 0.7);
    const double scale = 0.3;
    auto want = ref::attention(floatTensor({B, Tq, HQ, D}, q), floatTensor({B, Tk, HKV, D}, k),
                               floatTensor({B, Tk, HKV, D}, v), causal, scale, std::nullopt,
                               std::nullopt, nullptr);
    std::vector<int64_t> visible(B * Tq);
    for (int64_t i = 0; i < B * Tq; ++i)
      visible[i] = causal ? i % Tq + 1 : Tk;
    std::vector<double> tol = attentionTolerance(c, q, k, v, B, Tq, Tk, visible, scale);
    DeviceArray<float> qd(r, q), kd(r, k), vd(r, v), out(r, B * Tq * HQ * D);
    ErrorFlag err;
    run("t_attn_prefill_tiny", cuda::launch::attentionPrefill(B, Tq, HQ, HKV, D),
        static_cast<const float *>(qd.ptr()), int64_t(HQ * D), static_cast<const float *>(kd.ptr()),
        static_cast<const float *>(vd.ptr()), Tk, static_cast<const int64_t *>(nullptr), out.ptr(),
        int64_t(HQ * D), B, Tq, float(scale), causal, err.ptr());
    EXPECT_NO_KERNEL_ERROR(err);
    EXPECT_TRUE(allClose(out.download(), floatsOf(want.output), tol));
  }
}

// Writing past the capacity is reported by the cache write and the attention
// kernels instead of corrupting memory.
TEST(Attention, CacheOverflowIsReported) {
  KernelRunner &r = testRunner();
  const AttentionConfig &c = kTiny;
  const int64_t B = 1, T = 5, S = 16, row = int64_t(c.kvHeads) * c.headDim;
  DeviceArray<float> k(r, randomFloats(B * T * row, 151)), kc(r, B * S * row), vc(r, B * S * row),
      q(r, randomFloats(B * T * c.qHeads * c.headDim, 152)), out(r, B * T * c.qHeads * c.headDim);
  DeviceArray<int64_t> pos(r, std::vector<int64_t>{S - 2});
  kc.fill(0);
  ErrorFlag err;
  run("t_kv_write_tiny", cuda::launch::rows(B * T, 32), k.ptr(), row, k.ptr(), row, kc.ptr(),
      vc.ptr(), pos.ptr(), B, T, S, err.ptr());
  EXPECT_EQ(err.value(), mmk::kCacheOverflow);
  EXPECT_EQ(kc.download(), std::vector<float>(B * S * row, 0.f)) << "nothing written";
  err.reset();
  run("t_attn_prefill_tiny", cuda::launch::attentionPrefill(B, T, c.qHeads, c.kvHeads, c.headDim),
      static_cast<const float *>(q.ptr()), int64_t(c.qHeads * c.headDim),
      static_cast<const float *>(kc.ptr()), static_cast<const float *>(vc.ptr()), S, pos.ptr(),
      out.ptr(), int64_t(c.qHeads * c.headDim), B, T, 1.0f, 1, err.ptr());
  EXPECT_EQ(err.value(), mmk::kCacheOverflow);
}
