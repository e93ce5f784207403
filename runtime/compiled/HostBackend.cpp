//===- HostBackend.cpp ----------------------------------------------------===//
#include "runtime/compiled/HostBackend.h"
#include "runtime/Error.h"
#include "runtime/compiled/ExecutableLayout.h"
#include "runtime/compiled/WeightQuantization.h"
#include "runtime/dist/CollectiveOps.h"
#include "runtime/dist/WeightShard.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <sys/mman.h>
#include <unistd.h>

namespace mm {

namespace {
extern "C" {
struct mm_kernel_ctx {
  const int64_t *symbols;
  void *const *operands;
  char *error;
  int64_t error_size;
};
typedef int (*KernelFn)(const mm_kernel_ctx *);
}

/// 64-byte aligned bytes.
struct Bytes {
  std::shared_ptr<uint8_t> data;
  uint64_t size = 0;
  static Bytes allocate(uint64_t n) {
    Bytes b;
    b.size = n;
    void *p = std::aligned_alloc(64, std::max<uint64_t>(64, (n + 63) / 64 * 64));
    if (!p)
      throw makeError("out of memory allocating ", n, " bytes");
    std::memset(p, 0, n);
    b.data = std::shared_ptr<uint8_t>(static_cast<uint8_t *>(p), std::free);
    return b;
  }
};

} // namespace

struct HostBackend::Impl {
  exe::Executable exe;
  std::unique_ptr<ExecutableLayout> layout;
  void *library = nullptr;
  int memfd = -1;
  std::vector<KernelFn> kernels;
  /// Per kernel: the collective the runtime runs after it, and this rank's
  /// group (none for plain kernels).
  struct Collective {
    dist::CollectivePlan plan;
    std::vector<int> group;
  };
  std::vector<std::optional<Collective>> collectives;
  std::vector<Bytes> weights;
  Bytes arena;
  std::vector<Bytes> state;
  int64_t batch = 0, capacity = 0;
  uint64_t weightBytes = 0;
  Tensor imageFeatures; // VL-01: for the next step only

  /// MM_PROFILE_KERNELS=1: time per kernel (kind and location), printed to
  /// stderr, heaviest first, when the backend is destroyed.
  struct Profile {
    bool enabled = std::getenv("MM_PROFILE_KERNELS") != nullptr;
    std::map<std::string, std::pair<double, int64_t>> seconds;
    void add(const std::string &kernel, double s) {
      auto &entry = seconds[kernel];
      entry.first += s;
      ++entry.second;
    }
    ~Profile() {
      if (!enabled || seconds.empty())
        return;
      std::vector<std::pair<double, std::string>> rows;
      double total = 0;
      for (const auto &[name, entry] : seconds) {
        rows.push_back({entry.first, name});
        total += entry.first;
      }
      std::sort(rows.rbegin(), rows.rend());
      std::fprintf(stderr, "mm: kernel time, %.3f s in all\n", total);
      for (size_t i = 0; i < rows.size() && i < 30; ++i)
        std::fprintf(stderr, "mm: %8.3f s %5.1f%%  %s\n", rows[i].first,
                     100 * rows[i].first / total, rows[i].second.c_str());
    }
  } profile;

  void loadLibrary();
  void bindWeights(const WeightBinder &binder, const Int8WeightViews *int8Weights = nullptr);
  /// Where an argument (input or state) buffer lives in this run.
  using ArgumentMemory = std::function<void *(const exe::Buffer &)>;
  /// Runs every launch.
  void runSchedule(const std::vector<int64_t> &symbols, const ArgumentMemory &arguments);
  /// Memory of any buffer (views resolved): the arena, a weight, or an argument.
  void *storageOf(const exe::Buffer &buffer, const ArgumentMemory &arguments);
};

void HostBackend::Impl::loadLibrary() {
  if (exe.target() != exe::TARGET_CPU)
    throw makeError("this executable targets CUDA, not the CPU");
  // The shared object lives in memory: hand it to dlopen through a memfd.
  memfd = memfd_create("mm-kernels", MFD_CLOEXEC);
  if (memfd < 0)
    throw makeError("memfd_create failed: ", std::strerror(errno));
  const std::string &so = exe.code_object();
  if (write(memfd, so.data(), so.size()) != static_cast<ssize_t>(so.size()))
    throw makeError("writing the kernel library failed");
  std::string path = "/proc/self/fd/" + std::to_string(memfd);
  // Unloaded with the backend (no kernel runs then). Kept loaded, a later
  // backend whose memfd got the same number would be handed this library by
  // dlopen, which matches loaded objects by path: another program's kernels.
  library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!library)
    throw makeError("loading the generated kernels failed: ", dlerror());
  // The OpenMP runtime the kernels brought in must stay: its pooled worker
  // threads outlive any one library, and unloading it under them crashes at
  // exit. NOLOAD | NODELETE pins whichever runtime is loaded (each time: an
  // earlier library may have needed none).
  for (const char *runtime : {"libgomp.so.1", "libomp.so", "libomp.so.5", "libiomp5.so"})
    dlopen(runtime, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
  for (const exe::Kernel &k : exe.kernels()) {
    auto fn = reinterpret_cast<KernelFn>(dlsym(library, k.name().c_str()));
    if (!fn)
      throw makeError("the generated kernels have no '", k.name(), "'");
    kernels.push_back(fn);
    collectives.emplace_back();
    if (k.kind() == "all_reduce" || k.kind() == "all_gather" || k.kind() == "all_slice" ||
        k.kind() == "reduce_scatter") {
      Collective c;
      c.plan = dist::CollectivePlan::parse(k.launch_plan(), k.location());
      try {
        c.group = dist::groupOf(c.plan);
      } catch (const Error &e) {
        throw makeError(k.location(), ": ", e.what());
      }
      collectives.back() = std::move(c);
    }
  }
}

void HostBackend::Impl::bindWeights(const WeightBinder &binder,
                                    const Int8WeightViews *int8Weights) {
  bool rebinding = !weights.empty();
  for (int i = 0; i < exe.weights_size(); ++i) {
    const exe::Weight &w = exe.weights(i);
    Shape want(w.shape().begin(), w.shape().end());
    if (w.dtype() == exe::DTYPE_I8_ROWS && !w.has_shard() && int8Weights &&
        int8Weights->count(w.name())) {
      const Int8WeightView &v = int8Weights->at(w.name()); // shapes checked when opened
      Int8Rows layout(want);
      if (!rebinding) {
        weights.push_back(Bytes::allocate(layout.bytes()));
        weightBytes += weights.back().size;
      }
      std::memcpy(weights[i].data.get(), v.q, size_t(layout.rows * layout.K));
      std::memcpy(weights[i].data.get() + layout.scaleOffset(), v.scales, size_t(layout.rows) * 4);
      continue;
    }
    DType dtype = w.dtype() == exe::DTYPE_I64 ? DType::I64 : DType::F32;
    Tensor t;
    if (w.has_shard()) { // a split weight: this rank's part of the whole
      dist::WeightShard shard;
      shard.gridShape.assign(w.shard().grid_shape().begin(), w.shard().grid_shape().end());
      for (const auto &axes : w.shard().split_axes())
        shard.splitAxes.emplace_back(axes.axes().begin(), axes.axes().end());
      t = shard.bind(binder, w.name(), want, dtype, dist::world().rank());
    } else {
      t = binder(w.name(), want, dtype);
    }
    if (t.shape() != want)
      throw makeError("weight '", w.name(), "' has shape ", formatShape(t.shape()),
                      " but the executable was compiled for ", formatShape(want));
    bool bf16 = w.dtype() == exe::DTYPE_BF16, int8 = w.dtype() == exe::DTYPE_I8_ROWS;
    if (!rebinding) {
      weights.push_back(Bytes::allocate(bf16   ? t.numel() * 2
                                        : int8 ? Int8Rows(t.shape()).bytes()
                                               : t.nbytes()));
      weightBytes += weights.back().size;
    }
    Bytes &b = weights[i];
    if (int8) {
      quantizeInt8Rows(w.name(), t, b.data.get());
    } else if (bf16) {
      convertToBF16(t, reinterpret_cast<uint16_t *>(b.data.get()));
    } else {
      std::memcpy(b.data.get(), t.raw(), t.nbytes());
    }
  }
}

void HostBackend::Impl::runSchedule(const std::vector<int64_t> &symbols,
                                    const ArgumentMemory &arguments) {
  char error[1024] = {0};
  std::vector<void *> operands;
  // MM_TRACE_KERNELS=1 names each kernel on stderr before it runs (to find
  // the one that crashes).
  static const bool trace = std::getenv("MM_TRACE_KERNELS") != nullptr;
  for (const exe::Launch &l : exe.schedule()) {
    const exe::Kernel &k = exe.kernels(l.kernel());
    if (trace)
      std::fprintf(stderr, "mm: %s %s at %s\n", k.name().c_str(), k.kind().c_str(),
                   k.location().c_str());
    operands.clear();
    for (uint32_t id : l.operands())
      operands.push_back(storageOf(exe.buffers(id), arguments));
    mm_kernel_ctx ctx{symbols.data(), operands.data(), error, sizeof error};
    auto start = profile.enabled ? std::chrono::steady_clock::now()
                                 : std::chrono::steady_clock::time_point();
    if (kernels[l.kernel()](&ctx) != 0)
      throw makeError(k.location(), ": ", error);
    if (const auto &c = collectives[l.kernel()]) {
      // Operands: the input, then the result. The input buffer may be a
      // reshape's source (same elements, another shape): its shape as the
      // collective reads it comes from the result's.
      const exe::Buffer &in = exe.buffers(l.operands(0));
      const exe::Buffer &out = exe.buffers(l.operands(l.operands_size() - 1));
      Shape outShape = layout->dims(out, symbols);
      Shape inShape = dist::collectiveInputShape(c->plan, outShape, c->group.size());
      int64_t stored = 1, read = 1;
      for (int64_t d : layout->dims(in, symbols))
        stored *= d;
      for (int64_t d : inShape)
        read *= d;
      if (stored != read)
        throw makeError(k.location(), ": the collective reads ", formatShape(inShape), " from a "
                        "buffer of ", stored, " elements");
      dist::runCollective(c->plan, c->group, operands.front(), inShape, operands.back(), outShape,
                          out.dtype() == exe::DTYPE_I64 ? DType::I64 : DType::F32, k.location());
    }
    if (profile.enabled)
      profile.add(k.kind() + " " + k.location(),
                  std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
}

void *HostBackend::Impl::storageOf(const exe::Buffer &buffer, const ArgumentMemory &arguments) {
  const exe::Buffer &b = buffer.has_view_of() ? exe.buffers(buffer.view_of()) : buffer;
  void *p = nullptr;
  switch (b.storage()) {
  case exe::Buffer::STORAGE_ARENA:
    p = arena.data.get() + b.offset();
    break;
  case exe::Buffer::STORAGE_WEIGHT:
    p = weights[b.offset()].data.get();
    break;
  case exe::Buffer::STORAGE_INPUT:
  case exe::Buffer::STORAGE_STATE:
    p = arguments(b);
    break;
  default:
    break;
  }
  if (!p)
    throw makeError("buffer '", b.name(), "' has no storage");
  return p;
}

std::vector<Tensor> HostBackend::call(std::vector<Tensor> args) {
  Impl &m = *impl;
  for (Tensor &a : args)
    if (a.dtype() == DType::F64)
      a = a.to(DType::F32);
  std::vector<int64_t> symbols = m.layout->bindSymbols(args);
  // State is written in place: the call must own it.
  for (uint32_t id : m.exe.state_buffers())
    if (Tensor &arg = args[m.layout->argumentIndex(id)]; !arg.uniquelyOwned())
      arg = arg.clone();
  // Arguments live in the caller's tensors.
  auto arguments = [&](const exe::Buffer &b) -> void * {
    int i = m.layout->argumentIndex(b.id());
    return i >= 0 ? const_cast<void *>(args[i].raw()) : nullptr;
  };
  m.runSchedule(symbols, arguments);
  std::vector<Tensor> results;
  for (uint32_t id : m.exe.result_buffers()) {
    const exe::Buffer &b = m.exe.buffers(id);
    if (m.layout->stateIndex(id) >= 0) { // updated in place: the argument itself
      results.push_back(args[m.layout->argumentIndex(id)]);
      continue;
    }
    if (b.dtype() == exe::DTYPE_BF16 || b.dtype() == exe::DTYPE_I8_ROWS)
      throw makeError("result '", b.name(), "' is a ",
                      b.dtype() == exe::DTYPE_BF16 ? "bf16" : "int8",
                      " weight; compile with --weight-dtype f32");
    Tensor out = Tensor::empty(b.dtype() == exe::DTYPE_I64 ? DType::I64 : DType::F32,
                               m.layout->dims(b, symbols));
    std::memcpy(out.raw(), m.storageOf(b, arguments), out.nbytes());
    results.push_back(std::move(out));
  }
  return results;
}

HostBackend::HostBackend(exe::Executable executable, const WeightBinder &binder,
                         const Int8WeightViews *int8Weights)
    : impl(new Impl) {
  impl->exe = std::move(executable);
  impl->layout = std::make_unique<ExecutableLayout>(impl->exe);
  impl->loadLibrary();
  impl->bindWeights(binder, int8Weights);
  impl->arena = Bytes::allocate(impl->exe.arena_bytes());
}

HostBackend::~HostBackend() {
  if (impl->library)
    dlclose(impl->library);
  if (impl->memfd >= 0)
    close(impl->memfd);
}

bool HostBackend::allLogits() const {
  return impl->layout->generates() && impl->exe.generation_step().all_logits();
}
uint64_t HostBackend::arenaBytes() const { return impl->exe.arena_bytes(); }
uint64_t HostBackend::weightBytes() const { return impl->weightBytes; }

void HostBackend::rebindWeights(const WeightBinder &binder) { impl->bindWeights(binder); }

void HostBackend::setImageFeatures(Tensor features) {
  if (!impl->layout->takesImageFeatures())
    throw makeError("this executable was compiled for a text-only model: it takes no image features");
  if (features.rank() != 2)
    throw makeError("image features must be [tokens, hidden], got ", formatShape(features.shape()));
  impl->imageFeatures = features.to(DType::F32);
}

void HostBackend::reset(int64_t batch, int64_t capacity) {
  std::vector<int64_t> symbols = impl->layout->stateSymbols(batch, capacity);
  impl->batch = batch;
  impl->capacity = capacity;
  impl->state.clear();
  for (uint32_t id : impl->exe.state_buffers())
    impl->state.push_back(Bytes::allocate(impl->layout->bytes(impl->exe.buffers(id), symbols)));
}

Tensor HostBackend::step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
                         const Tensor &lengths) {
  Impl &m = *impl;
  if (m.batch == 0)
    throw makeError("HostBackend::step before reset");
  if (ids.rank() != 2 || ids.dim(0) != m.batch)
    throw makeError("step: ids must be [", m.batch, ", T]");
  // A step without image features (decode, text-only prompts) passes none.
  Tensor features = std::exchange(m.imageFeatures, Tensor());
  if (!features.numel())
    features = Tensor::zeros(DType::F32, {0, 1});
  std::vector<int64_t> symbols =
      m.layout->stepSymbols(m.batch, ids.dim(1), m.capacity, features.dim(0));
  std::vector<const Tensor *> inputs =
      m.layout->stepInputs({&ids, &positions, &cachePositions, &lengths, &features}, symbols);

  // The step inputs are the caller's; the state is the backend's, kept
  // between steps.
  auto arguments = [&](const exe::Buffer &b) -> void * {
    if (int i = m.layout->stateIndex(b.id()); i >= 0)
      return m.state[i].data.get();
    if (int i = m.layout->inputIndex(b.id()); i >= 0)
      return const_cast<void *>(inputs[i]->raw());
    return nullptr;
  };

  m.runSchedule(symbols, arguments);
  const exe::Buffer &out = m.exe.buffers(m.exe.generation_step().logits_buffer());
  Tensor logits = Tensor::empty(DType::F32, Shape(m.layout->dims(out, symbols)));
  std::memcpy(logits.raw(), m.storageOf(out, arguments), logits.nbytes());
  return logits;
}

} // namespace mm
