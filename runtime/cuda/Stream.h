//===- Stream.h - CUDA streams and timing events ---------------*- C++ -*-===//
#ifndef MM_RUNTIME_CUDA_STREAM_H
#define MM_RUNTIME_CUDA_STREAM_H

#include "runtime/cuda/CudaDriver.h"

namespace mm::cuda {

class Stream {
public:
  explicit Stream(const CudaDriver &driver);
  ~Stream();
  Stream(const Stream &) = delete;
  Stream &operator=(const Stream &) = delete;
  CuStream handle() const { return stream_; }
  void synchronize() const;

private:
  const CudaDriver *driver_;
  CuStream stream_ = nullptr;
};

/// An event with timing (cuEventElapsedTime between two recorded events).
class Event {
public:
  explicit Event(const CudaDriver &driver);
  ~Event();
  Event(const Event &) = delete;
  Event &operator=(const Event &) = delete;
  void record(CuStream stream = nullptr);
  void synchronize() const;
  /// Milliseconds from `start` to this event (both recorded, this one complete).
  float millisecondsSince(const Event &start) const;

private:
  const CudaDriver *driver_;
  CuEvent event_ = nullptr;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_STREAM_H
