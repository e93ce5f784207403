//===- RowCases.cpp - rms_norm (plain and fused), softmax, gathers, rope ---===//
#include "reference/kernels/Reference.h"
#include "test/cuda/CaseUtil.h"

#include <algorithm>

using namespace mm;
using namespace mm::cudatest;

namespace {
bool gpu() { return !testRunner().emulated(); }
} // namespace

// The sum of squares is summed in another order than the reference's; with
// all terms positive each side is within (H - 1) u relative, so 1/sqrt(.)
// moves by <= (H/2 + 3) u per side and the output by <= (H + 8) u |y|.
TEST(RowKernels, RmsNorm) {
  KernelRunner &r = testRunner();
  for (auto [tag, H] : {std::pair<std::string, int>{"tiny", 32}, {"mid", 300}, {"full", 6144}}) {
    SCOPED_TRACE(tag);
    const int64_t rows = gpu() ? 300 : (H > 1000 ? 3 : 9);
    std::vector<float> x = randomFloats(rows * H, 401, 2.0), w = randomFloats(H, 402, 1.0, 1.0);
    std::vector<float> want =
        floatsOf(ref::rmsNorm(floatTensor({rows, H}, x), floatTensor({H}, w), 1e-5));
    DeviceArray<float> xd(r, x), wd(r, w), y(r, rows * H);
    run("t_rms_" + tag, cuda::launch::rows(rows, mmk::rowThreads(H)),
        static_cast<const float *>(xd.ptr()), static_cast<const float *>(wd.ptr()), y.ptr(), rows,
        1e-5f);
    EXPECT_TRUE(allClose(y.download(), want, scaled(want, (H + 8) * kU)));
  }
}

// Fused epilogue: sigmoid(gate) * norm(x) over H*D (the lightning output
// path). sigmoid adds <= 6u and the product u: (H + 16) u |y|.
TEST(RowKernels, RmsNormWithSigmoidGate) {
  KernelRunner &r = testRunner();
  for (auto [tag, H] : {std::pair<std::string, int>{"tiny", 64}, {"full", 8192}}) {
    SCOPED_TRACE(tag);
    const int64_t rows = gpu() ? 100 : 3;
    std::vector<float> x = randomFloats(rows * H, 411), w = randomFloats(H, 412, 0.5, 1.0),
                       gate = randomFloats(rows * H, 413, 2.0);
    Tensor normed = ref::rmsNorm(floatTensor({rows, H}, x), floatTensor({H}, w), 1e-6);
    std::vector<float> want = floatsOf(
        ref::binary(ref::BinaryKind::Mul,
                    ref::unary(ref::UnaryKind::Sigmoid, floatTensor({rows, H}, gate)), normed));
    DeviceArray<float> xd(r, x), wd(r, w), gd(r, gate), y(r, rows * H);
    run("t_rms_gate_" + tag, cuda::launch::rows(rows, mmk::rowThreads(H)),
        static_cast<const float *>(xd.ptr()), static_cast<const float *>(wd.ptr()), y.ptr(), rows,
        1e-6f, static_cast<const float *>(gd.ptr()));
    EXPECT_TRUE(allClose(y.download(), want, scaled(want, (H + 16) * kU)));
  }
}

// Fused prologue: v = res * alpha + x * beta (also stored), then the norm.
// v may take an fma on the GPU: |dv_i| <= 2u m_i, m_i = |res_i alpha| + |x_i beta|.
// That moves 1/sqrt(mean v^2) by <= 2u sqrt(sum m^2 / sum v^2) relative, so
//   |dy_i| <= (H + 8) u |y_i| + |g_i| inv 2u m_i + |y_i| 2u sqrt(sum m^2 / sum v^2).
TEST(RowKernels, RmsNormWithResidualPrologue) {
  KernelRunner &r = testRunner();
  const float alpha = 3.5565588f, beta = 1.0f;
  for (auto [tag, H] : {std::pair<std::string, int>{"tiny", 32}, {"full", 6144}}) {
    SCOPED_TRACE(tag);
    const int64_t rows = gpu() ? 100 : 3;
    std::vector<float> x = randomFloats(rows * H, 421), res = randomFloats(rows * H, 422),
                       w = randomFloats(H, 423, 0.5, 1.0);
    Tensor sumT = ref::binary(
        ref::BinaryKind::Add,
        ref::binary(ref::BinaryKind::Mul, floatTensor({rows, H}, res), floatTensor({1}, {alpha})),
        ref::binary(ref::BinaryKind::Mul, floatTensor({rows, H}, x), floatTensor({1}, {beta})));
    std::vector<float> sum = floatsOf(sumT);
    std::vector<float> want = floatsOf(ref::rmsNorm(sumT, floatTensor({H}, w), 1e-5));
    std::vector<double> tol(rows * H), sumTol(rows * H);
    for (int64_t row = 0; row < rows; ++row) {
      double mm2 = 0, vv = 0;
      for (int i = 0; i < H; ++i) {
        double m = std::fabs(res[row * H + i] * alpha) + std::fabs(x[row * H + i] * beta);
        mm2 += m * m;
        vv += double(sum[row * H + i]) * sum[row * H + i];
      }
      double inv = 1 / std::sqrt(vv / H + 1e-5), rel = 2 * kU * std::sqrt(mm2 / vv);
      for (int i = 0; i < H; ++i) {
        size_t k = row * H + i;
        double m = std::fabs(res[k] * alpha) + std::fabs(x[k] * beta);
        tol[k] = (H + 8) * kU * std::fabs(want[k]) + std::fabs(w[i]) * inv * 2 * kU * m +
                 std::fabs(want[k]) * rel;
        sumTol[k] = 2 * kU * m;
      }
    }
    DeviceArray<float> xd(r, x), wd(r, w), rd(r, res), y(r, rows * H), s(r, rows * H);
    run("t_rms_residual_" + tag, cuda::launch::rows(rows, mmk::rowThreads(H)),
        static_cast<const float *>(xd.ptr()), static_cast<const float *>(wd.ptr()), y.ptr(), rows,
        1e-5f, static_cast<const float *>(rd.ptr()), s.ptr(), alpha, beta);
    EXPECT_TRUE(allClose(s.download(), sum, sumTol)) << "stored residual sum";
    EXPECT_TRUE(allClose(y.download(), want, tol)) << "normed";
  }
}

// Each of the 256 threads keeps an online (max, sum) over its n/256 elements:
// an update rescales by expf (2 ulp) and adds, <= 6u per element; the block
// combine adds 6u per tree level (8 levels). The reference's sequential sum is
// within n u. So the sums differ by <= (n + 6 ceil(n/256) + 64) u = e_n
// relative; softmax adds expf and a division: |diff| <= (e_n + 6u) |y|;
// log-softmax x - max - log(sum) with logf's 1 ulp: |diff| <= e_n + 4u (|y| + log n + 1).
TEST(RowKernels, SoftmaxAndLogSoftmax) {
  KernelRunner &r = testRunner();
  const int64_t rows = 4, n = gpu() ? 200064 : 1000; // the full vocab row on the GPU
  std::vector<float> x = randomFloats(rows * n, 431, 3.0);
  for (bool log : {false, true}) {
    SCOPED_TRACE(log ? "log_softmax" : "softmax");
    std::vector<float> want = floatsOf(ref::softmax(floatTensor({rows, n}, x), -1, log));
    std::vector<double> tol(want.size());
    const double en = (n + 6.0 * mmk::ceilDiv(n, 256) + 64) * kU;
    for (size_t i = 0; i < want.size(); ++i)
      tol[i] = log ? en + 4 * kU * (std::fabs(want[i]) + std::log(double(n)) + 1)
                   : (en + 6 * kU) * std::fabs(want[i]);
    DeviceArray<float> xd(r, x), y(r, rows * n);
    run(log ? "t_log_softmax" : "t_softmax", cuda::launch::rows(rows, 256),
        static_cast<const float *>(xd.ptr()), y.ptr(), rows, n);
    EXPECT_TRUE(allClose(y.download(), want, tol));
  }
}

// Copies: exact. An id out of range is reported and gives a zero row.
TEST(RowKernels, EmbeddingAndLastTokenGather) {
  KernelRunner &r = testRunner();
  for (auto [tag, H] : {std::pair<std::string, int>{"tiny", 32}, {"full", 6144}}) {
    SCOPED_TRACE(tag);
    const int64_t vocab = 300, count = 37;
    std::vector<float> table = randomFloats(vocab * H, 441);
    std::vector<int64_t> ids(count);
    for (int64_t i = 0; i < count; ++i)
      ids[i] = (i * 7919) % vocab;
    std::vector<float> want =
        floatsOf(ref::embedding(floatTensor({vocab, H}, table), intTensor({count}, ids)));
    DeviceArray<float> td(r, table), out(r, count * H);
    DeviceArray<int64_t> idd(r, ids);
    ErrorFlag err;
    run("t_embedding_" + tag, cuda::launch::rows(count, mmk::rowThreads(H / 4)),
        static_cast<const float *>(td.ptr()), static_cast<const int64_t *>(idd.ptr()), out.ptr(),
        count, vocab, err.ptr());
    EXPECT_NO_KERNEL_ERROR(err);
    EXPECT_EQ(out.download(), want);

    ids[5] = vocab;
    idd.upload(ids);
    run("t_embedding_" + tag, cuda::launch::rows(count, mmk::rowThreads(H / 4)),
        static_cast<const float *>(td.ptr()), static_cast<const int64_t *>(idd.ptr()), out.ptr(),
        count, vocab, err.ptr());
    EXPECT_EQ(err.value(), mmk::kIndexOutOfRange);
    std::vector<float> got = out.download();
    EXPECT_TRUE(
        std::all_of(got.begin() + 5 * H, got.begin() + 6 * H, [](float v) { return v == 0; }));

    // The last valid token of each sequence: gather(x [B, T, H], idx [B, 1], dim 1, batch_dims 1).
    const int64_t B = 3, T = 11;
    std::vector<float> x = randomFloats(B * T * H, 442);
    std::vector<int64_t> last{10, 0, 6};
    std::vector<float> wantLast =
        floatsOf(ref::gather(floatTensor({B, T, H}, x), intTensor({B, 1}, last), 1, 1));
    DeviceArray<float> xd(r, x), g(r, B * H);
    DeviceArray<int64_t> ld(r, last);
    err.reset();
    run("t_gather_rows_" + tag, cuda::launch::rows(B, mmk::rowThreads(H / 4)),
        static_cast<const float *>(xd.ptr()), static_cast<const int64_t *>(ld.ptr()), g.ptr(), B, T,
        int64_t(1), err.ptr());
    EXPECT_NO_KERNEL_ERROR(err);
    EXPECT_EQ(g.download(), wantLast);
  }
}

// RoPE angles in float32 (the reference uses float64). The angle a = p f_i
// (f_i = theta^(-2i/R)) carries powf's 4 ulp (8u), the exponent's rounding
// amplified by |ln theta| (<= 16.2u for theta = 1e7) and the product (u):
// |da| <= 26 u a. sincosf adds 2 ulp (4u) and the float casts / products of the
// rotation 4u: |diff| <= (26 a + 8) u (|x1| + |x2|). Dims past rotary_dim: exact.
TEST(RowKernels, RopePartialRotary) {
  KernelRunner &r = testRunner();
  struct Config {
    std::string tag;
    int heads, headDim, rotary;
  };
  const double theta = 1e7;
  std::vector<Config> configs = {
      {"q_tiny", 4, 16, 8}, {"k_tiny", 2, 16, 8}, {"q_mid", 16, 128, 64}};
  if (gpu()) {
    configs.push_back({"q_full", 64, 128, 64});
    configs.push_back({"k_full", 8, 128, 64});
  }
  for (const Config &c : configs) {
    SCOPED_TRACE(c.tag);
    const int64_t B = 2, T = 9, H = c.heads, D = c.headDim, R = c.rotary;
    const int64_t stride = H * D + 2 * D; // rows of a wider fused buffer
    std::vector<float> fused = randomFloats(B * T * stride, 451);
    std::vector<float> x(B * T * H * D);
    for (int64_t t = 0; t < B * T; ++t)
      std::copy_n(&fused[t * stride], H * D, &x[t * H * D]);
    std::vector<int64_t> pos(B * T);
    for (int64_t t = 0; t < B * T; ++t)
      pos[t] = t < T ? t : 4000 + 97 * t; // small and large positions
    std::vector<float> want =
        floatsOf(ref::rope(floatTensor({B, T, H, D}, x), intTensor({B, T}, pos), R, theta));
    std::vector<double> tol(want.size(), 0.0);
    for (int64_t t = 0; t < B * T; ++t)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < R / 2; ++i) {
          double a = std::fabs(double(pos[t])) * std::pow(theta, -2.0 * i / R);
          size_t k = (t * H + h) * D + i;
          double t0 = (26 * a + 8) * kU * (std::fabs(x[k]) + std::fabs(x[k + R / 2]));
          tol[k] = tol[k + R / 2] = t0;
        }
    DeviceArray<float> fd(r, fused), y(r, B * T * H * D);
    DeviceArray<int64_t> pd(r, pos);
    run("t_rope_" + c.tag, cuda::launch::rows(B * T, mmk::rowThreads(H * D / 2)),
        static_cast<const float *>(fd.ptr()), stride, y.ptr(), H * D,
        static_cast<const int64_t *>(pd.ptr()), B * T, float(theta));
    EXPECT_TRUE(allClose(y.download(), want, tol)) << "strided input";
    // In place on the fused buffer.
    run("t_rope_" + c.tag, cuda::launch::rows(B * T, mmk::rowThreads(H * D / 2)),
        static_cast<const float *>(fd.ptr()), stride, fd.ptr(), stride,
        static_cast<const int64_t *>(pd.ptr()), B * T, float(theta));
    std::vector<float> f = fd.download(), inPlace(B * T * H * D);
    for (int64_t t = 0; t < B * T; ++t) {
      std::copy_n(&f[t * stride], H * D, &inPlace[t * H * D]);
      EXPECT_TRUE(
          std::equal(&f[t * stride + H * D], &f[(t + 1) * stride], &fused[t * stride + H * D]))
          << "bytes past the heads untouched";
    }
    EXPECT_TRUE(allClose(inPlace, want, tol)) << "in place";
  }
}
