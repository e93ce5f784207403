//===- ElementwiseCases.cpp - activations, swiglu, epilogue, bf16 ----------===//
//
// Tolerances from the functions' error bounds (CUDA: expf, tanhf, erff 2 ulp,
// logf 1 ulp; glibc's float versions are within the same bounds), one ulp
// being <= 2u relative:
//   silu, sigmoid   x / (1 + e), 1 / (1 + e): 4u from expf scaled by
//                   e/(1+e) <= 1, plus two roundings, per side: 12u |y|
//   tanh, exp       2 ulp per side: 8u |y|
//   log             1 ulp per side: 4u |y|
//   sqrt, relu, neg exact;  rsqrt 1/sqrt: two roundings per side: 4u |y|
//   gelu(_tanh)     1 + erf (tanh) cancels for x << 0: the function's absolute
//                   error (4u) times 0.5 |x|, plus the products: 16u (|y| + |x|)
//   swiglu          silu's 12u plus a product: 14u |y|
//
//===----------------------------------------------------------------------===//
#include "reference/kernels/Reference.h"
#include "test/cuda/CaseUtil.h"

using namespace mm;
using namespace mm::cudatest;

namespace {
bool gpu() { return !testRunner().emulated(); }

std::vector<float> runFlat(const std::string &kernel, const std::vector<float> &x) {
  KernelRunner &r = testRunner();
  DeviceArray<float> in(r, x), out(r, x.size());
  run(kernel, cuda::launch::elementwise(static_cast<int64_t>(x.size())),
      static_cast<const float *>(in.ptr()), out.ptr(), static_cast<int64_t>(x.size()));
  return out.download();
}
} // namespace

TEST(Elementwise, UnaryActivations) {
  struct Case {
    std::string name;
    ref::UnaryKind kind;
    double relTol, xTol;
    bool positive;
  };
  const Case cases[] = {{"silu", ref::UnaryKind::Silu, 12, 0, false},
                        {"sigmoid", ref::UnaryKind::Sigmoid, 12, 0, false},
                        {"relu", ref::UnaryKind::Relu, 0, 0, false},
                        {"tanh", ref::UnaryKind::Tanh, 8, 0, false},
                        {"exp", ref::UnaryKind::Exp, 8, 0, false},
                        {"log", ref::UnaryKind::Log, 4, 0, true},
                        {"sqrt", ref::UnaryKind::Sqrt, 0, 0, true},
                        {"rsqrt", ref::UnaryKind::Rsqrt, 4, 0, true},
                        {"neg", ref::UnaryKind::Neg, 0, 0, false},
                        {"gelu", ref::UnaryKind::Gelu, 16, 16, false},
                        {"gelu_tanh", ref::UnaryKind::GeluTanh, 16, 16, false}};
  const size_t n = gpu() ? 100003 : 3001; // odd: a partial last block
  for (const Case &c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<float> x = randomFloats(n, 301, 3.0);
    if (c.positive)
      for (float &v : x)
        v = std::fabs(v) + 0.01f;
    std::vector<float> want = floatsOf(ref::unary(c.kind, floatTensor({int64_t(n)}, x)));
    std::vector<double> tol(n);
    for (size_t i = 0; i < n; ++i)
      tol[i] = c.relTol * kU * std::fabs(want[i]) + c.xTol * kU * std::fabs(x[i]);
    EXPECT_TRUE(allClose(runFlat("t_unary_" + c.name, x), want, tol));
  }
}

TEST(Elementwise, SwigluAndResidualEpilogue) {
  KernelRunner &r = testRunner();
  const int64_t n = gpu() ? 65537 : 1025;
  std::vector<float> g = randomFloats(n, 311, 2.0), u = randomFloats(n, 312);
  std::vector<float> want = floatsOf(ref::swiglu(floatTensor({n}, g), floatTensor({n}, u)));
  DeviceArray<float> gd(r, g), ud(r, u), y(r, n);
  run("t_swiglu", cuda::launch::elementwise(n), static_cast<const float *>(gd.ptr()),
      static_cast<const float *>(ud.ptr()), y.ptr(), n);
  EXPECT_TRUE(allClose(y.download(), want, scaled(want, 14 * kU)));

  // y = residual * alpha + acc * beta, in place over acc. Per side two
  // products and a sum (or an fma): |diff| <= 3u (|r alpha| + |acc beta|).
  const float alpha = 3.5565588f, beta = 1.0f;
  std::vector<float> acc = randomFloats(n, 313), res = randomFloats(n, 314);
  std::vector<float> wantRes(n);
  std::vector<double> tol(n);
  for (int64_t i = 0; i < n; ++i) {
    wantRes[i] = res[i] * alpha + acc[i] * beta;
    tol[i] = 3 * kU * (std::fabs(res[i] * alpha) + std::fabs(acc[i] * beta));
  }
  DeviceArray<float> accD(r, acc), resD(r, res);
  run("t_residual_epilogue", cuda::launch::elementwise(n), static_cast<const float *>(accD.ptr()),
      accD.ptr(), n, static_cast<const float *>(resD.ptr()), alpha, beta);
  EXPECT_TRUE(allClose(accD.download(), wantRes, tol));
}

TEST(Elementwise, Bfloat16RoundTrip) {
  KernelRunner &r = testRunner();
  std::vector<float> x = randomFloats(4099, 321, 100.0);
  x[0] = 1.00390625f; // exactly halfway between two bf16: ties to even (down)
  x[1] = 1.01171875f; // halfway, rounds up to even
  x[2] = -0.0f;
  x[3] = std::numeric_limits<float>::infinity();
  x[4] = std::numeric_limits<float>::quiet_NaN();
  x[5] = 3.4028235e38f; // rounds to +inf in bf16
  const int64_t n = static_cast<int64_t>(x.size());
  auto toBf16 = [](float f) -> uint16_t {
    uint32_t b;
    std::memcpy(&b, &f, 4);
    if ((b & 0x7fffffffu) > 0x7f800000u)
      return static_cast<uint16_t>((b >> 16) | 0x40u);
    return static_cast<uint16_t>((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
  };
  std::vector<uint16_t> want(n);
  std::vector<float> back(n);
  for (int64_t i = 0; i < n; ++i) {
    want[i] = toBf16(x[i]);
    uint32_t b = uint32_t(want[i]) << 16;
    std::memcpy(&back[i], &b, 4);
  }
  EXPECT_EQ(want[0], 0x3f80);
  EXPECT_EQ(want[1], 0x3f82);
  EXPECT_EQ(want[5], 0x7f80);
  DeviceArray<float> xd(r, x), y(r, n);
  DeviceArray<uint16_t> h(r, n);
  run("t_f32_to_bf16", cuda::launch::elementwise(n), static_cast<const float *>(xd.ptr()),
      reinterpret_cast<unsigned short *>(h.ptr()), n);
  EXPECT_EQ(h.download(), want);
  run("t_bf16_to_f32", cuda::launch::elementwise(n),
      reinterpret_cast<const unsigned short *>(h.ptr()), y.ptr(), n);
  std::vector<float> got = y.download();
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(std::memcmp(&got[i], &back[i], 4), 0) << "element " << i;
}
