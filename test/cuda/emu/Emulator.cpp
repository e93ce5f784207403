//===- Emulator.cpp - cooperative fibers for CUDA thread blocks ------------===//
#include "test/cuda/emu/Emulator.h"

#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <numeric>
#include <random>

#if defined(__SANITIZE_ADDRESS__)
#define MM_EMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MM_EMU_ASAN 1
#endif
#endif
#ifdef MM_EMU_ASAN
extern "C" void __sanitizer_start_switch_fiber(void **fakeStackSave, const void *bottom,
                                               size_t size);
extern "C" void __sanitizer_finish_switch_fiber(void *fakeStackSave, const void **bottomOld,
                                                size_t *sizeOld);
extern "C" void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

namespace mm_emu {
namespace {

// Fiber stacks: kernel frames are a few KiB. Under ASan the swapcontext
// interceptor clears the shadow of the whole target stack on every switch, so
// stacks are kept small; the lowest page of each is a guard (an overflow
// faults instead of corrupting the neighbouring fiber's stack).
#ifndef MM_EMU_STACK_BYTES
#define MM_EMU_STACK_BYTES (128 * 1024)
#endif
constexpr size_t kStackBytes = MM_EMU_STACK_BYTES;
constexpr size_t kGuardBytes = 4096;
constexpr size_t kStackTopBytes = 16 * 1024;
constexpr unsigned kMaxThreads = 1024;

enum class State { Ready, BlockBarrier, WarpBarrier, Done };

struct Fiber {
  ucontext_t context;
  Index3 thread;
  State state = State::Ready;
  void *fakeStack = nullptr;
};

struct Machine {
  // Launch-wide.
  const Thunk *kernel = nullptr;
  void **args = nullptr;
  Index3 grid, block, blockIdx;
  std::vector<unsigned char> smem;
  // Block-wide.
  std::vector<Fiber> fibers;
  std::vector<unsigned char> warpSlots;
  Fiber *current = nullptr;
  ucontext_t scheduler;
  const void *schedulerStackBottom = nullptr;
  size_t schedulerStackSize = 0;
  unsigned char *stacks = nullptr; // kMaxThreads stacks, mapped once
  std::mt19937 schedule{20251126}; // fixed seed: runs are reproducible
  std::vector<unsigned> order;
};

Machine &machine() {
  static Machine m;
  return m;
}

std::map<std::string, KernelEntry> &registry() {
  static std::map<std::string, KernelEntry> r;
  return r;
}

[[noreturn]] void fail(const char *what) {
  std::fprintf(stderr, "CUDA emulator: %s (block %u,%u,%u)\n", what, machine().blockIdx.x,
               machine().blockIdx.y, machine().blockIdx.z);
  std::abort();
}

unsigned char *stackOf(size_t fiber) { return machine().stacks + fiber * kStackBytes; }

/// Back to the scheduler; returns when the scheduler resumes this fiber.
void yieldToScheduler(bool exiting) {
  Machine &m = machine();
  Fiber *self = m.current;
#ifdef MM_EMU_ASAN
  __sanitizer_start_switch_fiber(exiting ? nullptr : &self->fakeStack, m.schedulerStackBottom,
                                 m.schedulerStackSize);
#endif
  if (exiting) {
    setcontext(&m.scheduler);
    fail("setcontext returned");
  }
  swapcontext(&self->context, &m.scheduler);
#ifdef MM_EMU_ASAN
  __sanitizer_finish_switch_fiber(self->fakeStack, nullptr, nullptr);
#endif
}

void fiberMain() {
  Machine &m = machine();
#ifdef MM_EMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &m.schedulerStackBottom, &m.schedulerStackSize);
#endif
  (*m.kernel)(m.args);
  m.current->state = State::Done;
  yieldToScheduler(true);
}

void resume(Fiber &f, size_t index) {
  Machine &m = machine();
  m.current = &f;
#ifdef MM_EMU_ASAN
  void *save = nullptr;
  __sanitizer_start_switch_fiber(&save, stackOf(index) + kGuardBytes, kStackBytes - kGuardBytes);
#endif
  swapcontext(&m.scheduler, &f.context);
#ifdef MM_EMU_ASAN
  __sanitizer_finish_switch_fiber(save, nullptr, nullptr);
#endif
  m.current = nullptr;
}

void runBlock() {
  Machine &m = machine();
  unsigned n = m.block.x;
  m.fibers.assign(n, Fiber{});
  std::fill(m.warpSlots.begin(), m.warpSlots.end(), 0);
  std::fill(m.smem.begin(), m.smem.end(), 0xff);
  for (unsigned t = 0; t < n; ++t) {
    Fiber &f = m.fibers[t];
    f.thread = Index3{t, 0, 0};
#ifdef MM_EMU_ASAN
    // A finished fiber leaves only its entry frames (never unwound: it exits
    // with setcontext) poisoned, at the top of its stack; kernel frames
    // unpoison themselves on return. Unpoisoning just that part keeps ASan
    // from releasing and re-faulting the shadow of every stack per block.
    __asan_unpoison_memory_region(stackOf(t) + kStackBytes - kStackTopBytes, kStackTopBytes);
#endif
    getcontext(&f.context);
    f.context.uc_stack.ss_sp = stackOf(t) + kGuardBytes;
    f.context.uc_stack.ss_size = kStackBytes - kGuardBytes;
    f.context.uc_link = nullptr;
    makecontext(&f.context, fiberMain, 0);
  }
  m.order.resize(n);
  std::iota(m.order.begin(), m.order.end(), 0u);
  for (;;) {
    // Run every ready fiber to its next barrier, in a new random order each
    // round, so a missing barrier lets readers overtake writers (or the other
    // way round) whichever way the race goes.
    std::shuffle(m.order.begin(), m.order.end(), m.schedule);
    for (unsigned t : m.order)
      if (m.fibers[t].state == State::Ready)
        resume(m.fibers[t], t);
    bool anyLive = false, released = false;
    for (unsigned w = 0; w * 32 < n; ++w) {
      bool allAtWarp = true, anyAtWarp = false;
      for (unsigned t = w * 32; t < n && t < w * 32 + 32; ++t) {
        State s = m.fibers[t].state;
        anyAtWarp |= s == State::WarpBarrier;
        allAtWarp &= s == State::WarpBarrier || s == State::Done;
      }
      if (anyAtWarp && allAtWarp) {
        for (unsigned t = w * 32; t < n && t < w * 32 + 32; ++t)
          if (m.fibers[t].state == State::WarpBarrier)
            m.fibers[t].state = State::Ready;
        released = true;
      }
    }
    if (released)
      continue;
    bool allAtBlock = true;
    for (const Fiber &f : m.fibers) {
      anyLive |= f.state != State::Done;
      allAtBlock &= f.state == State::BlockBarrier || f.state == State::Done;
    }
    if (!anyLive)
      return;
    if (!allAtBlock)
      fail("deadlock: threads wait at different barriers (divergent __syncthreads or "
           "warp operation)");
    for (Fiber &f : m.fibers)
      if (f.state == State::BlockBarrier)
        f.state = State::Ready;
  }
}

} // namespace

void launch(const Thunk &kernel, Index3 grid, unsigned blockThreads, size_t dynamicSmemBytes,
            void **args) {
  Machine &m = machine();
  if (blockThreads == 0 || blockThreads > kMaxThreads)
    fail("block size outside 1..1024");
  if (!m.stacks) {
    void *p = mmap(nullptr, kMaxThreads * kStackBytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
      fail("cannot map fiber stacks");
    m.stacks = static_cast<unsigned char *>(p);
    for (unsigned t = 0; t < kMaxThreads; ++t)
      if (mprotect(stackOf(t), kGuardBytes, PROT_NONE) != 0)
        fail("cannot protect a fiber stack's guard page");
    m.warpSlots.assign(kMaxThreads / 32 * 32 * 16, 0);
  }
  m.kernel = &kernel;
  m.args = args;
  m.grid = grid;
  m.block = Index3{blockThreads, 1, 1};
  m.smem.assign(dynamicSmemBytes, 0xff);
  for (unsigned z = 0; z < grid.z; ++z)
    for (unsigned y = 0; y < grid.y; ++y)
      for (unsigned x = 0; x < grid.x; ++x) {
        m.blockIdx = Index3{x, y, z};
        runBlock();
      }
  m.kernel = nullptr;
}

const KernelEntry *findKernel(const std::string &name) {
  auto it = registry().find(name);
  return it == registry().end() ? nullptr : &it->second;
}

void registerKernel(const std::string &name, KernelEntry entry) {
  registry()[name] = std::move(entry);
}

const Index3 &threadIndex() { return machine().current->thread; }
const Index3 &blockIndex() { return machine().blockIdx; }
const Index3 &blockDimension() { return machine().block; }
const Index3 &gridDimension() { return machine().grid; }

void syncThreads() {
  machine().current->state = State::BlockBarrier;
  yieldToScheduler(false);
}

void syncWarp() {
  machine().current->state = State::WarpBarrier;
  yieldToScheduler(false);
}

unsigned laneId() { return machine().current->thread.x % 32; }

unsigned char *warpSlots() {
  return machine().warpSlots.data() + (machine().current->thread.x / 32) * 32 * 16;
}

unsigned char *dynamicSmem() { return machine().smem.empty() ? nullptr : machine().smem.data(); }
unsigned dynamicSmemSize() { return static_cast<unsigned>(machine().smem.size()); }

} // namespace mm_emu
