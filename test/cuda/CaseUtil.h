//===- CaseUtil.h - data, launches and tolerance checks of the kernel tests -===//
#ifndef MM_TEST_CUDA_CASEUTIL_H
#define MM_TEST_CUDA_CASEUTIL_H

#include "codegen/cuda/KernelLibrary.h"
#include "runtime/Tensor.h"
#include "test/cuda/KernelRunner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace mm::cudatest {

/// Unit roundoff of float32: every correctly rounded operation has relative
/// error <= u. Tolerances below are counts of such roundings (plus the
/// documented ulp bounds of CUDA's math functions: expf, sincosf, erff, tanhf
/// 2 ulp, powf 4 ulp, logf 1 ulp, division and sqrt correctly rounded).
constexpr double kU = 1.0 / 16777216.0;

inline std::vector<float> randomFloats(size_t n, uint64_t seed, double stddev = 1.0,
                                       double mean = 0.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(mean, stddev);
  std::vector<float> v(n);
  for (float &x : v)
    x = static_cast<float>(dist(rng));
  return v;
}

/// Uniform floats from a cheap generator (for the multi-GB full-size weights).
inline std::vector<float> fastUniform(size_t n, uint64_t seed, float scale) {
  std::vector<float> v(n);
  uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
  for (float &x : v) {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    x = scale * (static_cast<float>(s >> 40) / 8388608.0f - 1.0f);
  }
  return v;
}

inline Tensor floatTensor(Shape shape, const std::vector<float> &values) {
  return Tensor::fromVector<float>(std::move(shape), values);
}
inline Tensor intTensor(Shape shape, const std::vector<int64_t> &values) {
  return Tensor::fromVector<int64_t>(std::move(shape), values);
}
inline std::vector<float> floatsOf(const Tensor &t) {
  Tensor f = t.to(DType::F32);
  return std::vector<float>(f.data<float>(), f.data<float>() + f.numel());
}
inline std::vector<double> doublesOf(const Tensor &t) {
  Tensor f = t.to(DType::F64);
  return std::vector<double>(f.data<double>(), f.data<double>() + f.numel());
}
inline std::vector<int64_t> intsOf(const Tensor &t) {
  return std::vector<int64_t>(t.data<int64_t>(), t.data<int64_t>() + t.numel());
}
inline std::vector<float> absOf(std::vector<float> v) {
  for (float &x : v)
    x = std::fabs(x);
  return v;
}

/// |got[i] - want[i]| <= tol[i] for all i (and no NaN); names the worst element.
inline ::testing::AssertionResult allClose(const std::vector<float> &got,
                                           const std::vector<float> &want,
                                           const std::vector<double> &tol) {
  if (got.size() != want.size() || tol.size() != want.size())
    return ::testing::AssertionFailure() << "sizes differ: " << got.size() << " vs " << want.size()
                                         << " (tolerances " << tol.size() << ")";
  size_t worst = 0, failures = 0;
  double worstRatio = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::fabs(double(got[i]) - double(want[i]));
    if (std::isnan(got[i]) != std::isnan(want[i]) || !(err <= tol[i]))
      ++failures;
    double ratio = tol[i] > 0 ? err / tol[i] : (err > 0 ? INFINITY : 0);
    if (std::isnan(err) || ratio > worstRatio) {
      worstRatio = std::isnan(err) ? INFINITY : ratio;
      worst = i;
    }
  }
  if (failures == 0)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << failures << " of " << got.size() << " elements outside tolerance; worst at " << worst
         << ": got " << got[worst] << ", want " << want[worst] << ", |diff| "
         << std::fabs(double(got[worst]) - double(want[worst])) << " > tol " << tol[worst];
}

inline std::vector<double> scaled(const std::vector<float> &magnitude, double factor,
                                  double floor = 0) {
  std::vector<double> t(magnitude.size());
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = factor * std::fabs(double(magnitude[i])) + floor;
  return t;
}
inline std::vector<double> scaled(const std::vector<double> &magnitude, double factor,
                                  double floor = 0) {
  std::vector<double> t(magnitude.size());
  for (size_t i = 0; i < t.size(); ++i)
    t[i] = factor * std::fabs(magnitude[i]) + floor;
  return t;
}

/// Runs a library kernel wrapper of TestKernels.cuh with a launch shape.
template <typename... A>
void run(const std::string &kernel, const cuda::LaunchShape &shape, const A &...args) {
  testRunner().launch(kernel, Grid{shape.grid[0], shape.grid[1], shape.grid[2]}, shape.block,
                      shape.sharedBytes, KernelArgs(args...));
}

/// The device error flag of a launch: starts at 0.
class ErrorFlag {
public:
  ErrorFlag() : flag_(testRunner(), std::vector<int>{0}) {}
  int *ptr() const { return flag_.ptr(); }
  int value() const { return flag_.download()[0]; }
  void reset() { flag_.upload({0}); }

private:
  DeviceArray<int> flag_;
};

#define EXPECT_NO_KERNEL_ERROR(flag)                                                               \
  EXPECT_EQ((flag).value(), 0) << ::mm::cuda::kernelErrorMessage((flag).value())

} // namespace mm::cudatest

#endif // MM_TEST_CUDA_CASEUTIL_H
