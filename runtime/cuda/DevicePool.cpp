//===- DevicePool.cpp - device memory with a caching allocator ------------===//
#include "runtime/cuda/DevicePool.h"
#include "runtime/Error.h"

namespace mm::cuda {

DeviceBuffer &DeviceBuffer::operator=(DeviceBuffer &&other) noexcept {
  if (this != &other) {
    reset();
    pool_ = other.pool_;
    address_ = other.address_;
    size_ = other.size_;
    capacity_ = other.capacity_;
    other.pool_ = nullptr;
    other.address_ = 0;
    other.size_ = other.capacity_ = 0;
  }
  return *this;
}

void DeviceBuffer::reset() {
  if (pool_)
    pool_->giveBack(address_, capacity_);
  pool_ = nullptr;
  address_ = 0;
  size_ = capacity_ = 0;
}

void DeviceBuffer::checkRange(size_t offset, size_t bytes, const char *what) const {
  if (!pool_ || offset > size_ || bytes > size_ - offset)
    throw makeError(what, ": ", bytes, " bytes at offset ", offset, " outside a buffer of ", size_,
                    " bytes");
}

void DeviceBuffer::upload(const void *src, size_t bytes, size_t offset) {
  checkRange(offset, bytes, "DeviceBuffer::upload");
  const CudaDriver &d = pool_->driver();
  d.check(d.api().cuMemcpyHtoD(address_ + offset, src, bytes), "cuMemcpyHtoD");
}

void DeviceBuffer::download(void *dst, size_t bytes, size_t offset) const {
  checkRange(offset, bytes, "DeviceBuffer::download");
  const CudaDriver &d = pool_->driver();
  d.check(d.api().cuMemcpyDtoH(dst, address_ + offset, bytes), "cuMemcpyDtoH");
}

void DeviceBuffer::fill(unsigned char byte) {
  if (!pool_)
    return;
  const CudaDriver &d = pool_->driver();
  d.check(d.api().cuMemsetD8(address_, byte, size_), "cuMemsetD8");
}

void DeviceBuffer::uploadAsync(const void *src, size_t bytes, CuStream stream, size_t offset) {
  checkRange(offset, bytes, "DeviceBuffer::uploadAsync");
  const CudaDriver &d = pool_->driver();
  d.check(d.api().cuMemcpyHtoDAsync(address_ + offset, src, bytes, stream), "cuMemcpyHtoDAsync");
}

void DeviceBuffer::downloadAsync(void *dst, size_t bytes, CuStream stream, size_t offset) const {
  checkRange(offset, bytes, "DeviceBuffer::downloadAsync");
  const CudaDriver &d = pool_->driver();
  d.check(d.api().cuMemcpyDtoHAsync(dst, address_ + offset, bytes, stream), "cuMemcpyDtoHAsync");
}

size_t DevicePool::sizeClass(size_t bytes) {
  constexpr size_t kMin = 512, kLargeStep = size_t(2) << 20;
  if (bytes <= kMin)
    return kMin;
  if (bytes <= (size_t(1) << 20)) {
    size_t c = kMin;
    while (c < bytes)
      c <<= 1;
    return c;
  }
  if (bytes > SIZE_MAX - kLargeStep)
    throw makeError("DevicePool: request of ", bytes, " bytes is too large");
  return (bytes + kLargeStep - 1) / kLargeStep * kLargeStep;
}

DeviceBuffer DevicePool::allocate(size_t bytes) {
  size_t capacity = sizeClass(bytes);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = free_.find(capacity);
    if (it != free_.end() && !it->second.empty()) {
      CuDevicePtr p = it->second.back();
      it->second.pop_back();
      cached_ -= capacity;
      inUse_ += capacity;
      return DeviceBuffer(this, p, bytes, capacity);
    }
  }
  CuDevicePtr p = 0;
  CuResult r = driver_->api().cuMemAlloc(&p, capacity);
  if (r != 0) { // perhaps only fragmented by our cache
    trim();
    r = driver_->api().cuMemAlloc(&p, capacity);
  }
  if (r != 0)
    throw makeError("cuMemAlloc of ", capacity, " bytes failed: ", driver_->errorName(r), " (",
                    bytesInUse(), " bytes in use by the pool)");
  std::lock_guard<std::mutex> lock(mutex_);
  inUse_ += capacity;
  return DeviceBuffer(this, p, bytes, capacity);
}

void DevicePool::giveBack(CuDevicePtr address, size_t capacity) {
  std::lock_guard<std::mutex> lock(mutex_);
  free_[capacity].push_back(address);
  inUse_ -= capacity;
  cached_ += capacity;
}

void DevicePool::trim() {
  std::map<size_t, std::vector<CuDevicePtr>> blocks;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    blocks.swap(free_);
    cached_ = 0;
  }
  for (auto &[capacity, list] : blocks)
    for (CuDevicePtr p : list)
      driver_->api().cuMemFree(p);
}

DevicePool::~DevicePool() { trim(); }

size_t DevicePool::bytesInUse() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return inUse_;
}

size_t DevicePool::bytesCached() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cached_;
}

} // namespace mm::cuda
