//===- Emulator.h - runs CUDA kernel bodies on the CPU for tests -----------===//
//
// The kernel library is plain CUDA C++ with a few intrinsics, so a host
// compiler can build it behind CudaEmulation.h. This emulator then runs a
// launch: blocks one after another, the threads of a block as cooperative
// fibers on one OS thread, in a new random (seeded) order at every barrier. A
// fiber runs until it reaches a barrier (__syncthreads, or a warp-level
// operation, which synchronises the warp), so a missing barrier lets readers
// overtake writers (or writers overwrite data still to be read), and divergent
// barriers are reported as a deadlock. Dynamic shared
// memory starts filled with 0xff bytes (NaN floats) to expose reads of
// uninitialised data. Not a performance tool: it checks indexing and logic.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TEST_CUDA_EMU_EMULATOR_H
#define MM_TEST_CUDA_EMU_EMULATOR_H

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace mm_emu {

struct Index3 {
  unsigned x = 0, y = 0, z = 0;
};

using Thunk = std::function<void(void **args)>;

/// Runs a kernel over grid x block (1-D blocks of block.x threads, at most 1024).
void launch(const Thunk &kernel, Index3 grid, unsigned blockThreads, size_t dynamicSmemBytes,
            void **args);

struct KernelEntry {
  Thunk thunk;
  std::vector<size_t> paramSizes; // sizeof each parameter, to check callers
};
/// Kernels registered by MM_TEST_KERNEL in an emulated translation unit.
const KernelEntry *findKernel(const std::string &name);
void registerKernel(const std::string &name, KernelEntry entry);
/// While set, registerKernel files kernels here instead of the global table:
/// the fake driver collects a loaded module's kernels (two modules may define
/// the same name, as two compiled models do on a GPU).
void setRegistrationSink(std::map<std::string, KernelEntry> *sink);

template <typename... P> struct Registrar {
  explicit Registrar(const char *name, void (*fn)(P...)) {
    registerKernel(
        name, KernelEntry{[fn](void **args) { call(fn, args, std::index_sequence_for<P...>{}); },
                          {sizeof(P)...}});
  }

private:
  template <size_t... I>
  static void call(void (*fn)(P...), void **args, std::index_sequence<I...>) {
    fn(*static_cast<P *>(args[I])...);
  }
};

//===--- the device API, for CudaEmulation.h ------------------------------===//
const Index3 &threadIndex();
const Index3 &blockIndex();
const Index3 &blockDimension();
const Index3 &gridDimension();
void syncThreads();
/// Waits for every live lane of the calling thread's warp.
void syncWarp();
/// 32 slots of 16 bytes for the calling thread's warp (warp-level exchanges).
unsigned char *warpSlots();
unsigned laneId();
unsigned char *dynamicSmem();
unsigned dynamicSmemSize();

} // namespace mm_emu

#endif // MM_TEST_CUDA_EMU_EMULATOR_H
