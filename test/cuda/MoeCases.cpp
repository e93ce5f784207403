//===- MoeCases.cpp - router, sort/dispatch, grouped GEMMs, combine ---------===//
//
// Tolerances:
//  - router weights: the softmax sum is a warp tree (E terms) and expf is
//    2 ulp, renormalisation adds a division: |diff| <= (2 E + 24) u |w|.
//  - grouped GEMM: each output is a K-term dot product, sequential fma on the
//    GPU, 4 interleaved accumulators in the reference; each side is within
//    (K + 4) u sum_k |x_k w_k|, so |diff| <= (2 K + 8) u (|x| |W|^T).
//  - SwiGLU: with gate / up errors eg, eu as above, |silu'| <= 1.1:
//    |diff| <= 1.1 |up| eg + |silu(gate)| eu + 16 u |y|.
//  - combine: TOPK products and sums per side: 2 (TOPK + 2) u sum_j |w_j e_j|.
// Offsets, orders and dispatched rows are integers / copies: exact.
//
//===----------------------------------------------------------------------===//
#include "reference/kernels/Reference.h"
#include "test/cuda/CaseUtil.h"

#include <algorithm>

using namespace mm;
using namespace mm::cudatest;

namespace {

bool gpu() { return !testRunner().emulated(); }

struct Routed {
  std::vector<float> weights;
  std::vector<int64_t> indices;
};

/// Router on the device; indices must equal the reference except for swaps of
/// probabilities that are equal within the tolerance.
Routed checkRouter(const std::string &tag, int E, int64_t tokens, std::vector<float> logits,
                   bool renormalize) {
  SCOPED_TRACE("router " + tag);
  KernelRunner &r = testRunner();
  const int K = 2;
  auto want = ref::moeRouter(floatTensor({tokens, E}, logits), K, renormalize);
  auto probs = ref::softmax(floatTensor({tokens, E}, logits), -1, false);
  DeviceArray<float> l(r, logits), w(r, tokens * K);
  DeviceArray<int64_t> idx(r, tokens * K);
  run("t_router_" + tag, cuda::launch::moeRouter(tokens), static_cast<const float *>(l.ptr()),
      w.ptr(), idx.ptr(), tokens, int(renormalize));
  Routed got{w.download(), idx.download()};
  std::vector<int64_t> wantIdx = intsOf(want.indices);
  const float *p = probs.data<float>();
  for (int64_t i = 0; i < tokens * K; ++i) {
    if (got.indices[i] == wantIdx[i])
      continue;
    int64_t t = i / K;
    double a = p[t * E + got.indices[i]], b = p[t * E + wantIdx[i]];
    EXPECT_LE(std::fabs(a - b), (2.0 * E + 24) * kU * b)
        << "token " << t << " choice " << i % K << ": expert " << got.indices[i] << " vs "
        << wantIdx[i] << " is not a near-tie";
  }
  EXPECT_TRUE(allClose(got.weights, floatsOf(want.weights),
                       scaled(floatsOf(want.weights), (2.0 * E + 24) * kU)));
  return got;
}

struct Sorted {
  std::vector<int64_t> offsets, order, rowOfSlot;
  int error;
};

Sorted runSort(const std::string &tag, int E, const std::vector<int64_t> &indices) {
  KernelRunner &r = testRunner();
  const int64_t slots = static_cast<int64_t>(indices.size());
  DeviceArray<int64_t> idx(r, indices), offsets(r, E + 1), order(r, slots), rowOfSlot(r, slots);
  ErrorFlag err;
  run("t_moe_sort_" + tag, cuda::launch::moeSort(), static_cast<const int64_t *>(idx.ptr()), slots,
      offsets.ptr(), order.ptr(), rowOfSlot.ptr(), err.ptr());
  return {offsets.download(), order.download(), rowOfSlot.download(), err.value()};
}

/// Sort + gather against ref::moeDispatch; returns the device results.
Sorted checkDispatch(const std::string &sortTag, const std::string &gatherTag, int E, int D,
                     const std::vector<int64_t> &indices, const std::vector<float> &x) {
  SCOPED_TRACE("dispatch " + sortTag + " / " + gatherTag);
  KernelRunner &r = testRunner();
  const int K = 2;
  const int64_t slots = static_cast<int64_t>(indices.size()), tokens = slots / K;
  auto want = ref::moeDispatch(floatTensor({tokens, D}, x), intTensor({tokens, K}, indices), E);
  Sorted got = runSort(sortTag, E, indices);
  EXPECT_EQ(got.error, 0);
  EXPECT_EQ(got.offsets, intsOf(want.groupOffsets));
  EXPECT_EQ(got.order, intsOf(want.tokenOrder));
  for (int64_t row = 0; row < slots; ++row)
    if (got.order[row] >= 0 && got.order[row] < slots) {
      EXPECT_EQ(got.rowOfSlot[got.order[row]], row) << "rowOfSlot inverts tokenOrder";
    }
  DeviceArray<float> xd(r, x), dispatched(r, slots * D);
  DeviceArray<int64_t> order(r, got.order);
  ErrorFlag err;
  run("t_moe_gather_" + gatherTag, cuda::launch::rows(slots, mmk::rowThreads(D / 4)),
      static_cast<const float *>(xd.ptr()), static_cast<const int64_t *>(order.ptr()),
      dispatched.ptr(), slots, err.ptr());
  EXPECT_NO_KERNEL_ERROR(err);
  EXPECT_EQ(dispatched.download(), floatsOf(want.dispatched));
  return got;
}

/// The expert MLP on dispatched rows: SwiGLU (w1, w3) then the down projection (w2).
struct ExpertWeights {
  int experts, hidden, inter;
  std::vector<float> w1, w3, w2; // [E, I, H], [E, I, H], [E, H, I]
};

ExpertWeights randomExperts(int E, int H, int I, uint64_t seed) {
  return {E,
          H,
          I,
          randomFloats(size_t(E) * I * H, seed, 1 / std::sqrt(double(H))),
          randomFloats(size_t(E) * I * H, seed + 1, 1 / std::sqrt(double(H))),
          randomFloats(size_t(E) * H * I, seed + 2, 1 / std::sqrt(double(I)))};
}

/// Grouped GEMM tolerance (2 K + 8) u (|x| |W|^T) per output.
std::vector<double> gemmTolerance(const std::vector<float> &x, const std::vector<float> &w,
                                  const Tensor &offsets, int64_t rows, int E, int N, int K) {
  Tensor mag = ref::groupedMatmul(floatTensor({rows, K}, absOf(x)).to(DType::F64),
                                  floatTensor({E, N, K}, absOf(w)).to(DType::F64), offsets);
  return scaled(doublesOf(mag), (2.0 * K + 8) * kU);
}

std::vector<float> checkExperts(const std::string &tag, const ExpertWeights &w,
                                const std::vector<float> &dispatched,
                                const std::vector<int64_t> &offsets) {
  SCOPED_TRACE("experts " + tag);
  KernelRunner &r = testRunner();
  const int E = w.experts, H = w.hidden, I = w.inter;
  const int64_t rows = static_cast<int64_t>(dispatched.size()) / H;
  Tensor off = intTensor({E + 1}, offsets), x = floatTensor({rows, H}, dispatched);
  Tensor gate = ref::groupedMatmul(x, floatTensor({E, I, H}, w.w1), off);
  Tensor upProj = ref::groupedMatmul(x, floatTensor({E, I, H}, w.w3), off);
  Tensor up = ref::swiglu(gate, upProj);
  std::vector<double> eg = gemmTolerance(dispatched, w.w1, off, rows, E, I, H),
                      eu = gemmTolerance(dispatched, w.w3, off, rows, E, I, H);
  std::vector<float> g = floatsOf(gate), u = floatsOf(upProj), y = floatsOf(up);
  std::vector<double> upTol(y.size());
  for (size_t i = 0; i < y.size(); ++i)
    upTol[i] = 1.1 * std::fabs(u[i]) * eg[i] + std::fabs(g[i] / (1 + std::exp(-g[i]))) * eu[i] +
               16 * kU * std::fabs(y[i]);

  DeviceArray<float> xd(r, dispatched), w1(r, w.w1), w3(r, w.w3), w2(r, w.w2), upDev(r, rows * I),
      down(r, rows * H);
  DeviceArray<int64_t> offDev(r, offsets);
  ErrorFlag err;
  run("t_moe_swiglu_" + tag, cuda::launch::groupedSwiglu(rows, I, E),
      static_cast<const float *>(xd.ptr()), static_cast<const float *>(w1.ptr()),
      static_cast<const float *>(w3.ptr()), static_cast<const int64_t *>(offDev.ptr()), upDev.ptr(),
      rows, err.ptr());
  std::vector<float> upGot = upDev.download();
  EXPECT_TRUE(allClose(upGot, y, upTol)) << "swiglu";
  // The down projection is checked on the device's own SwiGLU output.
  Tensor wantDown =
      ref::groupedMatmul(floatTensor({rows, I}, upGot), floatTensor({E, H, I}, w.w2), off);
  run("t_moe_down_" + tag, cuda::launch::groupedGemm(rows, H, E),
      static_cast<const float *>(upDev.ptr()), static_cast<const float *>(w2.ptr()),
      static_cast<const int64_t *>(offDev.ptr()), down.ptr(), rows, err.ptr());
  EXPECT_NO_KERNEL_ERROR(err);
  std::vector<float> downGot = down.download();
  EXPECT_TRUE(allClose(downGot, floatsOf(wantDown), gemmTolerance(upGot, w.w2, off, rows, E, H, I)))
      << "down projection";
  if (rows <= 4 * mmk::kGroupedGemvMaxRows) {
    // The decode form on the same rows, against the same references and bounds.
    DeviceArray<float> upGv(r, rows * I), downGv(r, rows * H);
    run("t_moe_swiglu_gv_" + tag, cuda::launch::groupedGemv(I, E),
        static_cast<const float *>(xd.ptr()), static_cast<const float *>(w1.ptr()),
        static_cast<const float *>(w3.ptr()), static_cast<const int64_t *>(offDev.ptr()),
        upGv.ptr(), rows, err.ptr());
    EXPECT_TRUE(allClose(upGv.download(), y, upTol)) << "swiglu, GEMV form";
    run("t_moe_down_gv_" + tag, cuda::launch::groupedGemv(H, E),
        static_cast<const float *>(upDev.ptr()), static_cast<const float *>(w2.ptr()),
        static_cast<const int64_t *>(offDev.ptr()), downGv.ptr(), rows, err.ptr());
    EXPECT_NO_KERNEL_ERROR(err);
    EXPECT_TRUE(allClose(downGv.download(), floatsOf(wantDown),
                         gemmTolerance(upGot, w.w2, off, rows, E, H, I)))
        << "down projection, GEMV form";
  }
  return downGot;
}

std::vector<float> checkCombine(const std::string &tag, int D, const std::vector<float> &expertOut,
                                const Sorted &sorted, const std::vector<float> &weights) {
  SCOPED_TRACE("combine " + tag);
  KernelRunner &r = testRunner();
  const int K = 2;
  const int64_t slots = static_cast<int64_t>(sorted.order.size()), tokens = slots / K;
  Tensor want =
      ref::moeCombine(floatTensor({slots, D}, expertOut), intTensor({slots}, sorted.order),
                      floatTensor({tokens, K}, weights));
  std::vector<double> tol(tokens * D);
  for (int64_t t = 0; t < tokens; ++t)
    for (int d = 0; d < D; ++d) {
      double mag = 0;
      for (int j = 0; j < K; ++j)
        mag +=
            std::fabs(double(weights[t * K + j]) * expertOut[sorted.rowOfSlot[t * K + j] * D + d]);
      tol[t * D + d] = 2 * (K + 2) * kU * mag;
    }
  DeviceArray<float> e(r, expertOut), w(r, weights), out(r, tokens * D);
  DeviceArray<int64_t> rows(r, sorted.rowOfSlot);
  ErrorFlag err;
  run("t_moe_combine_" + tag, cuda::launch::rows(tokens, mmk::rowThreads(D)),
      static_cast<const float *>(e.ptr()), static_cast<const int64_t *>(rows.ptr()),
      static_cast<const float *>(w.ptr()), out.ptr(), tokens, err.ptr());
  EXPECT_NO_KERNEL_ERROR(err);
  std::vector<float> got = out.download();
  EXPECT_TRUE(allClose(got, floatsOf(want), tol));
  return got;
}

/// Indices with chosen group sizes: `counts[e]` slots for expert e, shuffled
/// so that each token's two choices differ when possible.
std::vector<int64_t> indicesWithCounts(const std::vector<int> &counts, uint64_t seed) {
  std::vector<int64_t> idx;
  for (size_t e = 0; e < counts.size(); ++e)
    idx.insert(idx.end(), counts[e], static_cast<int64_t>(e));
  std::mt19937_64 rng(seed);
  std::shuffle(idx.begin(), idx.end(), rng);
  return idx;
}

} // namespace

TEST(Moe, RouterRandomAndTies) {
  for (auto [tag, E] : {std::pair<std::string, int>{"tiny", 4}, {"full", 32}}) {
    int64_t tokens = gpu() ? 1000 : 37;
    std::vector<float> logits = randomFloats(tokens * E, 201 + E, 2.0);
    // Ties: all equal (-> experts 0, 1 with weight 1/2); two equal maxima at 3 and 1.
    std::fill_n(logits.begin(), E, 0.25f);
    std::fill_n(logits.begin() + E, E, -1.0f);
    logits[E + 3] = logits[E + 1] = 2.0f;
    for (bool renorm : {true, false}) {
      Routed got = checkRouter(tag, E, tokens, logits, renorm);
      EXPECT_EQ(got.indices[0], 0);
      EXPECT_EQ(got.indices[1], 1);
      EXPECT_EQ(got.indices[2], 1);
      EXPECT_EQ(got.indices[3], 3);
      if (renorm) {
        EXPECT_EQ(got.weights[0], 0.5f);
      }
    }
  }
}

// Multiple 1024-slot chunks, an expert with no slots, groups larger than one
// 64-row tile, a partial last k tile (mid: K = 80, 96) and column tile.
TEST(Moe, DispatchExpertsCombine) {
  struct Dims {
    std::string tag, routingTag;
    int E, H, I;
    std::vector<int> counts;
  };
  std::vector<Dims> all = {{"tiny", "tiny", 4, 32, 64, {70, 0, 25, 5}},
                           {"tiny", "tiny", 4, 32, 64, {1, 0, 2, 1}}, // a decode step
                           {"mid", "tiny", 4, 80, 96, {1500, 301, 0, 899}}};
  for (const Dims &d : all) {
    std::vector<int64_t> indices = indicesWithCounts(d.counts, 211);
    const int64_t slots = static_cast<int64_t>(indices.size()), tokens = slots / 2;
    std::vector<float> x = randomFloats(tokens * d.H, 212);
    Sorted sorted = checkDispatch(d.routingTag, d.tag, d.E, d.H, indices, x);
    std::vector<float> dispatched(slots * d.H);
    for (int64_t row = 0; row < slots; ++row)
      std::copy_n(&x[(sorted.order[row] / 2) * d.H], d.H, &dispatched[row * d.H]);
    ExpertWeights w = randomExperts(d.E, d.H, d.I, 213);
    std::vector<float> expertOut = checkExperts(d.tag, w, dispatched, sorted.offsets);
    std::vector<float> weights = randomFloats(slots, 214, 0.3, 0.5);
    checkCombine(d.tag, d.H, expertOut, sorted, weights);
  }
}

// The whole MoE block chained on the device, each stage checked on the
// previous stage's device output.
TEST(Moe, RouterToCombinePipeline) {
  const int E = 32, H = 80, I = 96;
  const int64_t tokens = gpu() ? 777 : 300;
  std::vector<float> logits = randomFloats(tokens * E, 221, 1.5), x = randomFloats(tokens * H, 222);
  Routed routed = checkRouter("full", E, tokens, logits, true);
  checkDispatch("full", "mid", E, H, routed.indices, x);
  // The mid expert kernels are instantiated for 4 experts: fold the 32
  // experts' groups onto 4 by routing index % 4, which keeps the pipeline's
  // shape (uneven, data-dependent groups) with 4 weight sets.
  std::vector<int64_t> folded = routed.indices;
  for (int64_t &e : folded)
    e %= 4;
  Sorted sorted4 = runSort("tiny", 4, folded);
  ASSERT_EQ(sorted4.error, 0);
  std::vector<float> dispatched(folded.size() * H);
  for (size_t row = 0; row < folded.size(); ++row)
    std::copy_n(&x[(sorted4.order[row] / 2) * H], H, &dispatched[row * H]);
  ExpertWeights w = randomExperts(4, H, I, 223);
  std::vector<float> expertOut = checkExperts("mid", w, dispatched, sorted4.offsets);
  checkCombine("mid", H, expertOut, sorted4, routed.weights);
}

namespace {
/// Rows routed only to the first and the last expert of E; every other
/// expert's weights stay NaN (the allocation's fill), so a read of them shows
/// up in the output.
void checkOnlyRoutedExpertsAreRead(const std::string &tag, int E, int H, int I) {
  SCOPED_TRACE(tag);
  KernelRunner &r = testRunner();
  const int64_t rows = 16;
  std::vector<int64_t> offsets(E + 1, 10);
  offsets[0] = 0;
  offsets[E] = rows; // expert 0: rows 0..9, expert E-1: rows 10..15
  Tensor off2 = intTensor({3}, {0, 10, rows});
  std::vector<float> x = randomFloats(rows * H, 231);
  const size_t expertUp = size_t(I) * H, expertDown = size_t(H) * I;
  std::vector<float> w1 = fastUniform(2 * expertUp, 232, 0.02f),
                     w3 = fastUniform(2 * expertUp, 233, 0.02f),
                     w2 = fastUniform(2 * expertDown, 234, 0.02f);
  DeviceArray<float> w1d(r, E * expertUp), w3d(r, E * expertUp), w2d(r, E * expertDown);
  auto uploadExperts = [&](DeviceArray<float> &dev, const std::vector<float> &two, size_t per) {
    r.copyToDevice(reinterpret_cast<uint64_t>(dev.ptr()), two.data(), per * sizeof(float));
    r.copyToDevice(reinterpret_cast<uint64_t>(dev.ptr() + (E - 1) * per), two.data() + per,
                   per * sizeof(float));
  };
  uploadExperts(w1d, w1, expertUp);
  uploadExperts(w3d, w3, expertUp);
  uploadExperts(w2d, w2, expertDown);
  DeviceArray<float> xd(r, x), up(r, rows * I), down(r, rows * H);
  DeviceArray<int64_t> offDev(r, offsets);
  ErrorFlag err;
  run("t_moe_swiglu_" + tag, cuda::launch::groupedSwiglu(rows, I, E),
      static_cast<const float *>(xd.ptr()), static_cast<const float *>(w1d.ptr()),
      static_cast<const float *>(w3d.ptr()), static_cast<const int64_t *>(offDev.ptr()), up.ptr(),
      rows, err.ptr());
  run("t_moe_down_" + tag, cuda::launch::groupedGemm(rows, H, E),
      static_cast<const float *>(up.ptr()), static_cast<const float *>(w2d.ptr()),
      static_cast<const int64_t *>(offDev.ptr()), down.ptr(), rows, err.ptr());
  EXPECT_NO_KERNEL_ERROR(err);

  Tensor xt = floatTensor({rows, H}, x);
  Tensor gate = ref::groupedMatmul(xt, floatTensor({2, I, H}, w1), off2);
  Tensor upProj = ref::groupedMatmul(xt, floatTensor({2, I, H}, w3), off2);
  std::vector<float> upWant = floatsOf(ref::swiglu(gate, upProj)), upGot = up.download();
  std::vector<double> eg = gemmTolerance(x, w1, off2, rows, 2, I, H),
                      eu = gemmTolerance(x, w3, off2, rows, 2, I, H);
  std::vector<float> g = floatsOf(gate), u = floatsOf(upProj);
  std::vector<double> upTol(upWant.size());
  for (size_t i = 0; i < upWant.size(); ++i)
    upTol[i] = 1.1 * std::fabs(u[i]) * eg[i] + std::fabs(g[i] / (1 + std::exp(-g[i]))) * eu[i] +
               16 * kU * std::fabs(upWant[i]);
  EXPECT_TRUE(allClose(upGot, upWant, upTol)) << "swiglu";
  Tensor downWant =
      ref::groupedMatmul(floatTensor({rows, I}, upGot), floatTensor({2, H, I}, w2), off2);
  EXPECT_TRUE(
      allClose(down.download(), floatsOf(downWant), gemmTolerance(upGot, w2, off2, rows, 2, H, I)))
      << "down projection";
}
} // namespace

TEST(Moe, OnlyRoutedExpertsAreRead) { checkOnlyRoutedExpertsAreRead("mid", 4, 80, 96); }

// Full MiniMax-Text-01 expert shapes: H 6144, I 9216, 32 experts (21 GiB of weights).
// GPU binary only: 21 GiB of expert weights: GPU only (OnlyRoutedExpertsAreRead runs the same
// check).
#ifdef MM_CUDA_GPU_CASES
TEST(Moe, FullSizeExpertsTouchOnlyRoutedWeights) {
  checkOnlyRoutedExpertsAreRead("full", 32, 6144, 9216);
}
#endif

TEST(Moe, BadIndicesOffsetsAndOrdersAreReported) {
  KernelRunner &r = testRunner();
  // An expert index out of range: reported, its slot dropped, tail marked -1.
  Sorted bad = runSort("tiny", 4, {0, 4, 1, 2});
  EXPECT_EQ(bad.error, mmk::kExpertOutOfRange);
  EXPECT_EQ(bad.offsets.back(), 3);
  EXPECT_EQ(bad.order.back(), -1);
  EXPECT_EQ(bad.rowOfSlot[1], -1);

  // Decreasing group offsets.
  DeviceArray<float> x(r, randomFloats(8 * 32, 241)), w(r, randomFloats(4 * 64 * 32, 242)),
      y(r, 8 * 64);
  DeviceArray<int64_t> offsets(r, std::vector<int64_t>{0, 5, 3, 8, 8});
  ErrorFlag err;
  run("t_moe_swiglu_tiny", cuda::launch::groupedSwiglu(8, 64, 4),
      static_cast<const float *>(x.ptr()), static_cast<const float *>(w.ptr()),
      static_cast<const float *>(w.ptr()), static_cast<const int64_t *>(offsets.ptr()), y.ptr(),
      int64_t(8), err.ptr());
  EXPECT_EQ(err.value(), mmk::kBadGroupOffsets);

  // Token orders: a valid permutation inverts; a duplicate is reported.
  for (bool duplicate : {false, true}) {
    std::vector<int64_t> order{3, 0, 2, 1, 5, 4};
    if (duplicate)
      order[4] = 0;
    DeviceArray<int64_t> o(r, order), rowOfSlot(r, order.size());
    rowOfSlot.fill(0xff);
    err.reset();
    run("t_moe_invert_order", cuda::launch::elementwise(6), static_cast<const int64_t *>(o.ptr()),
        rowOfSlot.ptr(), int64_t(6), err.ptr());
    if (duplicate) {
      EXPECT_EQ(err.value(), mmk::kBadTokenOrder);
    } else {
      EXPECT_NO_KERNEL_ERROR(err);
      EXPECT_EQ(rowOfSlot.download(), (std::vector<int64_t>{1, 3, 2, 0, 5, 4}));
    }
  }
}
