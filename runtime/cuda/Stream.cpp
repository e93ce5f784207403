//===- Stream.cpp - CUDA streams and timing events ------------------------===//
#include "runtime/cuda/Stream.h"

namespace mm::cuda {

Stream::Stream(const CudaDriver &driver) : driver_(&driver) {
  driver.check(driver.api().cuStreamCreate(&stream_, 0), "cuStreamCreate");
}
Stream::~Stream() {
  if (stream_)
    driver_->api().cuStreamDestroy(stream_);
}
void Stream::synchronize() const {
  driver_->check(driver_->api().cuStreamSynchronize(stream_), "cuStreamSynchronize");
}

Event::Event(const CudaDriver &driver) : driver_(&driver) {
  driver.check(driver.api().cuEventCreate(&event_, 0), "cuEventCreate");
}
Event::~Event() {
  if (event_)
    driver_->api().cuEventDestroy(event_);
}
void Event::record(CuStream stream) {
  driver_->check(driver_->api().cuEventRecord(event_, stream), "cuEventRecord");
}
void Event::synchronize() const {
  driver_->check(driver_->api().cuEventSynchronize(event_), "cuEventSynchronize");
}
float Event::millisecondsSince(const Event &start) const {
  float ms = 0;
  driver_->check(driver_->api().cuEventElapsedTime(&ms, start.event_, event_),
                 "cuEventElapsedTime");
  return ms;
}

} // namespace mm::cuda
