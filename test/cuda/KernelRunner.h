//===- KernelRunner.h - one kernel-test API for the GPU and the CPU emulator -===//
//
// The kernel tests (KernelCases.cpp) are written once against this interface.
// mm-cuda-gpu-tests runs them on a GPU (NVRTC + driver), mm-cuda-emu-tests on
// the CPU emulator (test/cuda/emu), which CI can run without a GPU. Device
// memory is a 64-bit address; on the emulator it is a host pointer.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TEST_CUDA_KERNELRUNNER_H
#define MM_TEST_CUDA_KERNELRUNNER_H

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace mm::cudatest {

struct Grid {
  unsigned x = 1, y = 1, z = 1;
};

/// Kernel parameters by value, in order; each slot holds up to 16 bytes.
class KernelArgs {
public:
  template <typename... T> explicit KernelArgs(const T &...values) { (add(values), ...); }
  template <typename T> void add(const T &value) {
    static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 16, "plain kernel parameter");
    Slot slot{};
    std::memcpy(slot.bytes, &value, sizeof(T));
    slots_.push_back(slot);
    sizes_.push_back(sizeof(T));
  }
  /// Pointers to each slot (valid until the next add).
  std::vector<void *> pointers() {
    std::vector<void *> p;
    for (Slot &s : slots_)
      p.push_back(s.bytes);
    return p;
  }
  const std::vector<size_t> &sizes() const { return sizes_; }

private:
  struct alignas(16) Slot {
    unsigned char bytes[16];
  };
  std::vector<Slot> slots_;
  std::vector<size_t> sizes_;
};

class KernelRunner {
public:
  virtual ~KernelRunner() = default;
  virtual std::string description() const = 0;
  virtual bool emulated() const = 0;
  /// Memory starts filled with 0xff bytes (NaN floats, -1 integers) so that an
  /// output a kernel forgot to write is noticed.
  virtual uint64_t allocate(size_t bytes) = 0;
  virtual void release(uint64_t address) = 0;
  virtual void copyToDevice(uint64_t dst, const void *src, size_t bytes) = 0;
  virtual void copyToHost(void *dst, uint64_t src, size_t bytes) = 0;
  virtual void fill(uint64_t dst, unsigned char byte, size_t bytes) = 0;
  /// Launches a kernel of test/cuda/TestKernels.cuh by name and waits for it.
  virtual void launch(const std::string &kernel, Grid grid, unsigned blockThreads,
                      unsigned sharedBytes, KernelArgs args) = 0;
};

/// The runner of the running test executable.
KernelRunner &testRunner();

/// A typed device array; `ptr()` is what a kernel parameter of type T* receives.
template <typename T> class DeviceArray {
public:
  DeviceArray(KernelRunner &runner, size_t count)
      : runner_(&runner), count_(count), address_(runner.allocate(bytes())) {}
  DeviceArray(KernelRunner &runner, const std::vector<T> &values)
      : DeviceArray(runner, values.size()) {
    upload(values);
  }
  DeviceArray(const DeviceArray &) = delete;
  DeviceArray &operator=(const DeviceArray &) = delete;
  ~DeviceArray() { runner_->release(address_); }

  T *ptr() const { return reinterpret_cast<T *>(static_cast<uintptr_t>(address_)); }
  size_t size() const { return count_; }
  size_t bytes() const { return count_ * sizeof(T) + (count_ == 0 ? 16 : 0); }
  void upload(const std::vector<T> &values) {
    runner_->copyToDevice(address_, values.data(), values.size() * sizeof(T));
  }
  std::vector<T> download() const {
    std::vector<T> out(count_);
    runner_->copyToHost(out.data(), address_, count_ * sizeof(T));
    return out;
  }
  void fill(unsigned char byte) { runner_->fill(address_, byte, count_ * sizeof(T)); }

private:
  KernelRunner *runner_;
  size_t count_;
  uint64_t address_;
};

} // namespace mm::cudatest

#endif // MM_TEST_CUDA_KERNELRUNNER_H
