//===- TestUtil.h - helpers of the numeric tests ----------------*- C++ -*-===//
#ifndef MM_TEST_NUMERIC_TESTUTIL_H
#define MM_TEST_NUMERIC_TESTUTIL_H

#include "runtime/Tensor.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

namespace mm::test {

inline std::string dataDir(const std::string &sub) {
  return std::string(MM_TEST_DATA_DIR) + "/" + sub;
}

/// max |a - b| / max |b|: the error relative to the tensor's scale, so values
/// near zero do not dominate.
inline double relError(const Tensor &a, const Tensor &b) {
  Tensor x = a.to(DType::F64), y = b.to(DType::F64);
  if (x.shape() != y.shape())
    return INFINITY;
  double diff = 0, scale = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    diff = std::max(diff, std::abs(x.data<double>()[i] - y.data<double>()[i]));
    scale = std::max(scale, std::abs(y.data<double>()[i]));
  }
  return scale > 0 ? diff / scale : diff;
}

inline Tensor randomTensor(Shape shape, DType dtype, uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> dist(0.0, scale);
  Tensor t = Tensor::empty(DType::F64, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<double>()[i] = dist(rng);
  return t.to(dtype);
}

/// A fresh temporary folder, removed with the object.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("mm-test-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string file(const std::string &name, const std::string &contents) const {
    std::ofstream(path / name, std::ios::binary) << contents;
    return (path / name).string();
  }
};

} // namespace mm::test

#endif // MM_TEST_NUMERIC_TESTUTIL_H
