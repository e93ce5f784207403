//===- Emulator.cpp - cooperative fibers for CUDA thread blocks ------------===//
#include "test/cuda/emu/Emulator.h"

#include <sys/mman.h>
#include <ucontext.h>

#include <algorithm>
#include <cstdint>
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

// Fiber switching. glibc's swapcontext saves and restores the signal mask, a
// system call each way; with a switch at every barrier and warp operation
// that was most of the emulator's time. On x86-64 a switch is the callee-saved
// registers, the SSE and x87 control words and the stack pointer (the
// System V ABI's whole contract across a call); elsewhere ucontext remains.
#if defined(__x86_64__)
extern "C" void mm_emu_switch(void **saveStackPointer, void *loadStackPointer);
asm(R"(
  .text
  .globl mm_emu_switch
  .hidden mm_emu_switch
  .type mm_emu_switch, @function
mm_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $8, %rsp
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size mm_emu_switch, .-mm_emu_switch
  .section .note.GNU-stack,"",@progbits
  .text
)");

struct Context {
  void *stackPointer = nullptr;
};
/// A context that starts `entry` (which must never return) on the stack.
void makeContext(Context &c, unsigned char *stack, size_t bytes, void (*entry)()) {
  auto top = reinterpret_cast<uintptr_t>(stack + bytes) & ~uintptr_t(15);
  auto *slot = reinterpret_cast<uint64_t *>(top);
  *--slot = 0;                                 // entry's return address: none
  *--slot = reinterpret_cast<uint64_t>(entry); // mm_emu_switch returns here
  for (int r = 0; r < 6; ++r)                  // rbp rbx r12 r13 r14 r15
    *--slot = 0;
  uint32_t mxcsr;
  uint16_t fpcw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpcw));
  --slot;
  std::memcpy(slot, &mxcsr, 4);
  std::memcpy(reinterpret_cast<char *>(slot) + 4, &fpcw, 2);
  c.stackPointer = slot;
}
void switchContext(Context &from, Context &to) {
  mm_emu_switch(&from.stackPointer, to.stackPointer);
}
#else
struct Context {
  ucontext_t context;
};
void makeContext(Context &c, unsigned char *stack, size_t bytes, void (*entry)()) {
  getcontext(&c.context);
  c.context.uc_stack.ss_sp = stack;
  c.context.uc_stack.ss_size = bytes;
  c.context.uc_link = nullptr;
  makecontext(&c.context, entry, 0);
}
void switchContext(Context &from, Context &to) { swapcontext(&from.context, &to.context); }
#endif

// Fiber stacks: kernel frames are a few KiB. Under ASan, ucontext's swapcontext
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
  Context context;
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
  Context scheduler;
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
  switchContext(self->context, m.scheduler);
  if (exiting)
    fail("a finished fiber was resumed");
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
  switchContext(m.scheduler, f.context);
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
    // by switching away for good) poisoned, at the top of its stack; kernel frames
    // unpoison themselves on return. Unpoisoning just that part keeps ASan
    // from releasing and re-faulting the shadow of every stack per block.
    __asan_unpoison_memory_region(stackOf(t) + kStackBytes - kStackTopBytes, kStackTopBytes);
#endif
    makeContext(f.context, stackOf(t) + kGuardBytes, kStackBytes - kGuardBytes, fiberMain);
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

namespace {
std::map<std::string, KernelEntry> *registrationSink = nullptr;
}

void registerKernel(const std::string &name, KernelEntry entry) {
  (registrationSink ? *registrationSink : registry())[name] = std::move(entry);
}

void setRegistrationSink(std::map<std::string, KernelEntry> *sink) { registrationSink = sink; }

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
