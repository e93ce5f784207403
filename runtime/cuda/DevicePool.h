//===- DevicePool.h - device memory with a caching allocator ---*- C++ -*-===//
//
// cuMemAlloc / cuMemFree are slow and synchronising, so freed blocks are kept
// per size class and handed out again. DeviceBuffer returns its block on
// destruction. A failed allocation frees the cache and retries once.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_DEVICEPOOL_H
#define MM_RUNTIME_CUDA_DEVICEPOOL_H

#include "runtime/cuda/CudaDriver.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <vector>

namespace mm::cuda {

class DevicePool;

/// Owns `size()` bytes of device memory from a DevicePool (movable, not copyable).
class DeviceBuffer {
public:
  DeviceBuffer() = default;
  DeviceBuffer(DeviceBuffer &&other) noexcept { *this = std::move(other); }
  DeviceBuffer &operator=(DeviceBuffer &&other) noexcept;
  ~DeviceBuffer() { reset(); }

  CuDevicePtr address() const { return address_; }
  size_t size() const { return size_; }
  template <typename T> T *as() const { // the value a kernel parameter of type T* receives
    return reinterpret_cast<T *>(static_cast<uintptr_t>(address_));
  }
  /// Synchronous copies (ordered after all prior work on the legacy stream).
  void upload(const void *src, size_t bytes, size_t offset = 0);
  void download(void *dst, size_t bytes, size_t offset = 0) const;
  void fill(unsigned char byte);
  void uploadAsync(const void *src, size_t bytes, CuStream stream, size_t offset = 0);
  void downloadAsync(void *dst, size_t bytes, CuStream stream, size_t offset = 0) const;
  /// Returns the block to the pool now.
  void reset();

private:
  friend class DevicePool;
  DeviceBuffer(DevicePool *pool, CuDevicePtr address, size_t size, size_t capacity)
      : pool_(pool), address_(address), size_(size), capacity_(capacity) {}
  void checkRange(size_t offset, size_t bytes, const char *what) const;

  DevicePool *pool_ = nullptr;
  CuDevicePtr address_ = 0;
  size_t size_ = 0, capacity_ = 0;
};

class DevicePool {
public:
  explicit DevicePool(const CudaDriver &driver) : driver_(&driver) {}
  /// Frees the cached blocks; buffers still alive must not outlive the pool.
  ~DevicePool();
  DevicePool(const DevicePool &) = delete;
  DevicePool &operator=(const DevicePool &) = delete;

  DeviceBuffer allocate(size_t bytes);
  /// cuMemFree every cached (unused) block.
  void trim();
  size_t bytesInUse() const;
  size_t bytesCached() const;
  const CudaDriver &driver() const { return *driver_; }

  /// The block size serving a request: powers of two from 512 B up to 1 MiB,
  /// then multiples of 2 MiB (cuMemAlloc's own granularity).
  static size_t sizeClass(size_t bytes);

private:
  friend class DeviceBuffer;
  void giveBack(CuDevicePtr address, size_t capacity);

  const CudaDriver *driver_;
  mutable std::mutex mutex_;
  std::map<size_t, std::vector<CuDevicePtr>> free_; // by capacity
  size_t inUse_ = 0, cached_ = 0;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_DEVICEPOOL_H
