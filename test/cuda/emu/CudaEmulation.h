//===- CudaEmulation.h - the CUDA device dialect for a host compiler -------===//
//
// Include before the kernel library in a host translation unit: maps CUDA
// keywords, built-in variables and the intrinsics the library uses onto the
// fiber emulator (Emulator.h). Atomics need no locking: fibers of a block run
// on one OS thread and switch only at barriers.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TEST_CUDA_EMU_CUDAEMULATION_H
#define MM_TEST_CUDA_EMU_CUDAEMULATION_H

#include "test/cuda/emu/Emulator.h"

#include <cmath>
#include <cstring>
#include <math.h>

#define MM_CUDA_EMULATION 1
#define __device__
#define __global__
#define __host__
#define __forceinline__ inline
#define __shared__ static
#define __restrict__ __restrict
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

struct alignas(16) float4 {
  float x, y, z, w;
};
inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }
struct alignas(8) uint2 {
  unsigned x, y;
};
struct alignas(16) uint4 {
  unsigned x, y, z, w;
};

#define threadIdx (::mm_emu::threadIndex())
#define blockIdx (::mm_emu::blockIndex())
#define blockDim (::mm_emu::blockDimension())
#define gridDim (::mm_emu::gridDimension())

inline void __syncthreads() { ::mm_emu::syncThreads(); }
inline void __syncwarp(unsigned = 0xffffffffu) { ::mm_emu::syncWarp(); }

template <typename T> inline T mm_emu_exchange(T value, int srcLane) {
  static_assert(sizeof(T) <= 16, "slot size");
  unsigned char *slots = ::mm_emu::warpSlots();
  std::memcpy(slots + 16 * ::mm_emu::laneId(), &value, sizeof(T));
  ::mm_emu::syncWarp();
  T result;
  std::memcpy(&result, slots + 16 * srcLane, sizeof(T));
  ::mm_emu::syncWarp(); // nobody overwrites a slot before everyone has read
  return result;
}
template <typename T> inline T __shfl_xor_sync(unsigned, T value, int laneMask, int width = 32) {
  int lane = (int)::mm_emu::laneId(), src = lane ^ laneMask;
  if ((src & ~(width - 1)) != (lane & ~(width - 1)))
    src = lane;
  return mm_emu_exchange(value, src);
}
template <typename T> inline T __shfl_sync(unsigned, T value, int srcLane, int width = 32) {
  int lane = (int)::mm_emu::laneId();
  return mm_emu_exchange(value, (lane & ~(width - 1)) + (srcLane & (width - 1)));
}
inline unsigned __match_any_sync(unsigned, int value) {
  unsigned char *slots = ::mm_emu::warpSlots();
  // Lanes that exited keep stale slots: mark the live ones first.
  std::memcpy(slots + 16 * ::mm_emu::laneId(), &value, sizeof(int));
  slots[16 * ::mm_emu::laneId() + 8] = 1;
  ::mm_emu::syncWarp();
  unsigned mask = 0;
  for (int l = 0; l < 32; ++l) {
    int other;
    std::memcpy(&other, slots + 16 * l, sizeof(int));
    if (slots[16 * l + 8] == 1 && other == value)
      mask |= 1u << l;
  }
  ::mm_emu::syncWarp();
  slots[16 * ::mm_emu::laneId() + 8] = 0;
  ::mm_emu::syncWarp();
  return mask;
}

inline int __popc(unsigned x) { return __builtin_popcount(x); }
// CUDA's integer min / max overloads (the generated elementwise code calls them).
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline int min(int a, int b) { return a < b ? a : b; }
inline float __int_as_float(int i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline int __float_as_int(float f) {
  int i;
  std::memcpy(&i, &f, 4);
  return i;
}
inline float __uint_as_float(unsigned u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
inline unsigned __float_as_uint(float f) {
  unsigned u;
  std::memcpy(&u, &f, 4);
  return u;
}

template <typename T> inline T atomicCAS(T *address, T compare, T value) {
  T old = *address;
  if (old == compare)
    *address = value;
  return old;
}
template <typename T> inline T atomicAdd(T *address, T value) {
  T old = *address;
  *address = old + value;
  return old;
}

inline unsigned char *mm_emu_dynamic_smem() { return ::mm_emu::dynamicSmem(); }
inline unsigned mm_emu_dynamic_smem_size() { return ::mm_emu::dynamicSmemSize(); }

/// Test kernels: an extern "C" function registered under its name.
#define MM_TEST_KERNEL(name, params)                                                               \
  extern "C" void name params;                                                                     \
  static ::mm_emu::Registrar name##_registrar(#name, &name);                                       \
  extern "C" void name params
#define MM_TEST_KERNEL_BOUNDED(name, threads, minBlocks, params) MM_TEST_KERNEL(name, params)

#endif // MM_TEST_CUDA_EMU_CUDAEMULATION_H
