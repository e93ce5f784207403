//===- GpuKernelTest.cpp - the kernel tests on a GPU, and kernel timings ---===//
//
//   mm-cuda-gpu-tests [gtest flags] [--timing]
//
// Compiles the kernel library and test/cuda/TestKernels.cuh with NVRTC for the
// device, runs every kernel case (KernelCases: *Cases.cpp) against the CPU
// reference kernels, then with --timing prints the timing table of
// scripts/gpu-check.sh (part 2). Without a usable GPU it prints why and exits
// with status 77 ("skipped").
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/KernelLibrary.h"
#include "reference/kernels/Reference.h"
#include "runtime/Error.h"
#include "runtime/LightningDecay.h"
#include "runtime/cuda/Cublas.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/DevicePool.h"
#include "runtime/cuda/Module.h"
#include "runtime/cuda/Nvrtc.h"
#include "runtime/cuda/Stream.h"
#include "test/cuda/CaseUtil.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>

namespace mm::cudatest {
const std::vector<std::pair<const char *, const char *>> &embeddedTestKernels();
} // namespace mm::cudatest

// NVRTC keeps process-lifetime allocations; they are not mmc's leaks.
extern "C" const char *__lsan_default_suppressions() {
  return "leak:libnvrtc\nleak:libnvrtc-builtins\n";
}

using namespace mm;
using namespace mm::cuda;
using namespace mm::cudatest;

namespace {

class GpuRunner : public KernelRunner {
public:
  explicit GpuRunner(CudaDriver &driver) : driver_(driver), pool_(driver) {
    std::string why;
    std::unique_ptr<Nvrtc> nvrtc = Nvrtc::load(&why);
    if (!nvrtc)
      throw Error("NVRTC unavailable: " + why);
    std::string source = kernelLibrarySource();
    for (const auto &[name, text] : embeddedTestKernels())
      source += stripKernelIncludes(text);
    auto start = std::chrono::steady_clock::now();
    CompiledKernel compiled = nvrtc->compile(source, "mm_test_kernels.cu", driver.arch());
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("test kernels for %s: %s in %.1f s\n", driver.arch().c_str(),
                compiled.fromCache ? "NVRTC cache hit" : "compiled", seconds);
    module_ = std::make_unique<Module>(driver, compiled.image);
  }

  std::string description() const override { return driver_.deviceName(); }
  /// True under test/cuda/fakecuda (libcuda.so.1 backed by the CPU emulator):
  /// the cases then use their emulator sizes.
  bool emulated() const override { return driver_.deviceName().rfind("mmc CPU emulator", 0) == 0; }

  uint64_t allocate(size_t bytes) override {
    DeviceBuffer b = pool_.allocate(bytes);
    b.fill(0xff);
    uint64_t address = b.address();
    buffers_[address] = std::move(b);
    return address;
  }
  void release(uint64_t address) override { buffers_.erase(address); }
  void copyToDevice(uint64_t dst, const void *src, size_t bytes) override {
    driver_.check(driver_.api().cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
  }
  void copyToHost(void *dst, uint64_t src, size_t bytes) override {
    driver_.check(driver_.api().cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
  }
  void fill(uint64_t dst, unsigned char byte, size_t bytes) override {
    driver_.check(driver_.api().cuMemsetD8(dst, byte, bytes), "cuMemsetD8");
  }
  void launch(const std::string &kernel, Grid grid, unsigned blockThreads, unsigned sharedBytes,
              KernelArgs args) override {
    std::vector<void *> pointers = args.pointers();
    module_->kernel(kernel).launch(dims(grid, blockThreads, sharedBytes), pointers.data());
    driver_.check(driver_.api().cuCtxSynchronize(), ("running " + kernel).c_str());
  }

  /// Asynchronous launch for timing loops.
  void enqueue(const std::string &kernel, const LaunchShape &s, KernelArgs args) {
    std::vector<void *> pointers = args.pointers();
    module_->kernel(kernel).launch(
        dims(Grid{s.grid[0], s.grid[1], s.grid[2]}, s.block, s.sharedBytes), pointers.data());
  }
  CudaDriver &driver() { return driver_; }
  DevicePool &pool() { return pool_; }

private:
  static LaunchDims dims(Grid grid, unsigned block, unsigned shared) {
    LaunchDims d;
    d.grid[0] = grid.x;
    d.grid[1] = grid.y;
    d.grid[2] = grid.z;
    d.block = block;
    d.sharedBytes = shared;
    return d;
  }

  CudaDriver &driver_;
  DevicePool pool_;
  std::unique_ptr<Module> module_;
  std::map<uint64_t, DeviceBuffer> buffers_;
};

GpuRunner *gRunner = nullptr;

/// Mean milliseconds per call of `body` (enqueued launches), after one warm-up.
double timeMs(GpuRunner &r, int reps, const std::function<void()> &body) {
  body();
  r.driver().synchronize();
  Event start(r.driver()), stop(r.driver());
  start.record();
  for (int i = 0; i < reps; ++i)
    body();
  stop.record();
  stop.synchronize();
  return stop.millisecondsSince(start) / reps;
}

/// The timing table; on the fake driver (emulator) the same code runs at toy
/// sizes, so the table's code is tested without a GPU.
void timings(GpuRunner &r) {
  const bool toy = r.emulated();
  std::printf("\n=== kernel timings on %s (%s, %d SMs), fp32 ===\n",
              r.driver().deviceName().c_str(), r.driver().arch().c_str(),
              r.driver().multiprocessors());
  const int H = 64, D = 128, BS = 256;
  std::vector<float> slopesHost;
  for (double s : lightningDecaySlopes(H, 0, 80))
    slopesHost.push_back(static_cast<float>(s));
  DeviceArray<float> slopes(r, slopesHost);
  ErrorFlag err;

  // Lightning prefill, batch 1, q/k/v read in place from the [T, H, 3D] buffer.
  // FLOPs per head and token: 2 D^2 (state k^T v) + 2 D^2 (inter q S)
  // + 2 BS D (intra: the causal halves of Q K^T and P V, BS D each):
  // F = H n (4 D^2 + 2 BS D) = 8.39 MFLOP per token at H 64, D 128, BS 256.
  std::printf("\nlightning prefill (H %d, d %d, block %d, batch 1; F = H n (4 d^2 + 2 B d))\n", H,
              D, BS);
  std::printf("%8s %10s %10s %10s %10s %12s %10s\n", "n", "state ms", "scan ms", "output ms",
              "total ms", "tokens/s", "TFLOP/s");
  for (int64_t n : toy ? std::vector<int64_t>{300} : std::vector<int64_t>{4096, 16384, 65536}) {
    DeviceArray<float> qkv(r, size_t(n) * H * 3 * D), out(r, size_t(n) * H * D),
        ws(r, mmk::lightningWorkspaceFloats(1, H, n, D, BS)), s1(r, size_t(H) * D * D);
    qkv.fill(0x3c); // 0x3c3c3c3c = 0.0115f: timings do not depend on values
    const int64_t ts = 3 * H * D, hs = 3 * D, B = 1;
    const float *q = qkv.ptr(), *k = qkv.ptr() + D, *v = qkv.ptr() + 2 * D;
    const int64_t *noLengths = nullptr;
    const float *noState = nullptr;
    auto state = [&] {
      r.enqueue("t_lightning_state_full", launch::lightningState(B, n, H, BS),
                KernelArgs(k, v, ts, hs, noLengths, static_cast<const float *>(slopes.ptr()),
                           ws.ptr(), B, n, err.ptr()));
    };
    auto scan = [&] {
      r.enqueue("t_lightning_scan_full", launch::lightningScan(B, H, D),
                KernelArgs(ws.ptr(), noState, s1.ptr(), noLengths,
                           static_cast<const float *>(slopes.ptr()), B, n, err.ptr()));
    };
    auto output = [&] {
      r.enqueue("t_lightning_output_full", launch::lightningOutput(B, n, H, D, BS),
                KernelArgs(q, k, v, ts, hs, out.ptr(), int64_t(H * D),
                           static_cast<const float *>(ws.ptr()), noLengths,
                           static_cast<const float *>(slopes.ptr()), B, n, err.ptr()));
    };
    int reps = toy ? 1 : n >= 65536 ? 3 : 10;
    double tState = timeMs(r, reps, state),
           tScan = timeMs(r, reps,
                          [&] {
                            state();
                            scan();
                          }) -
                   tState,
           tOut = timeMs(r, reps, output);
    double total = tState + tScan + tOut;
    double flops = double(H) * n * (4.0 * D * D + 2.0 * BS * D);
    std::printf("%8lld %10.3f %10.3f %10.3f %10.3f %12.0f %10.2f\n", static_cast<long long>(n),
                tState, tScan, tOut, total, n / (total * 1e-3), flops / (total * 1e-3) / 1e12);
  }
  if (err.value() != 0)
    throw Error(std::string("lightning timing run reported: ") + kernelErrorMessage(err.value()));

  // Lightning decode: one token per sequence; bytes = read + write of the
  // [B, H, d, d] fp32 state (q, k, v, o are negligible).
  std::printf("\nlightning decode (H %d, d %d), state updated in place\n", H, D);
  std::printf("%8s %10s %12s\n", "batch", "us", "state GB/s");
  for (int64_t B : toy ? std::vector<int64_t>{1} : std::vector<int64_t>{1, 8, 64}) {
    DeviceArray<float> qkv(r, size_t(B) * H * 3 * D), out(r, size_t(B) * H * D),
        state(r, size_t(B) * H * D * D);
    qkv.fill(0x3c);
    state.fill(0x3c);
    const float *q = qkv.ptr(), *k = qkv.ptr() + D, *v = qkv.ptr() + 2 * D;
    const int64_t *noLengths = nullptr;
    double ms = timeMs(r, toy ? 1 : 50, [&] {
      r.enqueue("t_lightning_decode_full", launch::lightningDecode(B, H, D),
                KernelArgs(q, k, v, int64_t(3 * H * D), int64_t(3 * D), out.ptr(), int64_t(H * D),
                           static_cast<const float *>(state.ptr()), state.ptr(), noLengths,
                           static_cast<const float *>(slopes.ptr()), B, err.ptr()));
    });
    double bytes = 2.0 * B * H * D * D * 4;
    std::printf("%8lld %10.1f %12.0f\n", static_cast<long long>(B), ms * 1e3,
                bytes / (ms * 1e-3) / 1e9);
  }

  // Attention decode (64 query heads, 8 KV heads, d 128): KV-cache write +
  // split-K decode + combine. Bytes = the K and V cache rows read.
  std::printf("\nattention decode (HQ 64, HKV 8, d 128; write + decode + combine)\n");
  std::printf("%8s %8s %8s %10s %12s\n", "batch", "context", "splits", "us", "KV GB/s");
  using Shape = std::pair<int64_t, int64_t>; // batch, context
  for (Shape shape : toy ? std::vector<Shape>{{1, 200}}
                         : std::vector<Shape>{{1, 4096}, {1, 65536}, {8, 4096}, {8, 32768}}) {
    const int64_t B = shape.first, S = shape.second;
    const int HQ = 64, HKV = 8;
    DeviceArray<float> kc(r, size_t(B) * S * HKV * D), vc(r, size_t(B) * S * HKV * D),
        q(r, size_t(B) * HQ * D), kv(r, size_t(B) * HKV * D), out(r, size_t(B) * HQ * D);
    kc.fill(0x3c);
    vc.fill(0x3c);
    q.fill(0x3c);
    kv.fill(0x3c);
    std::vector<int64_t> posHost(B, S - 1);
    DeviceArray<int64_t> pos(r, posHost);
    int splits = launch::attentionDecodeSplits(B, HKV, S, r.driver().multiprocessors());
    DeviceArray<float> partial(r, size_t(B) * HQ * splits * mmk::attentionDecodePartialFloats(D));
    const float scale = 1.0f / std::sqrt(float(D));
    double ms = timeMs(r, toy ? 1 : 20, [&] {
      r.enqueue("t_kv_write_full", launch::rows(B, mmk::rowThreads(HKV * D / 4)),
                KernelArgs(static_cast<const float *>(kv.ptr()), int64_t(HKV * D),
                           static_cast<const float *>(kv.ptr()), int64_t(HKV * D), kc.ptr(),
                           vc.ptr(), static_cast<const int64_t *>(pos.ptr()), B, int64_t(1), S,
                           err.ptr()));
      r.enqueue("t_attn_decode_full", launch::attentionDecode(B, HQ, HKV, D, splits),
                KernelArgs(static_cast<const float *>(q.ptr()), int64_t(HQ * D),
                           static_cast<const float *>(kc.ptr()),
                           static_cast<const float *>(vc.ptr()), S,
                           static_cast<const int64_t *>(pos.ptr()), partial.ptr(), B,
                           int64_t(mmk::attentionDecodeKeysPerSplit(S, splits)), scale, err.ptr()));
      r.enqueue("t_attn_combine_full", launch::attentionDecodeCombine(B, HQ, D),
                KernelArgs(static_cast<const float *>(partial.ptr()), out.ptr(), int64_t(HQ * D), B,
                           splits));
    });
    double bytes = 2.0 * B * S * HKV * D * 4;
    std::printf("%8lld %8lld %8d %10.1f %12.0f\n", static_cast<long long>(B),
                static_cast<long long>(S), splits, ms * 1e3, bytes / (ms * 1e-3) / 1e9);
  }
  if (err.value() != 0)
    throw Error(std::string("timing runs reported: ") + kernelErrorMessage(err.value()));

  // Dense decode GEMV, y [rows, N] = x W^T with W [8192, 6144] (MiniMax-Text-01's
  // q projection) in each storage, and cuBLAS's FP32 GEMM on the same shape.
  // Bytes = the weight (and int8 scales) read once.
  const int64_t N = toy ? 96 : 8192, K = toy ? 80 : 6144;
  std::printf("\ndense decode GEMV (W [%lld, %lld]; weight read once)\n", static_cast<long long>(N),
              static_cast<long long>(K));
  std::printf("%8s %6s %10s %12s\n", "weights", "rows", "us", "weight GB/s");
  std::unique_ptr<Cublas> cublas = toy ? nullptr : Cublas::create(r.driver());
  for (const char *dtype : {"f32", "bf16", "int8", "cublas-f32"}) {
    const bool viaCublas = std::string(dtype) == "cublas-f32";
    if (viaCublas && !cublas)
      continue;
    const double perWeight = dtype[0] == 'b' ? 2 : dtype[0] == 'i' ? 1 : 4;
    const size_t bytes = size_t(N * K * perWeight) + (dtype[0] == 'i' ? 64 + 4 * N : 0);
    DeviceArray<uint8_t> w(r, bytes);
    w.fill(0x3c); // bf16 0x3c3c = 0.0115, int8 60, scales 0.0115
    for (int64_t rows : {1, 8}) {
      DeviceArray<float> x(r, size_t(rows) * K), y(r, size_t(rows) * N);
      x.fill(0x3c);
      const std::string kernel = toy ? std::string("t_gemv_") + (viaCublas ? "f32" : dtype) +
                                           (dtype[0] == 'f' || viaCublas ? "_narrow" : "_wide")
                                     : std::string("t_gemv_timing_") + dtype;
      if (toy && (dtype[0] == 'f' || viaCublas))
        continue; // the toy f32 instance has other dims
      double ms = timeMs(r, toy ? 1 : 50, [&] {
        if (viaCublas)
          cublas->gemmRowMajor(rows, N, K, reinterpret_cast<uintptr_t>(x.ptr()), K,
                               reinterpret_cast<uintptr_t>(w.ptr()), K,
                               reinterpret_cast<uintptr_t>(y.ptr()), N);
        else
          r.enqueue(kernel, launch::gemv(int(N), int(perWeight)),
                    KernelArgs(static_cast<const float *>(x.ptr()),
                               static_cast<const void *>(w.ptr()), y.ptr(), rows));
      });
      std::printf("%8s %6lld %10.1f %12.0f\n", dtype, static_cast<long long>(rows), ms * 1e3,
                  bytes / (ms * 1e-3) / 1e9);
    }
  }
}

} // namespace

namespace mm::cudatest {
KernelRunner &testRunner() { return *gRunner; }
} // namespace mm::cudatest

// cuBLAS: y = x W^T in FP32 (and bf16 inputs) against ref::linear.
// FP32: each output a K-term dot in any order: |diff| <= (2 K + 8) u (|x| |W|^T).
// bf16: inputs rounded to bf16 first (relative 2^-9 each), then the same.
TEST(Cublas, RowMajorGemmMatchesLinear) {
  GpuRunner &r = *gRunner;
  // (The fake-driver run filters this test out: it only runs mmc's kernels.)
  std::string why;
  std::unique_ptr<Cublas> blas = Cublas::create(r.driver(), &why);
  ASSERT_TRUE(blas) << why;
  const int64_t M = 37, N = 300, K = 6144;
  std::vector<float> x = randomFloats(M * K, 501), w = randomFloats(N * K, 502, 0.02);
  Tensor want = ref::linear(floatTensor({M, K}, x), floatTensor({N, K}, w), nullptr);
  Tensor mag = ref::linear(floatTensor({M, K}, absOf(x)).to(DType::F64),
                           floatTensor({N, K}, absOf(w)).to(DType::F64), nullptr);
  DeviceArray<float> xd(r, x), wd(r, w), y(r, M * N);
  for (GemmPrecision p : {GemmPrecision::Fp32, GemmPrecision::Fp32Pedantic}) {
    blas->gemmRowMajor(M, N, K, reinterpret_cast<uint64_t>(xd.ptr()), K,
                       reinterpret_cast<uint64_t>(wd.ptr()), K, reinterpret_cast<uint64_t>(y.ptr()),
                       N, 1.f, 0.f, p);
    r.driver().synchronize();
    EXPECT_TRUE(allClose(y.download(), floatsOf(want), scaled(doublesOf(mag), (2.0 * K + 8) * kU)));
  }
  // bf16 x bf16 -> fp32: compare with the reference on the bf16-rounded inputs.
  DeviceArray<uint16_t> xb(r, M * K), wb(r, N * K);
  run("t_f32_to_bf16", launch::elementwise(M * K), static_cast<const float *>(xd.ptr()),
      reinterpret_cast<unsigned short *>(xb.ptr()), M * K);
  run("t_f32_to_bf16", launch::elementwise(N * K), static_cast<const float *>(wd.ptr()),
      reinterpret_cast<unsigned short *>(wb.ptr()), N * K);
  auto widen = [](const std::vector<uint16_t> &h) {
    std::vector<float> f(h.size());
    for (size_t i = 0; i < h.size(); ++i) {
      uint32_t b = uint32_t(h[i]) << 16;
      std::memcpy(&f[i], &b, 4);
    }
    return f;
  };
  std::vector<float> xr = widen(xb.download()), wr = widen(wb.download());
  Tensor wantBf = ref::linear(floatTensor({M, K}, xr), floatTensor({N, K}, wr), nullptr);
  blas->gemmRowMajorBf16(M, N, K, reinterpret_cast<uint64_t>(xb.ptr()), K,
                         reinterpret_cast<uint64_t>(wb.ptr()), K,
                         reinterpret_cast<uint64_t>(y.ptr()), N);
  r.driver().synchronize();
  EXPECT_TRUE(
      allClose(y.download(), floatsOf(wantBf), scaled(doublesOf(mag), (2.0 * K + 8) * kU * 1.02)));
}

int main(int argc, char **argv) {
  bool timing = false;
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], "--timing") == 0)
      timing = true;
    else
      args.push_back(argv[i]);
  }
  int count = static_cast<int>(args.size());
  args.push_back(nullptr); // argv[argc] == nullptr, as gtest expects
  ::testing::InitGoogleTest(&count, args.data());

  std::string why;
  CudaDriver *driver = CudaDriver::get(&why);
  if (!driver) {
    std::printf("mm-cuda-gpu-tests: no usable GPU: %s\n", why.c_str());
    return 77;
  }
  std::printf("device: %s (%s, %d SMs, %.1f GiB), driver %d\n", driver->deviceName().c_str(),
              driver->arch().c_str(), driver->multiprocessors(),
              driver->totalMemory() / double(1 << 30), driver->driverVersion());
  try {
    GpuRunner runner(*driver);
    gRunner = &runner;
    int status = RUN_ALL_TESTS();
    if (timing)
      timings(runner);
    gRunner = nullptr;
    return status;
  } catch (const std::exception &e) {
    std::fprintf(stderr, "mm-cuda-gpu-tests: %s\n", e.what());
    return 1;
  }
}
