// Invariants of the reference kernels that the model tests rely on.
#include "TestUtil.h"
#include "reference/kernels/Reference.h"
#include "runtime/LightningDecay.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mm;

namespace {
Tensor sliceSeq(const Tensor &x, int64_t start, int64_t end) {
  return ref::slice(x, 1, start, end, 1);
}
} // namespace

// Block-wise prefill equals the token recurrence for every block size,
// including blocks that do not divide the length (a partial last block), with
// a carried-in state and a shorter second sequence. Float64: the forms differ
// only in association, O(1e-15).
TEST(LightningKernel, BlockwiseEqualsRecurrence) {
  int64_t B = 2, T = 50, H = 4, d = 8;
  Tensor q = test::randomTensor({B, T, H, d}, DType::F64, 1, 0.5);
  Tensor k = test::randomTensor({B, T, H, d}, DType::F64, 2, 0.5);
  Tensor v = test::randomTensor({B, T, H, d}, DType::F64, 3);
  Tensor s0 = test::randomTensor({B, H, d, d}, DType::F64, 4);
  Tensor lengths = Tensor::fromVector<int64_t>({B}, {T, 37});
  auto slopes = lightningDecaySlopes(H, 2, 8);
  auto rec =
      ref::lightningAttention(q, k, v, &s0, &lengths, slopes, 1, ref::LightningMode::Recurrence);
  for (int64_t block : {1, 3, 7, 16, 50, 64, 256}) {
    auto blk = ref::lightningAttention(q, k, v, &s0, &lengths, slopes, block,
                                       ref::LightningMode::Blockwise);
    EXPECT_LT(test::relError(blk.output, rec.output), 1e-12) << "block " << block;
    EXPECT_LT(test::relError(blk.finalState, rec.finalState), 1e-12) << "block " << block;
  }
}

// The recurrence is the definition: o_t = sum_{j<=t} lambda^(t-j) (q_t . k_j) v_j.
TEST(LightningKernel, RecurrenceMatchesTheClosedForm) {
  int64_t T = 9, H = 2, d = 3;
  Tensor q = test::randomTensor({1, T, H, d}, DType::F64, 5);
  Tensor k = test::randomTensor({1, T, H, d}, DType::F64, 6);
  Tensor v = test::randomTensor({1, T, H, d}, DType::F64, 7);
  auto slopes = lightningDecaySlopes(H, 0, 4);
  auto r =
      ref::lightningAttention(q, k, v, nullptr, nullptr, slopes, 4, ref::LightningMode::Recurrence);
  const double *Q = q.data<double>(), *K = k.data<double>(), *V = v.data<double>();
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t c = 0; c < d; ++c) {
        double want = 0;
        for (int64_t j = 0; j <= t; ++j) {
          double qk = 0;
          for (int64_t i = 0; i < d; ++i)
            qk += Q[(t * H + h) * d + i] * K[(j * H + h) * d + i];
          want += std::exp(-slopes[h] * double(t - j)) * qk * V[(j * H + h) * d + c];
        }
        EXPECT_NEAR(r.output.data<double>()[(t * H + h) * d + c], want,
                    1e-12 * (1 + std::abs(want)));
      }
}

// Decoding from a carried state equals running the whole sequence.
TEST(LightningKernel, CarriedStateContinuesTheSequence) {
  int64_t T = 40, H = 2, d = 4;
  Tensor q = test::randomTensor({1, T, H, d}, DType::F64, 8);
  Tensor k = test::randomTensor({1, T, H, d}, DType::F64, 9);
  Tensor v = test::randomTensor({1, T, H, d}, DType::F64, 10);
  auto slopes = lightningDecaySlopes(H, 1, 3);
  auto whole =
      ref::lightningAttention(q, k, v, nullptr, nullptr, slopes, 16, ref::LightningMode::Blockwise);
  auto first = ref::lightningAttention(sliceSeq(q, 0, 25), sliceSeq(k, 0, 25), sliceSeq(v, 0, 25),
                                       nullptr, nullptr, slopes, 16, ref::LightningMode::Blockwise);
  Tensor state = first.finalState;
  for (int64_t t = 25; t < T; ++t) { // one token at a time, as decode does
    auto step =
        ref::lightningAttention(sliceSeq(q, t, t + 1), sliceSeq(k, t, t + 1), sliceSeq(v, t, t + 1),
                                &state, nullptr, slopes, 16, ref::LightningMode::Recurrence);
    EXPECT_LT(test::relError(step.output, sliceSeq(whole.output, t, t + 1)), 1e-12) << t;
    state = step.finalState;
  }
  EXPECT_LT(test::relError(state, whole.finalState), 1e-12);
}

TEST(RouterKernel, RenormalisesOverTheChosenTopK) {
  Tensor logits = Tensor::fromVector<double>({2, 4}, {0.1, 2.0, -1.0, 1.5, 0.0, 0.0, 0.0, 0.0});
  auto r = ref::moeRouter(logits, 2, true);
  const double *w = r.weights.data<double>();
  const int64_t *e = r.indices.data<int64_t>();
  EXPECT_EQ(e[0], 1);
  EXPECT_EQ(e[1], 3);
  EXPECT_NEAR(w[0], std::exp(2.0) / (std::exp(2.0) + std::exp(1.5)), 1e-15);
  EXPECT_NEAR(w[0] + w[1], 1.0, 1e-15);
  // Ties keep the lower expert index first.
  EXPECT_EQ(e[2], 0);
  EXPECT_EQ(e[3], 1);
  EXPECT_NEAR(w[2], 0.5, 1e-15);
  auto raw = ref::moeRouter(logits, 2, false);
  EXPECT_NEAR(raw.weights.data<double>()[2], 0.25, 1e-15);
}

// Dispatch, per-expert matmul and combine equal a direct loop over the chosen experts.
TEST(MoEKernels, DispatchAndCombineEqualDirectRouting) {
  int64_t N = 7, D = 5, E = 3, K = 2, I = 4;
  Tensor x = test::randomTensor({N, D}, DType::F64, 11);
  Tensor w = test::randomTensor({E, I, D}, DType::F64, 12);
  auto r = ref::moeRouter(test::randomTensor({N, E}, DType::F64, 13), K, true);
  auto d = ref::moeDispatch(x, r.indices, E);
  Tensor y =
      ref::moeCombine(ref::groupedMatmul(d.dispatched, w, d.groupOffsets), d.tokenOrder, r.weights);
  for (int64_t t = 0; t < N; ++t)
    for (int64_t o = 0; o < I; ++o) {
      double want = 0;
      for (int64_t j = 0; j < K; ++j) {
        int64_t e = r.indices.data<int64_t>()[t * K + j];
        double dot = 0;
        for (int64_t i = 0; i < D; ++i)
          dot += w.data<double>()[(e * I + o) * D + i] * x.data<double>()[t * D + i];
        want += r.weights.data<double>()[t * K + j] * dot;
      }
      EXPECT_NEAR(y.data<double>()[t * I + o], want, 1e-12);
    }
}

// Query head h reads kv head h / (q_heads / kv_heads): same as repeating each
// kv head for its group of query heads.
TEST(AttentionKernel, GroupedQueryHeadMapping) {
  int64_t B = 1, T = 6, Hq = 6, Hkv = 2, D = 4, g = Hq / Hkv;
  Tensor q = test::randomTensor({B, T, Hq, D}, DType::F64, 14);
  Tensor k = test::randomTensor({B, T, Hkv, D}, DType::F64, 15);
  Tensor v = test::randomTensor({B, T, Hkv, D}, DType::F64, 16);
  Tensor kr = Tensor::empty(DType::F64, {B, T, Hq, D}),
         vr = Tensor::empty(DType::F64, {B, T, Hq, D});
  for (int64_t t = 0; t < T; ++t)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < D; ++i) {
        kr.data<double>()[(t * Hq + h) * D + i] = k.data<double>()[(t * Hkv + h / g) * D + i];
        vr.data<double>()[(t * Hq + h) * D + i] = v.data<double>()[(t * Hkv + h / g) * D + i];
      }
  auto grouped = ref::attention(q, k, v, true, 0.5, std::nullopt, std::nullopt, nullptr);
  auto repeated = ref::attention(q, kr, vr, true, 0.5, std::nullopt, std::nullopt, nullptr);
  EXPECT_LT(test::relError(grouped.output, repeated.output), 1e-14);
}

// Writing into a cache and attending against it equals attention over the
// whole sequence.
TEST(AttentionKernel, CachedAttentionEqualsFullAttention) {
  int64_t T = 9, H = 4, Hkv = 2, D = 4, S = 16;
  Tensor q = test::randomTensor({1, T, H, D}, DType::F64, 17);
  Tensor k = test::randomTensor({1, T, Hkv, D}, DType::F64, 18);
  Tensor v = test::randomTensor({1, T, Hkv, D}, DType::F64, 19);
  auto full = ref::attention(q, k, v, true, 0.3, std::nullopt, std::nullopt, nullptr);
  std::optional<Tensor> kc = Tensor::zeros(DType::F64, {1, S, Hkv, D});
  std::optional<Tensor> vc = Tensor::zeros(DType::F64, {1, S, Hkv, D});
  Tensor pos = Tensor::fromVector<int64_t>({1}, {0});
  auto first = ref::attention(sliceSeq(q, 0, 5), sliceSeq(k, 0, 5), sliceSeq(v, 0, 5), true, 0.3,
                              kc, vc, &pos);
  Tensor pos5 = Tensor::fromVector<int64_t>({1}, {5});
  auto rest = ref::attention(sliceSeq(q, 5, T), sliceSeq(k, 5, T), sliceSeq(v, 5, T), true, 0.3,
                             first.keyCache, first.valueCache, &pos5);
  EXPECT_LT(test::relError(first.output, sliceSeq(full.output, 0, 5)), 1e-14);
  EXPECT_LT(test::relError(rest.output, sliceSeq(full.output, 5, T)), 1e-14);
  Tensor overflow = Tensor::fromVector<int64_t>({1}, {S - 2});
  EXPECT_THROW(ref::attention(sliceSeq(q, 0, 5), sliceSeq(k, 0, 5), sliceSeq(v, 0, 5), true, 0.3,
                              rest.keyCache, rest.valueCache, &overflow),
               Error);
}

// Only dims [0, rotary_dim) of each head rotate, in rotate-half pairs.
TEST(RopeKernel, PartialRotaryLeavesTheRestUntouched) {
  int64_t D = 8, R = 4;
  Tensor x = test::randomTensor({1, 3, 2, D}, DType::F64, 20);
  Tensor pos = Tensor::fromVector<int64_t>({1, 3}, {0, 5, 1000});
  Tensor y = ref::rope(x, pos, R, 10000.0);
  const double *in = x.data<double>(), *out = y.data<double>();
  for (int64_t t = 0; t < 3; ++t)
    for (int64_t h = 0; h < 2; ++h) {
      int64_t base = (t * 2 + h) * D;
      for (int64_t i = R; i < D; ++i)
        EXPECT_EQ(out[base + i], in[base + i]);
      for (int64_t i = 0; i < R / 2; ++i) {
        double a = double(pos.data<int64_t>()[t]) * std::pow(10000.0, -2.0 * i / R);
        EXPECT_NEAR(out[base + i], in[base + i] * std::cos(a) - in[base + i + R / 2] * std::sin(a),
                    1e-12);
        EXPECT_NEAR(out[base + i + R / 2],
                    in[base + i + R / 2] * std::cos(a) + in[base + i] * std::sin(a), 1e-12);
      }
    }
}

TEST(EmbeddingKernel, IdOutsideTheVocabularyIsAnError) {
  Tensor table = test::randomTensor({10, 4}, DType::F32, 21);
  Tensor ids = Tensor::fromVector<int64_t>({2}, {3, 10});
  try {
    ref::embedding(table, ids);
    FAIL() << "expected an error";
  } catch (const Error &e) {
    EXPECT_STREQ(e.what(), "mm.embedding: token id 10 is outside the vocabulary [0, 10)");
  }
}
