//===- FakeCublas.cpp - a libcublas.so.13 for the fake driver ---------------===//
//
// Test infrastructure: with the fake libcuda.so.1 and libnvrtc.so.13 first on
// LD_LIBRARY_PATH, the CUDA backend's prefill GEMMs land here. Device memory
// is host memory under the fake driver, so cublasGemmEx is a plain
// column-major GEMM on the CPU with the types runtime/cuda/Cublas.cpp asks
// for (float32, or bf16 inputs with float32 output), each sum accumulated in
// float64 and rounded once. Defined with cublas_api.h's own prototypes, so a
// misspelt or wrongly versioned entry point fails to resolve.
//
//===----------------------------------------------------------------------===//
#include <cublas_api.h>

#include <cstdint>
#include <cstring>

namespace {

struct FakeHandle {
  cublasMath_t math = CUBLAS_DEFAULT_MATH;
};

float widenBf16(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof f);
  return f;
}

float element(const void *base, cudaDataType type, int64_t index) {
  return type == CUDA_R_16BF ? widenBf16(static_cast<const uint16_t *>(base)[index])
                             : static_cast<const float *>(base)[index];
}

} // namespace

extern "C" {

cublasStatus_t CUBLASWINAPI cublasCreate_v2(cublasHandle_t *handle) {
  if (!handle)
    return CUBLAS_STATUS_INVALID_VALUE;
  *handle = reinterpret_cast<cublasHandle_t>(new FakeHandle);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasDestroy_v2(cublasHandle_t handle) {
  delete reinterpret_cast<FakeHandle *>(handle);
  return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t CUBLASWINAPI cublasSetStream_v2(cublasHandle_t handle, cudaStream_t) {
  return handle ? CUBLAS_STATUS_SUCCESS : CUBLAS_STATUS_NOT_INITIALIZED;
}

cublasStatus_t CUBLASWINAPI cublasSetMathMode(cublasHandle_t handle, cublasMath_t mode) {
  if (!handle)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  reinterpret_cast<FakeHandle *>(handle)->math = mode;
  return CUBLAS_STATUS_SUCCESS;
}

const char *CUBLASWINAPI cublasGetStatusName(cublasStatus_t status) {
  switch (status) {
  case CUBLAS_STATUS_SUCCESS:
    return "CUBLAS_STATUS_SUCCESS";
  case CUBLAS_STATUS_NOT_INITIALIZED:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case CUBLAS_STATUS_INVALID_VALUE:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case CUBLAS_STATUS_NOT_SUPPORTED:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  default:
    return "CUBLAS_STATUS (fake)";
  }
}

// C [m, n] = alpha op(A) op(B) + beta C, column-major, op = N or T.
cublasStatus_t CUBLASWINAPI cublasGemmEx(cublasHandle_t handle, cublasOperation_t transa,
                                         cublasOperation_t transb, int m, int n, int k,
                                         const void *alpha, const void *A, cudaDataType Atype,
                                         int lda, const void *B, cudaDataType Btype, int ldb,
                                         const void *beta, void *C, cudaDataType Ctype, int ldc,
                                         cublasComputeType_t computeType, cublasGemmAlgo_t) {
  if (!handle)
    return CUBLAS_STATUS_NOT_INITIALIZED;
  auto supported = [](cudaDataType t) { return t == CUDA_R_32F || t == CUDA_R_16BF; };
  auto op = [](cublasOperation_t o) { return o == CUBLAS_OP_N || o == CUBLAS_OP_T; };
  if (!supported(Atype) || Btype != Atype || Ctype != CUDA_R_32F || !op(transa) || !op(transb) ||
      (computeType != CUBLAS_COMPUTE_32F && computeType != CUBLAS_COMPUTE_32F_PEDANTIC &&
       computeType != CUBLAS_COMPUTE_32F_FAST_TF32))
    return CUBLAS_STATUS_NOT_SUPPORTED;
  const int aRows = transa == CUBLAS_OP_N ? m : k, bRows = transb == CUBLAS_OP_N ? k : n;
  if (m < 0 || n < 0 || k < 0 || lda < (aRows > 1 ? aRows : 1) || ldb < (bRows > 1 ? bRows : 1) ||
      ldc < (m > 1 ? m : 1) || !alpha || !beta)
    return CUBLAS_STATUS_INVALID_VALUE;
  const float a = *static_cast<const float *>(alpha), b = *static_cast<const float *>(beta);
  float *c = static_cast<float *>(C);
  for (int j = 0; j < n; ++j)
    for (int i = 0; i < m; ++i) {
      double sum = 0;
      for (int p = 0; p < k; ++p) {
        int64_t ai = transa == CUBLAS_OP_N ? int64_t(p) * lda + i : int64_t(i) * lda + p;
        int64_t bi = transb == CUBLAS_OP_N ? int64_t(j) * ldb + p : int64_t(p) * ldb + j;
        sum += double(element(A, Atype, ai)) * element(B, Btype, bi);
      }
      float &out = c[int64_t(j) * ldc + i];
      // beta == 0 ignores C, as cuBLAS does (it may hold NaN).
      out = float(a * sum + (b == 0.0f ? 0.0 : double(b) * out));
    }
  return CUBLAS_STATUS_SUCCESS;
}

} // extern "C"
