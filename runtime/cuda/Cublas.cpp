//===- Cublas.cpp - cuBLAS GEMMs, loaded at run time ----------------------===//
#include "runtime/cuda/Cublas.h"
#include "runtime/Error.h"
#include "runtime/cuda/DynamicLibrary.h"
#include "runtime/cuda/Nvrtc.h"

namespace mm::cuda {

namespace {
// Values from cublas_api.h / library_types.h.
constexpr int kOpN = 0, kOpT = 1;
constexpr int kR32F = 0, kR16BF = 14;
constexpr int kCompute32F = 68, kCompute32FPedantic = 69, kCompute32FFastTf32 = 77;
constexpr int kDefaultMath = 0, kPedanticMath = 2;
constexpr int kGemmDefault = -1;

const char *fallbackStatusName(int status) {
  switch (status) {
  case 0:
    return "CUBLAS_STATUS_SUCCESS";
  case 1:
    return "CUBLAS_STATUS_NOT_INITIALIZED";
  case 3:
    return "CUBLAS_STATUS_ALLOC_FAILED";
  case 7:
    return "CUBLAS_STATUS_INVALID_VALUE";
  case 8:
    return "CUBLAS_STATUS_ARCH_MISMATCH";
  case 11:
    return "CUBLAS_STATUS_MAPPING_ERROR";
  case 13:
    return "CUBLAS_STATUS_EXECUTION_FAILED";
  case 14:
    return "CUBLAS_STATUS_INTERNAL_ERROR";
  case 15:
    return "CUBLAS_STATUS_NOT_SUPPORTED";
  case 16:
    return "CUBLAS_STATUS_LICENSE_ERROR";
  default:
    return "CUBLAS_STATUS_UNKNOWN";
  }
}
} // namespace

struct Cublas::Api {
  int (*create)(void **handle);
  int (*destroy)(void *handle);
  int (*setStream)(void *handle, CuStream stream);
  int (*setMathMode)(void *handle, int mode);
  int (*gemmEx)(void *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                const void *A, int Atype, int lda, const void *B, int Btype, int ldb,
                const void *beta, void *C, int Ctype, int ldc, int computeType, int algo);
  const char *(*getStatusName)(int status); // optional
};

std::unique_ptr<Cublas> Cublas::create(const CudaDriver &driver, std::string *whyNot) {
  std::unique_ptr<DynamicLibrary> lib = DynamicLibrary::open(
      {"libcublas.so.13", "libcublas.so", Nvrtc::cudaHome() + "/lib64/libcublas.so.13",
       Nvrtc::cudaHome() + "/lib64/libcublas.so"},
      whyNot);
  if (!lib)
    return nullptr;
  try {
    return std::unique_ptr<Cublas>(new Cublas(driver, std::move(lib)));
  } catch (const std::exception &e) {
    if (whyNot)
      *whyNot = e.what();
    return nullptr;
  }
}

Cublas::Cublas(const CudaDriver &driver, std::unique_ptr<DynamicLibrary> library)
    : library_(std::move(library)), api_(std::make_unique<Api>()) {
  const DynamicLibrary &l = *library_;
  l.resolve(api_->create, {"cublasCreate_v2"});
  l.resolve(api_->destroy, {"cublasDestroy_v2"});
  l.resolve(api_->setStream, {"cublasSetStream_v2"});
  l.resolve(api_->setMathMode, {"cublasSetMathMode"});
  l.resolve(api_->gemmEx, {"cublasGemmEx"});
  api_->getStatusName = reinterpret_cast<const char *(*)(int)>(l.find({"cublasGetStatusName"}));
  driver.makeCurrent(); // cuBLAS works on the calling thread's current context
  int status = api_->create(&handle_);
  if (status != 0)
    throw makeError("cublasCreate failed: ", statusName(status));
}

Cublas::~Cublas() {
  if (handle_)
    api_->destroy(handle_);
}

std::string Cublas::statusName(int status) const {
  if (api_ && api_->getStatusName)
    if (const char *name = api_->getStatusName(status))
      return name;
  return fallbackStatusName(status);
}

void Cublas::setStream(CuStream stream) {
  int status = api_->setStream(handle_, stream);
  if (status != 0)
    throw makeError("cublasSetStream failed: ", statusName(status));
}

void Cublas::gemmRowMajor(int64_t m, int64_t n, int64_t k, CuDevicePtr x, int64_t ldx,
                          CuDevicePtr w, int64_t ldw, CuDevicePtr y, int64_t ldy, float alpha,
                          float beta, GemmPrecision precision) {
  int compute = precision == GemmPrecision::Fp32Pedantic ? kCompute32FPedantic
                : precision == GemmPrecision::Tf32       ? kCompute32FFastTf32
                                                         : kCompute32F;
  int math = precision == GemmPrecision::Fp32Pedantic ? kPedanticMath : kDefaultMath;
  gemm(m, n, k, x, ldx, w, ldw, y, ldy, alpha, beta, kR32F, compute, math, "cublasGemmEx (fp32)");
}

void Cublas::gemmRowMajorBf16(int64_t m, int64_t n, int64_t k, CuDevicePtr x, int64_t ldx,
                              CuDevicePtr w, int64_t ldw, CuDevicePtr y, int64_t ldy, float alpha,
                              float beta) {
  gemm(m, n, k, x, ldx, w, ldw, y, ldy, alpha, beta, kR16BF, kCompute32F, kDefaultMath,
       "cublasGemmEx (bf16 x bf16 -> fp32)");
}

void Cublas::gemm(int64_t m, int64_t n, int64_t k, CuDevicePtr x, int64_t ldx, CuDevicePtr w,
                  int64_t ldw, CuDevicePtr y, int64_t ldy, float alpha, float beta, int dataType,
                  int computeType, int mathMode, const char *what) {
  constexpr int64_t kMax = 0x7fffffff;
  if (m < 0 || n < 0 || k < 0 || m > kMax || n > kMax || k > kMax || ldx > kMax || ldw > kMax ||
      ldy > kMax || ldx < k || ldw < k || ldy < n)
    throw makeError(what, ": invalid shape m=", m, " n=", n, " k=", k, " (ldx ", ldx, ", ldw ", ldw,
                    ", ldy ", ldy, ")");
  if (m == 0 || n == 0)
    return;
  if (mathMode != mathMode_) {
    int status = api_->setMathMode(handle_, mathMode);
    if (status != 0)
      throw makeError("cublasSetMathMode failed: ", statusName(status));
    mathMode_ = mathMode;
  }
  // Column-major view: y^T [n, m] = W [n, k] (stored as W^T k x n, so op T) * x^T [k, m].
  auto ptr = [](CuDevicePtr p) { return reinterpret_cast<void *>(static_cast<uintptr_t>(p)); };
  int status = api_->gemmEx(handle_, kOpT, kOpN, int(n), int(m), int(k), &alpha, ptr(w), dataType,
                            int(ldw), ptr(x), dataType, int(ldx), &beta, ptr(y), kR32F, int(ldy),
                            computeType, kGemmDefault);
  if (status != 0)
    throw makeError(what, " (m=", m, ", n=", n, ", k=", k, ") failed: ", statusName(status));
}

} // namespace mm::cuda
