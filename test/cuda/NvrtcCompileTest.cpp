//===- NvrtcCompileTest.cpp - the kernel library through NVRTC, no GPU needed -===//
//
// Compiles every library kernel for sm_90 at the tiny and the full
// MiniMax-Text-01 configuration (and the GPU tests' kernels), prints a table
// of registers and spills per kernel (also written to
// <build>/cuda-kernel-resources.txt), and tests the NVRTC disk cache, the
// driver loader's failure path and the host-side launch geometry.
//
//===----------------------------------------------------------------------===//
#include "codegen/cuda/KernelLibrary.h"
#include "runtime/Error.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/DevicePool.h"
#include "runtime/cuda/Nvrtc.h"
#include "test/cuda/LibraryInstances.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>

// NVRTC keeps process-lifetime allocations; they are not mmc's leaks.
extern "C" const char *__lsan_default_suppressions() {
  return "leak:libnvrtc\nleak:libnvrtc-builtins\n";
}

namespace mm::cudatest {
const std::vector<std::pair<const char *, const char *>> &embeddedTestKernels();
} // namespace mm::cudatest

using namespace mm;
using namespace mm::cuda;
using namespace mm::cudatest;

namespace {

namespace fs = std::filesystem;

/// A cache directory inside the build tree, emptied per test.
std::string freshCacheDir(const std::string &name) {
  fs::path dir = fs::path(MM_CUDA_TEST_BUILD_DIR) / "nvrtc-test-cache" / name;
  fs::remove_all(dir);
  return dir.string();
}

Nvrtc &nvrtc() {
  static std::unique_ptr<Nvrtc> n = [] {
    std::string why;
    auto p = Nvrtc::load(&why, (fs::path(MM_CUDA_TEST_BUILD_DIR) / "nvrtc-cache").string());
    if (!p)
      throw Error("NVRTC unavailable: " + why);
    return p;
  }();
  return *n;
}

std::string resourceTable(const std::string &config, const std::vector<KernelInstance> &kernels,
                          const CompiledKernel &compiled) {
  std::ostringstream os;
  os << "config " << config << " (sm_90, NVRTC " << nvrtc().versionMajor() << "."
     << nvrtc().versionMinor() << ")\n";
  os << std::left << std::setw(34) << "kernel" << std::right << std::setw(6) << "regs"
     << std::setw(14) << "spill st (B)" << std::setw(14) << "spill ld (B)" << std::setw(10)
     << "stack (B)" << std::setw(10) << "smem (B)" << "\n";
  for (const KernelInstance &k : kernels) {
    auto it = compiled.resources.find(k.name);
    KernelResources r = it == compiled.resources.end() ? KernelResources{} : it->second;
    os << std::left << std::setw(34) << k.name << std::right << std::setw(6) << r.registers
       << std::setw(14) << r.spillStoreBytes << std::setw(14) << r.spillLoadBytes << std::setw(10)
       << r.stackFrameBytes << std::setw(10) << r.staticSharedBytes << "\n";
  }
  return os.str();
}

void compileConfig(const ModelDims &dims) {
  std::vector<KernelInstance> kernels = libraryInstances(dims);
  std::string source = kernelLibrarySource();
  for (const KernelInstance &k : kernels)
    source += k.wrapper;
  CompiledKernel compiled;
  ASSERT_NO_THROW(compiled = nvrtc().compile(source, "mm_" + dims.name + "_library.cu", "sm_90"));
  EXPECT_TRUE(compiled.isCubin);
  EXPECT_FALSE(compiled.image.empty());
  for (const KernelInstance &k : kernels)
    EXPECT_TRUE(compiled.resources.count(k.name)) << "no ptxas report for " << k.name;
  std::string table = resourceTable(dims.name, kernels, compiled);
  std::cout << table;
  std::ofstream(fs::path(MM_CUDA_TEST_BUILD_DIR) / ("cuda-kernel-resources-" + dims.name + ".txt"))
      << table;
}

} // namespace

TEST(KernelLibrary, CompilesForTinyConfig) { compileConfig(tinyDims()); }

TEST(KernelLibrary, CompilesForFullMiniMaxConfig) { compileConfig(fullDims()); }

// The GPU tests' kernels (test/cuda/TestKernels.cuh) compile too, so
// mm-cuda-gpu-tests cannot fail on a compile error on the GPU machine.
TEST(KernelLibrary, GpuTestKernelsCompile) {
  std::string source = kernelLibrarySource();
  for (const auto &[name, text] : embeddedTestKernels())
    source += stripKernelIncludes(text);
  CompiledKernel compiled;
  ASSERT_NO_THROW(compiled = nvrtc().compile(source, "mm_test_kernels.cu", "sm_90"));
  EXPECT_TRUE(compiled.resources.count("t_lightning_output_full"));
  EXPECT_TRUE(compiled.resources.count("t_moe_sort_full"));
}

TEST(KernelLibrary, HeadersAreConcatenatedInDependencyOrder) {
  const auto &headers = kernelHeaders();
  ASSERT_FALSE(headers.empty());
  EXPECT_EQ(headers.front().name, "interface.cuh");
  const std::string &src = kernelLibrarySource();
  EXPECT_EQ(src.find("\n#include \""), std::string::npos) << "library includes left in";
  for (const char *api : {"mm_lightning_block_output_kernel", "mm_attention_decode_kernel",
                          "mm_moe_grouped_swiglu_kernel", "mm_rms_norm_kernel", "mm_rope_kernel"})
    EXPECT_NE(src.find(api), std::string::npos) << api;
  EXPECT_EQ(stripKernelIncludes("#include \"a/b.cuh\"\nx\n#include <c>\n"),
            "// #include \"a/b.cuh\" (concatenated)\nx\n#include <c>\n");
  EXPECT_STREQ(kernelErrorMessage(mmk::kOk), "no error");
  EXPECT_NE(std::string(kernelErrorMessage(mmk::kCacheOverflow)).find("capacity"),
            std::string::npos);
}

// Launch shapes of the full configuration fit an H100 / H200 (227 KiB of
// shared memory per block, 65535 in grid y / z).
TEST(KernelLibrary, FullConfigLaunchShapesFitTheGpu) {
  const unsigned kMaxShared = 227 * 1024;
  LaunchShape out = launch::lightningOutput(1, 65536, 64, 128, 256);
  EXPECT_EQ(out.block, 256u);
  EXPECT_EQ(out.grid[0], 256u * 4);
  EXPECT_EQ(out.grid[1], 64u);
  EXPECT_LE(out.sharedBytes, kMaxShared / 2) << "two CTAs per SM";
  EXPECT_LE(launch::attentionPrefill(8, 4096, 64, 8, 128).sharedBytes, kMaxShared);
  EXPECT_LE(launch::attentionDecode(8, 64, 8, 128, 16).sharedBytes, kMaxShared);
  EXPECT_EQ(launch::lightningScan(1, 64, 128).grid[0], 16u);
  EXPECT_EQ(launch::lightningDecode(2, 64, 128).grid[0], 2u);
  EXPECT_EQ(launch::groupedGemm(100, 6144, 32).grid[0], 2u + 32u);
  EXPECT_EQ(launch::attentionDecodeSplits(1, 8, 65536, 132), 66);
  EXPECT_EQ(launch::attentionDecodeSplits(1, 8, 100, 132), 2) << "no split shorter than a key tile";
  EXPECT_THROW(launch::lightningState(70000, 16, 64, 256), Error) << "batch beyond grid z";
}

TEST(Nvrtc, SecondCompileIsACacheHitAndCorruptEntriesAreRecompiled) {
  std::string dir = freshCacheDir("hit");
  std::string why;
  std::unique_ptr<Nvrtc> n = Nvrtc::load(&why, dir);
  ASSERT_TRUE(n) << why;
  const std::string source =
      "extern \"C\" __global__ void k(float *x) { x[threadIdx.x] *= 2.f; }\n";
  CompiledKernel first = n->compile(source, "k.cu", "sm_90");
  EXPECT_FALSE(first.fromCache);
  ASSERT_EQ(first.resources.count("k"), 1u);
  EXPECT_GT(first.resources.at("k").registers, 0);

  CompiledKernel second = n->compile(source, "k.cu", "sm_90");
  EXPECT_TRUE(second.fromCache);
  EXPECT_EQ(second.image, first.image);
  EXPECT_EQ(second.resources.at("k").registers, first.resources.at("k").registers);

  // Other options or another architecture are other entries.
  EXPECT_FALSE(n->compile(source, "k.cu", "sm_90", {"-lineinfo"}).fromCache);
  CompiledKernel ptx = n->compile(source, "k.cu", "compute_90");
  EXPECT_FALSE(ptx.isCubin);
  EXPECT_NE(std::string(ptx.image.begin(), ptx.image.end()).find(".entry k"), std::string::npos);

  // Corrupt every entry (one flipped payload byte): detected, recompiled, rewritten.
  std::vector<fs::path> files;
  for (const auto &entry : fs::directory_iterator(dir))
    files.push_back(entry.path());
  ASSERT_EQ(files.size(), 3u);
  for (const fs::path &f : files) {
    std::fstream io(f, std::ios::in | std::ios::out | std::ios::binary);
    io.seekp(-1, std::ios::end);
    io.put('\x5a' ^ static_cast<char>(io.rdbuf()->sgetc()));
  }
  CompiledKernel third = n->compile(source, "k.cu", "sm_90");
  EXPECT_FALSE(third.fromCache) << "a corrupt entry must not be trusted";
  EXPECT_EQ(third.image, first.image);
  EXPECT_TRUE(n->compile(source, "k.cu", "sm_90").fromCache) << "rewritten after recompiling";

  // A truncated entry likewise.
  for (const auto &entry : fs::directory_iterator(dir))
    fs::resize_file(entry.path(), 20);
  EXPECT_FALSE(n->compile(source, "k.cu", "sm_90").fromCache);
  EXPECT_TRUE(n->compile(source, "k.cu", "sm_90").fromCache);
  for (const auto &entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << "temporary left behind";
}

TEST(Nvrtc, CompileErrorsCarryTheLog) {
  std::string why;
  std::unique_ptr<Nvrtc> n = Nvrtc::load(&why, "");
  ASSERT_TRUE(n) << why;
  EXPECT_FALSE(n->cache().enabled());
  try {
    n->compile("extern \"C\" __global__ void broken() { undeclared_thing = 1; }\n", "broken.cu",
               "sm_90");
    FAIL() << "no exception";
  } catch (const Error &e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("broken.cu"), std::string::npos) << msg;
    EXPECT_NE(msg.find("undeclared_thing"), std::string::npos) << msg;
  }
  EXPECT_THROW(n->compile("", "x.cu", "gfx90a"), Error);
}

TEST(Nvrtc, ParsesPtxasReports) {
  const char *log =
      "ptxas info    : 0 bytes gmem\n"
      "ptxas info    : Compiling entry function 'a' for 'sm_90'\n"
      "ptxas info    : Function properties for a\n"
      "ptxas         .     24 bytes stack frame, 20 bytes spill stores, 40 bytes spill loads\n"
      "ptxas info    : Used 128 registers, used 1 barriers, 33920 bytes smem\n"
      "ptxas info    : Compiling entry function 'b' for 'sm_90'\n"
      "ptxas info    : Function properties for helper\n"
      "ptxas         .     8 bytes stack frame, 4 bytes spill stores, 4 bytes spill loads\n"
      "ptxas info    : Function properties for b\n"
      "ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads\n"
      "ptxas info    : Used 8 registers, used 0 barriers\n";
  auto r = parsePtxasInfo(log);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r["a"].registers, 128);
  EXPECT_EQ(r["a"].spillStoreBytes, 20);
  EXPECT_EQ(r["a"].spillLoadBytes, 40);
  EXPECT_EQ(r["a"].stackFrameBytes, 24);
  EXPECT_EQ(r["a"].staticSharedBytes, 33920);
  EXPECT_EQ(r["b"].registers, 8);
  EXPECT_EQ(r["b"].spillStoreBytes, 0) << "a callee's properties are not the entry's";
}

// This test runs in CI without a GPU: the loader must then say why, not crash.
TEST(CudaDriver, ReportsWhyThereIsNoGpu) {
  std::string why;
  CudaDriver *driver = CudaDriver::get(&why);
  if (driver) { // on a GPU machine: the driver loads and names the device
    EXPECT_FALSE(driver->deviceName().empty());
    EXPECT_EQ(driver->arch().rfind("sm_", 0), 0u);
    return;
  }
  EXPECT_FALSE(why.empty());
  EXPECT_TRUE(why.find("libcuda.so.1") != std::string::npos ||
              why.find("cuInit") != std::string::npos || why.find("device") != std::string::npos)
      << why;
  std::string again;
  EXPECT_EQ(CudaDriver::get(&again), nullptr);
  EXPECT_EQ(again, why) << "the answer is stable";
  std::cout << "no GPU: " << why << "\n";
}

TEST(DevicePool, SizeClasses) {
  EXPECT_EQ(DevicePool::sizeClass(0), 512u);
  EXPECT_EQ(DevicePool::sizeClass(512), 512u);
  EXPECT_EQ(DevicePool::sizeClass(513), 1024u);
  EXPECT_EQ(DevicePool::sizeClass(1 << 20), size_t(1) << 20);
  EXPECT_EQ(DevicePool::sizeClass((1 << 20) + 1), size_t(2) << 20);
  EXPECT_EQ(DevicePool::sizeClass((size_t(5) << 20) + 3), size_t(6) << 20);
  EXPECT_THROW(DevicePool::sizeClass(SIZE_MAX - 5), Error);
}
