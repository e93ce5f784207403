//===- LightningCases.cpp - lightning attention kernels vs ref::lightningAttention -===//
//
// Tolerances. Every output (and state entry) is a sum of products
// lambda^(t-j) q_t,i k_j,i v_j,n (plus the carried-in state's terms). Let M be
// the same sum of absolute values, computed by the reference recurrence in
// float64 on |q|, |k|, |v|, |S0| with the slopes HALVED (M'): it bounds M and
// also the decay errors below. Both implementations' rounding errors are
// gamma_N-style: |computed - exact| <= N u M, N the longest chain of roundings
// an output passes through:
//   GPU:       2 D (q.S, q.k) + 2 BS (block sum, P V) + nb (scan) + 8
//   reference: 2 D + BS + T (the state takes one addition per token) + 3 nb + 8
// Decay factors: expf(-s n) in float has relative error <= (s n + 4) u; over a
// term's chain of <= nb + 2 factors with exponents summing to t - j that is
// (s (t - j) + 4 (nb + 2)) u, and s x e^{-s x} <= (2/e) e^{-s x / 2} turns the
// first part into <= (2/e) u M'. Altogether
//   |gpu - ref| <= u (4 D + 3 BS + T + 8 nb + 26) M'        (outputs)
//   |gpu - ref| <= u (2 BS + T + 8 nb + 26) M'_state          (final state)
// A kernel using lambda^c instead of lambda^(c+1) for the inter term is off by
// ~s |inter| >= 2^-8 |inter| here, far above these bounds.
//
//===----------------------------------------------------------------------===//
#include "reference/kernels/Reference.h"
#include "runtime/LightningDecay.h"
#include "test/cuda/CaseUtil.h"

using namespace mm;
using namespace mm::cudatest;

namespace {

struct LightningConfig {
  std::string tag;
  int heads, headDim, blockSize;
};

struct LightningInputs {
  int64_t batch, tokens;
  int heads, headDim;
  std::vector<float> qkv;    // [B, T, H, 3D] interleaved, as the SiLU(qkv) projection
  std::vector<float> state0; // [B, H, D, D]
  std::vector<int64_t> lengths;
  std::vector<float> slopes;   // float32 slopes, what the kernels get
  std::vector<double> slopesD; // the same values, for the reference

  Tensor part(int which) const { // 0 = q, 1 = k, 2 = v as [B, T, H, D]
    std::vector<float> out(batch * tokens * heads * headDim);
    for (int64_t r = 0; r < batch * tokens * heads; ++r)
      for (int d = 0; d < headDim; ++d)
        out[r * headDim + d] = qkv[(r * 3 + which) * headDim + d];
    return floatTensor({batch, tokens, heads, headDim}, out);
  }
};

LightningInputs makeInputs(const LightningConfig &c, int64_t B, int64_t T,
                           std::vector<int64_t> lengths, uint64_t seed, int layer = 0) {
  LightningInputs in{B, T, c.heads, c.headDim, {}, {}, std::move(lengths), {}, {}};
  in.qkv = randomFloats(B * T * c.heads * 3 * c.headDim, seed, 0.5);
  in.state0 = randomFloats(B * c.heads * c.headDim * c.headDim, seed + 1, 0.5);
  for (double s : lightningDecaySlopes(c.heads, layer, 80)) {
    in.slopes.push_back(static_cast<float>(s));
    in.slopesD.push_back(static_cast<double>(static_cast<float>(s)));
  }
  return in;
}

struct LightningExpectation {
  std::vector<float> output, state;
  std::vector<double> outputTol, stateTol;
};

LightningExpectation expected(const LightningInputs &in, int blockSize, bool withState0) {
  Tensor q = in.part(0), k = in.part(1), v = in.part(2);
  Tensor s0 = floatTensor({in.batch, in.heads, in.headDim, in.headDim}, in.state0);
  Tensor lengths = intTensor({in.batch}, in.lengths);
  auto r = ref::lightningAttention(q, k, v, withState0 ? &s0 : nullptr, &lengths, in.slopesD,
                                   blockSize, ref::LightningMode::Blockwise);
  std::vector<double> half;
  for (double s : in.slopesD)
    half.push_back(s / 2);
  Tensor s0Abs = floatTensor(s0.shape(), absOf(in.state0)).to(DType::F64);
  auto mag = ref::lightningAttention(floatTensor(q.shape(), absOf(floatsOf(q))).to(DType::F64),
                                     floatTensor(k.shape(), absOf(floatsOf(k))).to(DType::F64),
                                     floatTensor(v.shape(), absOf(floatsOf(v))).to(DType::F64),
                                     withState0 ? &s0Abs : nullptr, &lengths, half, 1,
                                     ref::LightningMode::Recurrence);
  int64_t nb = mmk::ceilDiv(in.tokens, blockSize);
  double outN = 4.0 * in.headDim + 3.0 * blockSize + in.tokens + 8.0 * nb + 26;
  double stateN = 2.0 * blockSize + in.tokens + 8.0 * nb + 26;
  return {floatsOf(r.output), floatsOf(r.finalState), scaled(doublesOf(mag.output), outN * kU),
          scaled(doublesOf(mag.finalState), stateN * kU)};
}

struct LightningRun {
  std::vector<float> output, state;
  int error;
};

/// The three prefill launches; q/k/v read in place from the interleaved
/// buffer, or (interleaved = false) from separate [B, T, H, D] tensors.
LightningRun runPrefill(const LightningConfig &c, const LightningInputs &in, bool withState0,
                        bool interleaved) {
  KernelRunner &r = testRunner();
  const int64_t B = in.batch, T = in.tokens, H = c.heads, D = c.headDim;
  DeviceArray<float> qkv(r, in.qkv), q(r, floatsOf(in.part(0))), k(r, floatsOf(in.part(1))),
      v(r, floatsOf(in.part(2)));
  const float *qp = interleaved ? qkv.ptr() : q.ptr();
  const float *kp = interleaved ? qkv.ptr() + D : k.ptr();
  const float *vp = interleaved ? qkv.ptr() + 2 * D : v.ptr();
  int64_t tokenStride = interleaved ? 3 * H * D : H * D, headStride = interleaved ? 3 * D : D;
  DeviceArray<float> s0(r, in.state0), s1(r, B * H * D * D), out(r, B * T * H * D),
      ws(r, mmk::lightningWorkspaceFloats(B, H, T, D, c.blockSize));
  DeviceArray<float> slopes(r, in.slopes);
  DeviceArray<int64_t> lengths(r, in.lengths);
  ErrorFlag err;
  const int64_t *len = lengths.ptr();
  run("t_lightning_state_" + c.tag, cuda::launch::lightningState(B, T, H, c.blockSize), kp, vp,
      tokenStride, headStride, len, slopes.ptr(), ws.ptr(), B, T, err.ptr());
  run("t_lightning_scan_" + c.tag, cuda::launch::lightningScan(B, H, D), ws.ptr(),
      withState0 ? static_cast<const float *>(s0.ptr()) : nullptr, s1.ptr(), len, slopes.ptr(), B,
      T, err.ptr());
  run("t_lightning_output_" + c.tag, cuda::launch::lightningOutput(B, T, H, D, c.blockSize), qp, kp,
      vp, tokenStride, headStride, out.ptr(), H * D, static_cast<const float *>(ws.ptr()), len,
      slopes.ptr(), B, T, err.ptr());
  return {out.download(), s1.download(), err.value()};
}

void checkPrefill(const LightningConfig &c, int64_t B, int64_t T, std::vector<int64_t> lengths,
                  bool withState0, bool interleaved, uint64_t seed, int layer = 0) {
  SCOPED_TRACE(c.tag + " B=" + std::to_string(B) + " T=" + std::to_string(T) +
               (withState0 ? " with S0" : "") + (interleaved ? " interleaved" : " separate"));
  LightningInputs in = makeInputs(c, B, T, std::move(lengths), seed, layer);
  LightningExpectation want = expected(in, c.blockSize, withState0);
  LightningRun got = runPrefill(c, in, withState0, interleaved);
  EXPECT_EQ(got.error, 0) << cuda::kernelErrorMessage(got.error);
  EXPECT_TRUE(allClose(got.output, want.output, want.outputTol)) << "output";
  EXPECT_TRUE(allClose(got.state, want.state, want.stateTol)) << "final state";
}

bool gpu() { return !testRunner().emulated(); }

const LightningConfig kD16[] = {
    {"d16_b16", 4, 16, 16}, {"d16_b32", 4, 16, 32}, {"d16_b48", 4, 16, 48}, {"d16_b64", 4, 16, 64}};
const LightningConfig kD128B64{"d128_b64", 2, 128, 64}, kD128B256{"d128_b256", 2, 128, 256},
    kFull{"full", 64, 128, 256};

} // namespace

// Several block sizes, a partial last block, a shorter second sequence (its
// tail must be zero), a carried-in state, q/k/v read in place from [B,T,H,3D].
TEST(LightningPrefill, HeadDim16AllBlockSizes) {
  for (const LightningConfig &c : kD16) {
    checkPrefill(c, 2, 70, {70, 37}, true, true, 11);
    checkPrefill(c, 1, 16, {16}, false, false, 12); // exactly one block, no state
  }
}

TEST(LightningPrefill, HeadDim128Block64) {
  checkPrefill(kD128B64, 2, 200, {200, 131}, true, true, 21);
  checkPrefill(kD128B64, 1, 64, {50}, false, false, 22);
}

TEST(LightningPrefill, HeadDim128Block256) {
  checkPrefill(kD128B256, 2, 300, {300, 200}, true, true, 31);
  checkPrefill(kD128B256, 1, 256, {256}, true, false, 32, 79); // last layer: slow decay
}

// GPU binary only: 64 heads x d 128 is for the GPU run; the emulator covers d 128 with 2 heads.
#ifdef MM_CUDA_GPU_CASES
TEST(LightningPrefill, FullSize64Heads) {
  checkPrefill(kFull, 1, 520, {520}, true, true, 41);
  checkPrefill(kFull, 2, 300, {300, 17}, false, true, 42);
}
#endif

// Sequences of length 0 keep their state and produce zeros; a length beyond T
// is reported, not read.
TEST(LightningPrefill, ZeroAndInvalidLengths) {
  const LightningConfig &c = kD16[0];
  checkPrefill(c, 2, 20, {0, 20}, true, true, 51);
  LightningInputs in = makeInputs(c, 1, 20, {21}, 52);
  EXPECT_EQ(runPrefill(c, in, true, true).error, mmk::kLengthOutOfRange);
}

namespace {

/// One decode step from a carried state against the reference recurrence
/// (T = 1). Tolerance: S' = lambda S + k v^T takes <= 2 roundings per side
/// plus lambda's 4u, o = q.S' a D-term dot: |diff| <= (2 D + 12) u sum_i
/// |q_i| (lambda |S_i| + |k_i||v|) for o and 8 u (lambda |S| + |k||v|) for S'.
void checkDecode(const std::string &tag, int H, int D, int64_t B, uint64_t seed) {
  SCOPED_TRACE(tag);
  KernelRunner &r = testRunner();
  std::vector<float> q = randomFloats(B * H * D, seed, 0.5),
                     k = randomFloats(B * H * D, seed + 1, 0.5),
                     v = randomFloats(B * H * D, seed + 2),
                     s0 = randomFloats(B * H * D * D, seed + 3, 2.0);
  std::vector<int64_t> lengths(B, 1);
  lengths[B - 1] = 0; // an idle sequence in the batch
  std::vector<float> slopes;
  std::vector<double> slopesD;
  for (double s : lightningDecaySlopes(H, 3, 80)) {
    slopes.push_back(static_cast<float>(s));
    slopesD.push_back(static_cast<float>(s));
  }
  Tensor S0 = floatTensor({B, H, D, D}, s0), len = intTensor({B}, lengths);
  auto want = ref::lightningAttention(floatTensor({B, 1, H, D}, q), floatTensor({B, 1, H, D}, k),
                                      floatTensor({B, 1, H, D}, v), &S0, &len, slopesD, 1,
                                      ref::LightningMode::Recurrence);
  std::vector<double> outTol(B * H * D), stateTol(B * H * D * D);
  for (int64_t b = 0; b < B; ++b)
    for (int h = 0; h < H; ++h) {
      double lambda = std::exp(-slopesD[h]);
      const float *qv = &q[(b * H + h) * D], *kv = &k[(b * H + h) * D], *vv = &v[(b * H + h) * D];
      const float *S = &s0[(b * H + h) * D * D];
      for (int n = 0; n < D; ++n) {
        double mag = 0;
        for (int i = 0; i < D; ++i) {
          double term = lambda * std::fabs(S[i * D + n]) + std::fabs(kv[i] * vv[n]);
          mag += std::fabs(qv[i]) * term;
          stateTol[((b * H + h) * D + i) * D + n] = 8 * kU * term;
        }
        outTol[(b * H + h) * D + n] = (2.0 * D + 12) * kU * mag;
      }
    }
  // Idle sequence: state copied exactly, output exactly zero.
  for (int64_t i = (B - 1) * H * D; i < B * H * D; ++i)
    outTol[i] = 0;
  for (int64_t i = (B - 1) * H * D * D; i < B * H * D * D; ++i)
    stateTol[i] = 0;

  DeviceArray<float> qd(r, q), kd(r, k), vd(r, v), state(r, s0), out(r, B * H * D),
      slopesDev(r, slopes);
  DeviceArray<int64_t> lenDev(r, lengths);
  ErrorFlag err;
  // In place: stateOut == stateIn.
  run("t_lightning_decode_" + tag, cuda::launch::lightningDecode(B, H, D), qd.ptr(), kd.ptr(),
      vd.ptr(), int64_t(H * D), int64_t(D), out.ptr(), int64_t(H * D),
      static_cast<const float *>(state.ptr()), state.ptr(), lenDev.ptr(), slopesDev.ptr(), B,
      err.ptr());
  EXPECT_NO_KERNEL_ERROR(err);
  EXPECT_TRUE(allClose(out.download(), floatsOf(want.output), outTol)) << "output";
  EXPECT_TRUE(allClose(state.download(), floatsOf(want.finalState), stateTol)) << "state";
}

} // namespace

TEST(LightningDecode, FromCarriedStateInPlace) {
  checkDecode("d16", 4, 16, 3, 61);
  checkDecode("d128", 2, 128, 2, 62);
  if (gpu())
    checkDecode("full", 64, 128, 2, 63);
}

// prefill(n) then decode(token n+1) == prefill(n+1) at the last position,
// with the GPU's own prefill state carried into decode.
TEST(LightningDecode, PrefillThenDecodeEqualsLongerPrefill) {
  const LightningConfig c = kD128B64;
  const int64_t n = 130, H = c.heads, D = c.headDim;
  LightningInputs longer = makeInputs(c, 1, n + 1, {n + 1}, 71);
  LightningInputs shorter = longer;
  shorter.tokens = n;
  shorter.lengths = {n};
  shorter.qkv.resize(n * H * 3 * D);
  LightningRun pre = runPrefill(c, shorter, true, true);
  ASSERT_EQ(pre.error, 0);

  KernelRunner &r = testRunner();
  std::vector<float> last(longer.qkv.begin() + n * H * 3 * D, longer.qkv.end());
  DeviceArray<float> qkv(r, last), state(r, pre.state), out(r, H * D), slopes(r, longer.slopes);
  ErrorFlag err;
  run("t_lightning_decode_d128", cuda::launch::lightningDecode(1, H, D), qkv.ptr(), qkv.ptr() + D,
      qkv.ptr() + 2 * D, int64_t(3 * H * D), int64_t(3 * D), out.ptr(), int64_t(H * D),
      static_cast<const float *>(state.ptr()), state.ptr(), static_cast<const int64_t *>(nullptr),
      slopes.ptr(), int64_t(1), err.ptr());
  EXPECT_NO_KERNEL_ERROR(err);

  LightningExpectation want = expected(longer, c.blockSize, true);
  std::vector<float> wantLast(want.output.end() - H * D, want.output.end());
  std::vector<double> tolLast(want.outputTol.end() - H * D, want.outputTol.end());
  EXPECT_TRUE(allClose(out.download(), wantLast, tolLast)) << "last position";
  EXPECT_TRUE(allClose(state.download(), want.state, want.stateTol)) << "state";
}
