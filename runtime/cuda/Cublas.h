//===- Cublas.h - cuBLAS GEMMs, loaded at run time --------------*- C++ -*-===//
//
// libcublas is dlopen'd like the driver. mmc's linear layers are
// y = x W^T with row-major x [m, k], W [n, k] (the checkpoint layout) and
// y [m, n]; gemmRowMajor maps that onto cuBLAS's column-major GEMM as
// y^T = W x^T (no transposed copies). Compute is FP32 (CUBLAS_COMPUTE_32F):
// TF32 tensor cores only when asked for, pedantic FP32 (no reduced-precision
// reductions or split-K tricks) when asked for.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_CUBLAS_H
#define MM_RUNTIME_CUDA_CUBLAS_H

#include "runtime/cuda/CudaDriver.h"

#include <cstdint>
#include <memory>
#include <string>

namespace mm::cuda {

class DynamicLibrary;

enum class GemmPrecision {
  Fp32,         // CUBLAS_COMPUTE_32F, default math mode
  Fp32Pedantic, // CUBLAS_PEDANTIC_MATH + CUBLAS_COMPUTE_32F_PEDANTIC
  Tf32,         // CUBLAS_COMPUTE_32F_FAST_TF32 (fp32 data, TF32 tensor cores)
};

class Cublas {
public:
  /// A cuBLAS handle on the driver's context, or null with `whyNot` set.
  static std::unique_ptr<Cublas> create(const CudaDriver &driver, std::string *whyNot = nullptr);
  ~Cublas();
  Cublas(const Cublas &) = delete;
  Cublas &operator=(const Cublas &) = delete;

  void setStream(CuStream stream);

  /// y[m, n] = alpha * x[m, k] W[n, k]^T + beta * y, all fp32 row-major with
  /// leading dimensions (elements between rows) ldx, ldw, ldy.
  void gemmRowMajor(int64_t m, int64_t n, int64_t k, CuDevicePtr x, int64_t ldx, CuDevicePtr w,
                    int64_t ldw, CuDevicePtr y, int64_t ldy, float alpha = 1.f, float beta = 0.f,
                    GemmPrecision precision = GemmPrecision::Fp32);
  /// The same with bf16 x and W (convert activations with mm_f32_to_bf16_kernel),
  /// fp32 y, FP32 compute.
  void gemmRowMajorBf16(int64_t m, int64_t n, int64_t k, CuDevicePtr x, int64_t ldx, CuDevicePtr w,
                        int64_t ldw, CuDevicePtr y, int64_t ldy, float alpha = 1.f,
                        float beta = 0.f);

  std::string statusName(int status) const;

private:
  struct Api;
  Cublas(const CudaDriver &driver, std::unique_ptr<DynamicLibrary> library);
  void gemm(int64_t m, int64_t n, int64_t k, CuDevicePtr x, int64_t ldx, CuDevicePtr w, int64_t ldw,
            CuDevicePtr y, int64_t ldy, float alpha, float beta, int dataType, int computeType,
            int mathMode, const char *what);

  std::unique_ptr<DynamicLibrary> library_;
  std::unique_ptr<Api> api_;
  void *handle_ = nullptr;
  int mathMode_ = -1;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_CUBLAS_H
