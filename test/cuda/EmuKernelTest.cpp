//===- EmuKernelTest.cpp - the kernel tests on the CPU emulator (no GPU) ---===//
//
// mm-cuda-emu-tests runs every case of the kernel tests (KernelCases) through
// test/cuda/emu: the kernels' indexing, synchronisation and arithmetic are
// checked against the reference kernels on any machine. Sizes are smaller
// than on the GPU; full-size-only cases skip.
//
//===----------------------------------------------------------------------===//
#include "test/cuda/KernelRunner.h"
#include "test/cuda/emu/Emulator.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

namespace mm::cudatest {
namespace {

class EmulatorRunner : public KernelRunner {
public:
  std::string description() const override { return "CPU emulator"; }
  bool emulated() const override { return true; }
  uint64_t allocate(size_t bytes) override {
    void *p = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!p)
      throw std::runtime_error("emulator: out of memory");
    std::memset(p, 0xff, bytes);
    return reinterpret_cast<uint64_t>(p);
  }
  void release(uint64_t address) override { std::free(reinterpret_cast<void *>(address)); }
  void copyToDevice(uint64_t dst, const void *src, size_t bytes) override {
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  }
  void copyToHost(void *dst, uint64_t src, size_t bytes) override {
    std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
  }
  void fill(uint64_t dst, unsigned char byte, size_t bytes) override {
    std::memset(reinterpret_cast<void *>(dst), byte, bytes);
  }
  void launch(const std::string &kernel, Grid grid, unsigned blockThreads, unsigned sharedBytes,
              KernelArgs args) override {
    const mm_emu::KernelEntry *entry = mm_emu::findKernel(kernel);
    if (!entry)
      throw std::runtime_error("emulator: no test kernel named " + kernel);
    if (entry->paramSizes != args.sizes())
      throw std::runtime_error("emulator: arguments of " + kernel +
                               " do not match its parameters (count or sizes)");
    std::vector<void *> pointers = args.pointers();
    mm_emu::launch(entry->thunk, mm_emu::Index3{grid.x, grid.y, grid.z}, blockThreads, sharedBytes,
                   pointers.data());
  }
};

} // namespace

KernelRunner &testRunner() {
  static EmulatorRunner runner;
  return runner;
}

} // namespace mm::cudatest
