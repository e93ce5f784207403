//===- CudaBackend.cpp ----------------------------------------------------===//
#include "runtime/compiled/CudaBackend.h"
#include "runtime/Error.h"
#include "runtime/compiled/ExecutableLayout.h"
#include "runtime/compiled/WeightQuantization.h"
#include "runtime/cuda/Cublas.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/cuda/DevicePool.h"
#include "runtime/cuda/Graph.h"
#include "runtime/cuda/LaunchShapes.h"
#include "runtime/cuda/Module.h"
#include "runtime/cuda/Nvrtc.h"
#include "runtime/cuda/Stream.h"
#include "runtime/executable/CudaLaunchPlan.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

namespace mm {

namespace {

using cuda::CuDevicePtr;
using cuda::LaunchShape;

/// Kernel parameters: each value in its own 8-byte slot (pointers, int64 and
/// int all fit), and the pointer array cuLaunchKernel wants.
class Params {
public:
  // Every pointer aims at a (zero) slot: a wrapper declaring more parameters
  // than a damaged plan supplies reads zeros, not through a null pointer.
  Params() {
    for (size_t i = 0; i < slots_.size(); ++i)
      pointers_[i] = &slots_[i];
  }
  Params(const Params &) = delete;
  Params &ptr(CuDevicePtr p) { return put(static_cast<uint64_t>(p)); }
  Params &i64(int64_t v) { return put(static_cast<uint64_t>(v)); }
  Params &i32(int v) {
    uint64_t slot = 0;
    std::memcpy(&slot, &v, sizeof v);
    return put(slot);
  }
  void **pointers() { return pointers_.data(); }

private:
  Params &put(uint64_t v) {
    if (count_ == slots_.size())
      throw makeError("a CUDA kernel with more than ", slots_.size(), " parameters");
    slots_[count_] = v;
    pointers_[count_] = &slots_[count_];
    ++count_;
    return *this;
  }
  std::array<uint64_t, 48> slots_{};
  std::array<void *, 48> pointers_{};
  size_t count_ = 0;
};

/// Device scratch that grows to the largest request (stream order makes
/// reuse across launches safe).
struct Scratch {
  cuda::DeviceBuffer buffer;
  CuDevicePtr get(cuda::DevicePool &pool, size_t bytes) {
    if (buffer.size() < bytes || buffer.address() == 0)
      buffer = pool.allocate(std::max<size_t>(bytes, 256));
    return buffer.address();
  }
};

/// A launch-shape dimension: x may stride (clamped to [1, 2^31 - 1]); y and
/// z carry heads and batch, which kernels do not stride over.
unsigned gridAxis(int64_t n, int axis, const exe::Kernel &k, const std::string &entry) {
  if (axis == 0)
    return static_cast<unsigned>(std::clamp<int64_t>(n, 1, 0x7fffffff));
  if (n > 65535)
    throw LaunchSizeError(k.location() + ": " + k.name() + "_" + entry + ": grid dimension " +
                          std::to_string(n) + " exceeds 65535 (heads or batch too large)");
  return static_cast<unsigned>(std::max<int64_t>(n, 1));
}

} // namespace

// Members are destroyed in reverse order: every device buffer below goes back
// to the pool before the pool itself, and the module and cuBLAS before the
// stream they run on.
struct CudaBackend::Impl {
  exe::Executable exe;
  cuda::CudaDriver *driver = nullptr;
  std::unique_ptr<cuda::DevicePool> pool;
  std::unique_ptr<cuda::Stream> stream;
  std::unique_ptr<cuda::Cublas> cublas;
  std::unique_ptr<cuda::Module> module;
  bool compiledAtLoad = false;
  // Per kernel: its plan's device constants (lightning decay slopes).
  std::vector<std::vector<cuda::DeviceBuffer>> constants;
  std::vector<cuda::DeviceBuffer> weights;
  cuda::DeviceBuffer arena;
  std::vector<cuda::DeviceBuffer> state;
  std::vector<cuda::DeviceBuffer> inputs; // per input buffer, for the engine's steps
  // During `call`: the arguments on the device, in argument order.
  std::vector<cuda::DeviceBuffer> callArguments;
  cuda::DeviceBuffer errors; // one int per launch
  std::vector<Scratch> scratch; // Executable.cuda_scratch_slots, shared by kernels
  std::unique_ptr<ExecutableLayout> layout;
  // Decode steps replay one CUDA graph per (batch, capacity): captured at the
  // first decode step after a reset that changed either (state buffers, and
  // so pointers, are kept otherwise). MM_CUDA_GRAPHS=0 launches one by one.
  bool graphs = false;
  std::unique_ptr<cuda::Graph> decodeGraph;
  std::vector<CuDevicePtr> graphScratch; // the scratch a graph was captured with
  std::vector<CuDevicePtr> scratchAddresses() const {
    std::vector<CuDevicePtr> a;
    for (const Scratch &s : scratch)
      a.push_back(s.buffer.address());
    return a;
  }
  int64_t batch = 0, capacity = 0;

  // MM_CUDA_PROFILE=1: GPU time per kernel kind, split by prefill (T > 1)
  // and decode, printed to stderr when the backend is destroyed.
  bool profile = std::getenv("MM_CUDA_PROFILE") != nullptr;
  std::vector<std::unique_ptr<cuda::Event>> events; // two per launch
  struct KindTime {
    double ms = 0;
    int64_t launches = 0;
  };
  std::map<std::string, KindTime> profiled;
  int64_t profiledSteps[2] = {0, 0};

  // Per step.
  std::vector<int64_t> symbols;
  std::vector<CuDevicePtr> operands;
  size_t launchIndex = 0;

  int64_t numel(uint32_t bufferId) const { return layout->numel(bufferId, symbols); }

  void loadModule();
  /// Queues every launch of the schedule for the current step.
  void runSchedule();
  /// decodeGraph for the current state, or graphs off (with a note) when
  /// the driver cannot capture the schedule.
  void captureDecodeGraph();
  void bindWeights(const WeightBinder &binder, const Int8WeightViews *int8Weights);
  /// Decode-sized dense GEMMs take mmc's GEMV (one weight read at full
  /// bandwidth) rather than cuBLAS; MM_CUDA_DENSE_GEMV=0 keeps cuBLAS for f32
  /// (the plans read it as the DENSE_GEMV option).
  bool denseGemv = true;
  CuDevicePtr pointerOf(uint32_t id);
  /// Runs one launch of the schedule: its kernel's launch steps, in order.
  void run(const exe::Launch &launch);
  void launch(const exe::Kernel &k, const std::string &entry, const LaunchShape &shape,
              Params &params);
  CuDevicePtr errorFlag() const {
    return errors.address() + static_cast<CuDevicePtr>(launchIndex * sizeof(int));
  }
  /// Throws naming the first launch whose kernel reported bad input.
  void throwKernelErrors(const std::vector<int> &flags) const {
    for (size_t i = 0; i < flags.size(); ++i)
      if (flags[i] != 0) {
        const exe::Kernel &k = exe.kernels(exe.schedule(i).kernel());
        throw makeError(k.location(), ": in the '", k.kind(),
                        "' kernel: ", cuda::kernelErrorMessage(flags[i]));
      }
  }
};

void CudaBackend::Impl::loadModule() {
  if (exe.target() != exe::TARGET_CUDA)
    throw makeError("this executable targets the CPU, not CUDA");
  std::string whyNot;
  driver = cuda::CudaDriver::get(&whyNot);
  if (!driver)
    throw makeError("this executable targets CUDA, but there is no usable GPU: ", whyNot);
  driver->makeCurrent();
  pool = std::make_unique<cuda::DevicePool>(*driver);
  stream = std::make_unique<cuda::Stream>(*driver);
  cublas = cuda::Cublas::create(*driver, &whyNot);
  if (!cublas)
    throw makeError("cuBLAS is not usable: ", whyNot);
  cublas->setStream(stream->handle());

  std::vector<char> image(exe.code_object().begin(), exe.code_object().end());
  if (image.empty() || exe.cuda_arch() != driver->arch()) {
    // Compiled for another GPU (or --cuda-arch jit): compile for this one.
    auto nvrtc = cuda::Nvrtc::load(&whyNot);
    if (!nvrtc)
      throw makeError("the executable was compiled for ",
                      exe.cuda_arch().empty() ? "no GPU (jit)" : exe.cuda_arch(),
                      " and this GPU is ", driver->arch(),
                      "; compiling for it needs NVRTC: ", whyNot);
    image = nvrtc->compile(exe.cuda_source(), "mm-model.cu", driver->arch()).image;
    compiledAtLoad = true;
  }
  module = std::make_unique<cuda::Module>(*driver, image);
  const char *graphEnv = std::getenv("MM_CUDA_GRAPHS");
  const char *gemvEnv = std::getenv("MM_CUDA_DENSE_GEMV");
  denseGemv = !(gemvEnv && std::string(gemvEnv) == "0");
  graphs = cuda::Graph::supported(*driver) && !profile &&
           !std::getenv("MM_CUDA_SYNC_EACH_KERNEL") && !(graphEnv && std::string(graphEnv) == "0");
  scratch.resize(exe.cuda_scratch_slots());
  for (const exe::Kernel &k : exe.kernels()) {
    std::vector<cuda::DeviceBuffer> uploaded;
    for (const exe::DeviceConstant &c : k.cuda_launch().constants()) {
      cuda::DeviceBuffer b = pool->allocate(std::max<size_t>(c.values_size() * sizeof(float), 256));
      b.upload(c.values().data(), c.values_size() * sizeof(float));
      uploaded.push_back(std::move(b));
    }
    constants.push_back(std::move(uploaded));
  }
}

void CudaBackend::Impl::bindWeights(const WeightBinder &binder,
                                    const Int8WeightViews *int8Weights) {
  std::vector<uint8_t> stored; // bf16 / int8 bytes on their way to the device
  // Bound again (rebindWeights): into the same buffers, of the same sizes.
  const bool rebinding = !weights.empty();
  size_t next = 0;
  auto upload = [&](const void *bytes, size_t n) {
    if (rebinding) {
      weights[next++].upload(bytes, n);
      return;
    }
    cuda::DeviceBuffer b = pool->allocate(std::max<size_t>(n, 256));
    b.upload(bytes, n);
    weights.push_back(std::move(b));
  };
  for (const exe::Weight &w : exe.weights()) {
    Shape want(w.shape().begin(), w.shape().end());
    if (w.has_shard())
      throw makeError("weight '", w.name(),
                      "' is split (--parallel): the CUDA runtime runs one GPU");
    const bool bf16 = w.dtype() == exe::DTYPE_BF16, int8 = w.dtype() == exe::DTYPE_I8_ROWS;
    if (!bf16 && !int8 && w.dtype() != exe::DTYPE_F32 && w.dtype() != exe::DTYPE_I64)
      throw makeError("weight '", w.name(), "': unknown storage dtype ", int(w.dtype()));
    if (int8 && int8Weights && int8Weights->count(w.name())) {
      // Quantized at compile time (the file beside the binary; shapes checked when opened).
      const Int8WeightView &v = int8Weights->at(w.name());
      Int8Rows layout(want);
      stored.assign(layout.bytes(), 0);
      std::memcpy(stored.data(), v.q, size_t(layout.rows * layout.K));
      std::memcpy(stored.data() + layout.scaleOffset(), v.scales, size_t(layout.rows) * 4);
    } else {
      Tensor t = binder(w.name(), want, w.dtype() == exe::DTYPE_I64 ? DType::I64 : DType::F32);
      if (t.shape() != want)
        throw makeError("weight '", w.name(), "' has shape ", formatShape(t.shape()),
                        " but the executable was compiled for ", formatShape(want));
      if (int8) {
        stored.assign(Int8Rows(want).bytes(), 0);
        quantizeInt8Rows(w.name(), t, stored.data());
      } else if (bf16) {
        stored.resize(size_t(t.numel()) * 2);
        convertToBF16(t, reinterpret_cast<uint16_t *>(stored.data()));
      } else { // f32 / int64 go up as bound, without a host copy
        upload(t.raw(), t.nbytes());
        continue;
      }
    }
    upload(stored.data(), stored.size());
  }
}

CuDevicePtr CudaBackend::Impl::pointerOf(uint32_t id) {
  const exe::Buffer &b = exe.buffers(id);
  if (b.has_view_of()) // a result that reshapes another buffer
    return pointerOf(b.view_of());
  if (!callArguments.empty() &&
      (b.storage() == exe::Buffer::STORAGE_INPUT || b.storage() == exe::Buffer::STORAGE_STATE))
    if (int i = layout->argumentIndex(id); i >= 0 && size_t(i) < callArguments.size())
      return callArguments[i].address();
  switch (b.storage()) {
  case exe::Buffer::STORAGE_ARENA:
    return arena.address() + b.offset();
  case exe::Buffer::STORAGE_WEIGHT:
    return weights[b.offset()].address();
  case exe::Buffer::STORAGE_STATE:
    if (int i = layout->stateIndex(id); i >= 0 && size_t(i) < state.size())
      return state[i].address();
    break;
  case exe::Buffer::STORAGE_INPUT:
    if (int i = layout->inputIndex(id); i >= 0 && size_t(i) < inputs.size())
      return inputs[i].address();
    break;
  default:
    break;
  }
  throw makeError("buffer '", b.name(), "' has no storage");
}

void CudaBackend::Impl::launch(const exe::Kernel &k, const std::string &step,
                               const LaunchShape &shape, Params &params) {
  cuda::LaunchDims dims;
  for (int i = 0; i < 3; ++i)
    dims.grid[i] = shape.grid[i];
  dims.block = shape.block;
  dims.sharedBytes = shape.sharedBytes;
  module->kernel(k.name() + "_" + step).launch(dims, params.pointers(), stream->handle());
  static const bool syncEach = std::getenv("MM_CUDA_SYNC_EACH_KERNEL") != nullptr;
  if (syncEach) {
    try {
      stream->synchronize();
    } catch (const Error &e) {
      throw makeError(k.location(), ": ", k.name(), "_", step, ": ", e.what());
    }
  }
}

void CudaBackend::Impl::run(const exe::Launch &l) {
  const exe::Kernel &k = exe.kernels(l.kernel());
  const exe::CudaLaunchPlan &plan = k.cuda_launch();
  auto nonNegative = [&](int64_t bytes) {
    if (bytes < 0)
      throw LaunchSizeError(k.location() + ": a launch plan asks for " + std::to_string(bytes) +
                            " bytes");
    return bytes;
  };
  operands.clear();
  for (uint32_t id : l.operands())
    operands.push_back(pointerOf(id));
  LaunchValues v;
  v.symbol = [&](const std::string &name) {
    int i = layout->symbolIndex(name);
    if (i < 0 || size_t(i) >= symbols.size())
      throw makeError(k.location(), ": the launch plan reads unknown shape symbol '", name, "'");
    return symbols[i];
  };
  v.numel = [&](uint32_t operand) { return numel(l.operands(operand)); };
  v.multiprocessors = driver->multiprocessors();
  v.denseGemv = denseGemv;
  v.location = &k.location();
  for (const exe::IntExpr &e : plan.values())
    v.values.push_back(evaluate(e, v));
  // Scratch is sized when a step that runs first uses it (a decode step does
  // not allocate the prefill's workspace).
  std::vector<CuDevicePtr> scratchOf(plan.scratch_size(), 0);
  auto scratchPointer = [&](uint32_t i) {
    if (!scratchOf[i]) {
      const exe::ScratchBuffer &s = plan.scratch(i);
      scratchOf[i] = scratch[s.slot()].get(*pool, size_t(nonNegative(evaluate(s.bytes(), v))));
    }
    return scratchOf[i];
  };
  auto pointer = [&](const exe::DevicePointer &p) {
    CuDevicePtr base = p.has_operand()   ? operands[p.operand()]
                       : p.has_scratch() ? scratchPointer(p.scratch())
                                         : constants[l.kernel()][p.constant()].address();
    return base + static_cast<CuDevicePtr>(p.has_byte_offset() ? evaluate(p.byte_offset(), v) : 0);
  };
  for (const exe::LaunchStep &step : plan.steps()) {
    if (step.has_guard() && evaluate(step.guard(), v) == 0)
      continue;
    if (step.has_kernel()) {
      const exe::KernelCall &call = step.kernel();
      Params p;
      for (CuDevicePtr ptr : operands)
        p.ptr(ptr);
      for (const exe::KernelArgument &a : call.args())
        if (a.has_i64())
          p.i64(evaluate(a.i64(), v));
        else if (a.has_i32())
          p.i32(static_cast<int>(evaluate(a.i32(), v)));
        else if (a.has_pointer())
          p.ptr(pointer(a.pointer()));
        else
          p.ptr(errorFlag());
      LaunchShape shape;
      for (int i = 0; i < 3; ++i)
        shape.grid[i] = gridAxis(evaluate(call.grid(i), v), i, k, call.entry());
      shape.block = call.block();
      int64_t shared = evaluate(call.shared_bytes(), v);
      if (shared < 0 || shared > 0x7fffffff)
        throw LaunchSizeError(k.location() + ": " + k.name() + "_" + call.entry() +
                              ": dynamic shared memory of " + std::to_string(shared) + " bytes");
      shape.sharedBytes = static_cast<unsigned>(shared);
      launch(k, call.entry(), shape, p);
    } else if (step.has_require()) {
      if (evaluate(step.require().condition(), v) == 0)
        throw LaunchSizeError(k.location() + ": " + step.require().message());
    } else if (step.has_gemm()) {
      const exe::GemmCall &g = step.gemm();
      cublas->gemmRowMajor(evaluate(g.m(), v), evaluate(g.n(), v), evaluate(g.k(), v),
                           pointer(g.x()), evaluate(g.ldx(), v), pointer(g.w()),
                           evaluate(g.ldw(), v), pointer(g.y()), evaluate(g.ldy(), v));
    } else {
      const exe::MemsetCall &m = step.memset();
      driver->check(driver->api().cuMemsetD8Async(
                        pointer(m.target()), static_cast<unsigned char>(m.byte()),
                        size_t(nonNegative(evaluate(m.bytes(), v))), stream->handle()),
                    "cuMemsetD8Async");
    }
  }
}

void CudaBackend::Impl::runSchedule() {
  if (profile && events.empty())
    for (int i = 0; i < 2 * exe.schedule_size(); ++i)
      events.push_back(std::make_unique<cuda::Event>(*driver));
  driver->check(driver->api().cuMemsetD8Async(errors.address(), 0,
                                              exe.schedule_size() * sizeof(int), stream->handle()),
                "cuMemsetD8Async");
  for (launchIndex = 0; launchIndex < size_t(exe.schedule_size()); ++launchIndex) {
    if (profile)
      events[2 * launchIndex]->record(stream->handle());
    run(exe.schedule(launchIndex));
    if (profile)
      events[2 * launchIndex + 1]->record(stream->handle());
  }
}

void CudaBackend::Impl::captureDecodeGraph() {
  std::string whyNot;
  try {
    std::vector<CuDevicePtr> before = scratchAddresses();
    decodeGraph = cuda::Graph::capture(
        *driver, stream->handle(), [&] { runSchedule(); }, &whyNot);
    graphScratch = scratchAddresses();
    if (decodeGraph && graphScratch != before) {
      // A scratch buffer grew during the capture: launches captured before
      // that point hold its old block. This step runs eagerly; the next
      // decode step captures again with the buffers at their new sizes.
      decodeGraph.reset();
      return;
    }
  } catch (const LaunchSizeError &) {
    decodeGraph.reset();
    throw; // the step's input, which eager launches would refuse too
  } catch (const std::exception &e) {
    decodeGraph.reset();
    whyNot = e.what();
  }
  if (!decodeGraph) {
    graphs = false;
    std::fprintf(stderr, "note: decode steps launch kernels one by one (no CUDA graph): %s\n",
                 whyNot.c_str());
  }
}

CudaBackend::CudaBackend(exe::Executable executable, const WeightBinder &loader,
                         const Int8WeightViews *int8Weights)
    : impl(new Impl) {
  impl->exe = std::move(executable);
  impl->layout = std::make_unique<ExecutableLayout>(impl->exe);
  if (impl->layout->takesImageFeatures())
    throw makeError("the cuda backend does not take images yet (use --backend reference or cpu)");
  // Executables compiled in process skip the file loader's validation.
  for (const exe::Launch &l : impl->exe.schedule())
    if (impl->exe.target() == exe::TARGET_CUDA)
      validateCudaLaunchPlan(impl->exe.kernels(l.kernel()), impl->exe, uint32_t(l.operands_size()));
  impl->loadModule();
  impl->bindWeights(loader, int8Weights);
  impl->arena = impl->pool->allocate(std::max<uint64_t>(impl->exe.arena_bytes(), 256));
  impl->errors = impl->pool->allocate(std::max<size_t>(impl->exe.schedule_size(), 1) * sizeof(int));
  if (!impl->layout->generates()) // run only whole: no engine steps to allocate for
    return;
  for (uint32_t id : impl->exe.input_buffers())
    impl->inputs.push_back(impl->pool->allocate(std::max<uint64_t>(
        impl->layout->bytes(impl->exe.buffers(id), impl->layout->maxima()), 256)));
  warmUp();
}

std::vector<Tensor> CudaBackend::call(std::vector<Tensor> args) {
  Impl &m = *impl;
  m.driver->makeCurrent();
  for (Tensor &a : args)
    if (a.dtype() == DType::F64)
      a = a.to(DType::F32);
  for (uint32_t id : m.exe.result_buffers())
    if (const exe::Buffer &b = m.exe.buffers(id);
        b.dtype() == exe::DTYPE_BF16 || b.dtype() == exe::DTYPE_I8_ROWS)
      throw makeError("result '", b.name(), "' is a ",
                      b.dtype() == exe::DTYPE_BF16 ? "bf16" : "int8",
                      " weight; compile with --weight-dtype f32");
  m.symbols = m.layout->bindSymbols(args); // checks every argument against its buffer
  std::vector<cuda::DeviceBuffer> uploaded;
  for (const Tensor &a : args) {
    cuda::DeviceBuffer b = m.pool->allocate(std::max<size_t>(a.nbytes(), 256));
    if (a.nbytes() > 0)
      b.upload(a.raw(), a.nbytes());
    uploaded.push_back(std::move(b));
  }
  m.callArguments = std::move(uploaded);
  struct Release { // the arguments go back to the pool whatever happens, once unused
    Impl &m;
    ~Release() {
      try {
        m.stream->synchronize();
      } catch (const Error &) { // the failure is already on its way up
      }
      m.callArguments.clear();
    }
  } release{m};
  m.runSchedule();
  std::vector<int> flags(m.exe.schedule_size());
  if (!flags.empty()) // a function of views only launches nothing
    m.errors.downloadAsync(flags.data(), flags.size() * sizeof(int), m.stream->handle());
  std::vector<Tensor> results;
  for (uint32_t id : m.exe.result_buffers()) {
    const exe::Buffer &b = m.exe.buffers(id);
    Tensor out = Tensor::empty(b.dtype() == exe::DTYPE_I64 ? DType::I64 : DType::F32,
                               m.layout->dims(b, m.symbols));
    if (out.nbytes() > 0)
      m.driver->check(m.driver->api().cuMemcpyDtoHAsync(out.raw(), m.pointerOf(id), out.nbytes(),
                                                        m.stream->handle()),
                      "cuMemcpyDtoHAsync (result)");
    results.push_back(std::move(out));
  }
  m.stream->synchronize();
  m.throwKernelErrors(flags);
  return results;
}

void CudaBackend::warmUp() {
  // Like vLLM's start-up run: prefills at the largest compiled batch and step
  // and at a few smaller sizes, then one decode step, so that lazy module
  // loading, cuBLAS's first calls for each kind of shape (it picks other
  // kernels for short prefills) and every scratch allocation happen here and
  // not in the first request's time.
  Impl &m = *impl;
  const int64_t maxBatch = m.layout->maxBatch(), capacity = m.layout->maxCapacity(1);
  const int64_t tokens = std::max<int64_t>(1, std::min(m.layout->maxTokens(), capacity - 1));
  auto run = [&](int64_t batch, int64_t t, int64_t start) {
    Tensor ids = Tensor::zeros(DType::I64, {batch, t});
    Tensor positions = Tensor::zeros(DType::I64, {batch, t});
    Tensor cachePositions = Tensor::zeros(DType::I64, {batch});
    Tensor lengths = Tensor::zeros(DType::I64, {batch});
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t i = 0; i < t; ++i)
        positions.data<int64_t>()[b * t + i] = start + i;
      cachePositions.data<int64_t>()[b] = start;
      lengths.data<int64_t>()[b] = t;
    }
    step(ids, positions, cachePositions, lengths);
  };
  for (int64_t t : {int64_t(16), int64_t(128)})
    if (t < tokens) {
      reset(1, std::min(capacity, t + 1));
      run(1, t, 0);
    }
  reset(maxBatch, std::min(capacity, tokens + 1));
  run(maxBatch, tokens, 0);
  if (m.capacity > tokens)
    run(maxBatch, 1, tokens);
  m.decodeGraph.reset();
  m.state.clear();
  m.batch = m.capacity = 0;
  m.profiled.clear();
  m.profiledSteps[0] = m.profiledSteps[1] = 0;
}

CudaBackend::~CudaBackend() {
  if (impl && impl->profile && !impl->profiled.empty()) {
    std::fprintf(
        stderr,
        "mm: CUDA time per kernel kind (MM_CUDA_PROFILE; %lld prefill, %lld decode steps)\n",
        static_cast<long long>(impl->profiledSteps[0]),
        static_cast<long long>(impl->profiledSteps[1]));
    std::fprintf(stderr, "mm: %-36s %9s %12s %12s\n", "kind", "launches", "total ms",
                 "ms per step");
    for (const auto &[kind, t] : impl->profiled) {
      int64_t steps = impl->profiledSteps[kind.rfind("decode", 0) == 0];
      std::fprintf(stderr, "mm: %-36s %9lld %12.3f %12.4f\n", kind.c_str(),
                   static_cast<long long>(t.launches), t.ms, steps ? t.ms / steps : 0.0);
    }
  }
  // Let queued work finish before its buffers are freed; a destructor must
  // not throw, and a failing stream has already reported through step().
  if (impl && impl->stream) {
    try {
      impl->stream->synchronize();
    } catch (const Error &) {
    }
  }
}

void CudaBackend::rebindWeights(const WeightBinder &weights) {
  impl->driver->makeCurrent();
  impl->stream->synchronize(); // no kernel still reads the old values
  impl->bindWeights(weights, nullptr);
}

bool CudaBackend::allLogits() const {
  return impl->layout->generates() && impl->exe.generation_step().all_logits();
}
std::string CudaBackend::deviceName() const { return impl->driver->deviceName(); }
bool CudaBackend::compiledAtLoad() const { return impl->compiledAtLoad; }

void CudaBackend::reset(int64_t batch, int64_t capacity) {
  Impl &m = *impl;
  m.layout->requireGenerationStep();
  m.stream->synchronize();
  if (batch == m.batch && capacity == m.capacity && !m.state.empty()) {
    // Same sizes: zero the state in place, so a captured decode graph stays valid.
    for (cuda::DeviceBuffer &buf : m.state)
      buf.fill(0);
    return;
  }
  std::vector<int64_t> values = m.layout->stateSymbols(batch, capacity);
  m.decodeGraph.reset();
  m.batch = batch;
  m.capacity = capacity;
  m.state.clear();
  for (uint32_t id : m.exe.state_buffers()) {
    uint64_t n = m.layout->bytes(m.exe.buffers(id), values);
    cuda::DeviceBuffer buf = m.pool->allocate(std::max<uint64_t>(n, 256));
    buf.fill(0);
    m.state.push_back(std::move(buf));
  }
}

Tensor CudaBackend::step(const Tensor &ids, const Tensor &positions, const Tensor &cachePositions,
                         const Tensor &lengths) {
  Impl &m = *impl;
  if (m.batch == 0)
    throw makeError("CudaBackend::step before reset");
  if (ids.rank() != 2 || ids.dim(0) != m.batch)
    throw makeError("step: ids must be [", m.batch, ", T]");
  m.driver->makeCurrent();
  m.symbols = m.layout->stepSymbols(m.batch, ids.dim(1), m.capacity);
  std::vector<const Tensor *> in =
      m.layout->stepInputs({&ids, &positions, &cachePositions, &lengths}, m.symbols);
  for (size_t i = 0; i < in.size(); ++i)
    m.inputs[i].uploadAsync(in[i]->raw(), in[i]->nbytes(), m.stream->handle());
  const bool decode = ids.dim(1) == 1;
  if (m.decodeGraph && m.graphScratch != m.scratchAddresses())
    m.decodeGraph.reset(); // a prefill grew a scratch buffer the graph points into
  if (decode && m.graphs && !m.decodeGraph)
    m.captureDecodeGraph();
  if (decode && m.decodeGraph)
    m.decodeGraph->launch(m.stream->handle());
  else
    m.runSchedule();

  const uint32_t logitsBuffer = m.exe.generation_step().logits_buffer();
  const exe::Buffer &out = m.exe.buffers(logitsBuffer);
  Tensor logits = Tensor::empty(DType::F32, Shape(m.layout->dims(out, m.symbols)));
  std::vector<int> flags(m.exe.schedule_size());
  m.driver->check(m.driver->api().cuMemcpyDtoHAsync(logits.raw(), m.pointerOf(logitsBuffer),
                                                    logits.nbytes(), m.stream->handle()),
                  "cuMemcpyDtoHAsync (logits)");
  if (!flags.empty()) // a function of views only launches nothing
    m.errors.downloadAsync(flags.data(), flags.size() * sizeof(int), m.stream->handle());
  m.stream->synchronize();
  if (m.profile) {
    ++m.profiledSteps[decode];
    for (size_t i = 0; i < flags.size(); ++i) {
      const exe::Kernel &k = m.exe.kernels(m.exe.schedule(i).kernel());
      Impl::KindTime &t = m.profiled[std::string(decode ? "decode " : "prefill ") + k.kind()];
      t.ms += m.events[2 * i + 1]->millisecondsSince(*m.events[2 * i]);
      ++t.launches;
    }
  }
  m.throwKernelErrors(flags);
  return logits;
}

} // namespace mm
