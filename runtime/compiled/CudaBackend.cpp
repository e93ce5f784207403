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

#include <nlohmann/json.hpp>

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

/// Bytes per stored weight of a matrix kernel's plan ("weight_dtype").
int storedWeightBytes(const nlohmann::json &plan) {
  std::string dtype = plan.value("weight_dtype", "f32");
  return dtype == "int8" ? 1 : dtype == "bf16" ? 2 : 4;
}

int64_t planInt(const nlohmann::json &plan, const char *key, const exe::Kernel &k) {
  auto it = plan.find(key);
  if (it == plan.end() || !it->is_number_integer())
    throw makeError(k.location(), ": the launch plan of this '", k.kind(), "' kernel has no '", key,
                    "'");
  return it->get<int64_t>();
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
  std::vector<nlohmann::json> plans;
  std::vector<cuda::DeviceBuffer> slopes; // per kernel, lightning only
  std::vector<cuda::DeviceBuffer> weights;
  cuda::DeviceBuffer arena;
  std::vector<cuda::DeviceBuffer> state;
  std::array<cuda::DeviceBuffer, kMiniMaxStepInputs> inputs;
  cuda::DeviceBuffer errors; // one int per launch
  Scratch qRot, kRot, partial, lightning, rowOfSlot, wideWeights;
  std::unique_ptr<ExecutableLayout> layout;
  // Decode steps replay one CUDA graph per (batch, capacity): captured at the
  // first decode step after a reset that changed either (state buffers, and
  // so pointers, are kept otherwise). MM_CUDA_GRAPHS=0 launches one by one.
  bool graphs = false;
  std::unique_ptr<cuda::Graph> decodeGraph;
  std::vector<CuDevicePtr> graphScratch; // the scratch a graph was captured with
  std::vector<CuDevicePtr> scratchAddresses() const {
    return {qRot.buffer.address(),      kRot.buffer.address(),      partial.buffer.address(),
            lightning.buffer.address(), rowOfSlot.buffer.address(), wideWeights.buffer.address()};
  }
  int batchSymbol = -1, tokenSymbol = -1; // indices in `symbols`
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
  /// bandwidth) rather than cuBLAS; MM_CUDA_DENSE_GEMV=0 keeps cuBLAS for f32.
  bool denseGemv = true;
  /// y = x W^T for a prefill-sized gemm whose weight is stored bf16 or int8:
  /// cuBLAS on float32 copies of chunks of its rows.
  void widenedGemm(const exe::Kernel &k, const nlohmann::json &plan, CuDevicePtr x, int64_t m,
                   int64_t N, int64_t K, CuDevicePtr y);
  CuDevicePtr pointerOf(uint32_t id);
  void run(const exe::Launch &launch);
  void launch(const exe::Kernel &k, const char *step, const LaunchShape &shape, Params &params);
  /// Params starting with every operand pointer of the current launch.
  Params operandParams() const {
    Params p;
    for (CuDevicePtr ptr : operands)
      p.ptr(ptr);
    return p;
  }
  CuDevicePtr errorFlag() const {
    return errors.address() + static_cast<CuDevicePtr>(launchIndex * sizeof(int));
  }
  void epilogue(const exe::Kernel &k, const nlohmann::json &plan, int64_t count) {
    if (!plan.value("epilogue", false) || count == 0)
      return;
    Params p = operandParams();
    p.i64(count);
    launch(k, "epi", cuda::launch::elementwise(count), p);
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
  for (const exe::Kernel &k : exe.kernels()) {
    nlohmann::json plan = nlohmann::json::parse(k.launch_plan(), nullptr, false);
    if (plan.is_discarded() || !plan.is_object())
      throw makeError(k.location(), ": the '", k.kind(), "' kernel has no valid launch plan");
    cuda::DeviceBuffer s;
    if (plan.contains("slopes")) {
      std::vector<float> values = plan["slopes"].get<std::vector<float>>();
      s = pool->allocate(values.size() * sizeof(float));
      s.upload(values.data(), values.size() * sizeof(float));
    }
    plans.push_back(std::move(plan));
    slopes.push_back(std::move(s));
  }
}

void CudaBackend::Impl::bindWeights(const WeightBinder &binder,
                                    const Int8WeightViews *int8Weights) {
  std::vector<uint8_t> stored; // bf16 / int8 bytes on their way to the device
  auto upload = [&](const void *bytes, size_t n) {
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

void CudaBackend::Impl::widenedGemm(const exe::Kernel &k, const nlohmann::json &plan, CuDevicePtr x,
                                    int64_t m, int64_t N, int64_t K, CuDevicePtr y) {
  // Prefill-sized: float32 copies of up to 64 MiB of weight rows at a time,
  // each multiplied by cuBLAS into its columns of y.
  const int64_t chunk = std::min<int64_t>(N, std::max<int64_t>(1, (int64_t(16) << 20) / K));
  CuDevicePtr wide = wideWeights.get(*pool, size_t(chunk * K) * sizeof(float));
  for (int64_t n0 = 0; n0 < N; n0 += chunk) {
    const int64_t count = std::min(chunk, N - n0);
    Params p = operandParams();
    p.ptr(wide).i64(n0).i64(count);
    launch(k, "widen", cuda::launch::elementwise(count * K / 4), p);
    cublas->gemmRowMajor(m, count, K, x, K, wide, K, y + CuDevicePtr(n0 * sizeof(float)), N);
  }
  if (plan.value("weight_dtype", "f32") == "int8") {
    Params p = operandParams();
    p.i64(m * N);
    launch(k, "scale", cuda::launch::elementwise(m * N), p);
  }
}

CuDevicePtr CudaBackend::Impl::pointerOf(uint32_t id) {
  const exe::Buffer &b = exe.buffers(id);
  switch (b.storage()) {
  case exe::Buffer::STORAGE_ARENA:
    return arena.address() + b.offset();
  case exe::Buffer::STORAGE_WEIGHT:
    return weights[b.offset()].address();
  case exe::Buffer::STORAGE_STATE:
    if (int i = layout->stateIndex(id); i >= 0)
      return state[i].address();
    break;
  case exe::Buffer::STORAGE_INPUT:
    if (int i = layout->inputIndex(id); i >= 0)
      return inputs[i].address();
    break;
  default:
    break;
  }
  throw makeError("buffer '", b.name(), "' has no storage");
}

void CudaBackend::Impl::launch(const exe::Kernel &k, const char *step, const LaunchShape &shape,
                               Params &params) {
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
  const nlohmann::json &plan = plans[l.kernel()];
  operands.clear();
  for (uint32_t id : l.operands())
    operands.push_back(pointerOf(id));
  // Operands are the kernel's inputs then its results; the plan names the
  // inputs each kind needs by position.
  auto input = [&](const char *key) { return operands[planInt(plan, key, k)]; };
  auto inputId = [&](const char *key) { return l.operands(planInt(plan, key, k)); };
  const int64_t B = symbols[batchSymbol], T = symbols[tokenSymbol], S = capacity;
  const std::string &kind = k.kind();
  CuDevicePtr error = errorFlag();

  if (kind == "elementwise") {
    int64_t count = numel(l.operands(l.operands_size() - 1));
    Params p = operandParams();
    p.i64(count);
    if (count)
      launch(k, "ew", cuda::launch::elementwise(count), p);
  } else if (kind == "gemm") {
    int64_t K = planInt(plan, "K", k), N = planInt(plan, "N", k);
    int64_t m = numel(inputId("x")) / K;
    CuDevicePtr y = operands.back();
    if (m == 0)
      return;
    const bool stored = plan.value("weight_dtype", "f32") != "f32";
    if (m <= mmk::kGemvMaxRows && plan.value("gemv", false) && (denseGemv || stored)) {
      Params p = operandParams();
      p.i64(m);
      launch(k, "gv", cuda::launch::gemv(int(N), storedWeightBytes(plan)), p);
    } else if (!stored) {
      cublas->gemmRowMajor(m, N, K, input("x"), K, input("w"), K, y, N);
    } else {
      widenedGemm(k, plan, input("x"), m, N, K, y);
    }
    epilogue(k, plan, m * N);
  } else if (kind == "norm") {
    int64_t H = planInt(plan, "H", k);
    int64_t rows = numel(l.operands(l.operands_size() - 1)) / H;
    Params p = operandParams();
    p.i64(rows);
    if (rows)
      launch(k, "norm", cuda::launch::rows(rows, mmk::rowThreads(int(H))), p);
  } else if (kind == "embedding") {
    int64_t H = planInt(plan, "H", k), count = numel(inputId("ids"));
    Params p = operandParams();
    p.i64(count).ptr(error);
    if (count)
      launch(k, "emb", cuda::launch::rows(count, mmk::rowThreads(int(H))), p);
  } else if (kind == "gather") {
    std::vector<int64_t> x = layout->dims(exe.buffers(inputId("x")), symbols);
    int64_t row = planInt(plan, "ROW", k);
    Params p = operandParams();
    p.i64(x[0]).i64(x[1]).ptr(error);
    launch(k, "gather", cuda::launch::rows(x[0], mmk::rowThreads(int(row))), p);
  } else if (kind == "moe_router") {
    int64_t tokens = numel(inputId("logits")) / planInt(plan, "E", k);
    Params p = operandParams();
    p.i64(tokens);
    if (tokens)
      launch(k, "router", cuda::launch::moeRouter(tokens), p);
  } else if (kind == "moe_dispatch") {
    int64_t slots = numel(inputId("indices")), D = planInt(plan, "D", k);
    Params sort = operandParams();
    sort.ptr(0).i64(slots).ptr(error);
    launch(k, "sort", cuda::launch::moeSort(), sort);
    Params gather = operandParams();
    gather.i64(slots).ptr(error);
    if (slots)
      launch(k, "gather", cuda::launch::rows(slots, mmk::rowThreads(int(D))), gather);
  } else if (kind == "grouped_gemm" || kind == "grouped_gemm_swiglu") {
    int64_t N = planInt(plan, "N", k), K = planInt(plan, "K", k), E = planInt(plan, "E", k);
    int64_t rows = numel(inputId("x")) / K;
    Params p = operandParams();
    p.i64(rows).ptr(error);
    if (rows == 0)
      return;
    // Decode-sized steps stream each expert's weights once (GEMV form); the
    // tiled form pays off once experts have tens of rows.
    const bool gemv = rows <= mmk::kGroupedGemvMaxRows;
    if (kind == "grouped_gemm") {
      launch(k, gemv ? "gv" : "gg",
             gemv ? cuda::launch::groupedGemv(int(N), int(E), storedWeightBytes(plan))
                  : cuda::launch::groupedGemm(rows, int(N), int(E)),
             p);
      epilogue(k, plan, rows * N);
    } else {
      launch(k, gemv ? "swiglu_gv" : "swiglu",
             gemv ? cuda::launch::groupedGemv(int(N), int(E), storedWeightBytes(plan))
                  : cuda::launch::groupedSwiglu(rows, int(N), int(E)),
             p);
    }
  } else if (kind == "moe_combine") {
    int64_t slots = numel(inputId("weights")), topK = planInt(plan, "K", k);
    int64_t D = planInt(plan, "D", k), tokens = slots / topK;
    if (tokens == 0)
      return;
    CuDevicePtr rows = rowOfSlot.get(*pool, slots * sizeof(int64_t));
    driver->check(
        driver->api().cuMemsetD8Async(rows, 0xff, slots * sizeof(int64_t), stream->handle()),
        "cuMemsetD8Async");
    Params invert = operandParams();
    invert.ptr(rows).i64(slots).ptr(error);
    launch(k, "invert", cuda::launch::elementwise(slots), invert);
    Params combine = operandParams();
    combine.ptr(rows).i64(tokens).ptr(error);
    launch(k, "combine", cuda::launch::rows(tokens, mmk::rowThreads(int(D))), combine);
    epilogue(k, plan, tokens * D);
  } else if (kind == "attention") {
    int HQ = int(planInt(plan, "HQ", k)), HKV = int(planInt(plan, "HKV", k));
    int D = int(planInt(plan, "D", k));
    if (B * T == 0)
      return;
    CuDevicePtr qSrc = input("q"), kSrc = input("k");
    if (plan.value("rope", false)) {
      qSrc = qRot.get(*pool, size_t(B * T * HQ * D) * sizeof(float));
      kSrc = kRot.get(*pool, size_t(B * T * HKV * D) * sizeof(float));
      Params pq = operandParams();
      pq.ptr(qSrc).i64(B * T);
      launch(k, "rope_q", cuda::launch::rows(B * T, mmk::rowThreads(HQ * D / 2)), pq);
      Params pk = operandParams();
      pk.ptr(kSrc).i64(B * T);
      launch(k, "rope_k", cuda::launch::rows(B * T, mmk::rowThreads(HKV * D / 2)), pk);
    }
    Params kv = operandParams();
    kv.ptr(kSrc).i64(B).i64(T).i64(S).ptr(error);
    launch(k, "kv", cuda::launch::rows(B * T, mmk::rowThreads(HKV * D / 4)), kv);
    if (T == 1) {
      int splits = cuda::launch::attentionDecodeSplits(B, HKV, S, driver->multiprocessors());
      int64_t keysPerSplit = mmk::attentionDecodeKeysPerSplit(S, splits);
      CuDevicePtr part = partial.get(
          *pool, size_t(B) * HQ * splits * mmk::attentionDecodePartialFloats(D) * sizeof(float));
      Params dec = operandParams();
      dec.ptr(qSrc).ptr(part).i64(B).i64(S).i64(keysPerSplit).ptr(error);
      launch(k, "decode", cuda::launch::attentionDecode(B, HQ, HKV, D, splits), dec);
      Params comb = operandParams();
      comb.ptr(part).i64(B).i32(splits);
      launch(k, "combine", cuda::launch::attentionDecodeCombine(B, HQ, D), comb);
    } else {
      Params pre = operandParams();
      pre.ptr(qSrc).i64(B).i64(T).i64(S).ptr(error);
      launch(k, "prefill", cuda::launch::attentionPrefill(B, T, HQ, HKV, D), pre);
    }
  } else if (kind == "lightning") {
    int H = int(planInt(plan, "H", k)), D = int(planInt(plan, "D", k));
    int BS = int(planInt(plan, "BS", k));
    CuDevicePtr sl = slopes[l.kernel()].address();
    if (B == 0 || T == 0)
      return;
    if (T == 1) {
      Params p = operandParams();
      p.ptr(sl).i64(B).ptr(error);
      launch(k, "decode", cuda::launch::lightningDecode(B, H, D), p);
    } else {
      CuDevicePtr ws = lightning.get(*pool, size_t(mmk::lightningWorkspaceFloats(B, H, T, D, BS)) *
                                                sizeof(float));
      const char *steps[] = {"state", "scan", "output"};
      LaunchShape shapes[] = {cuda::launch::lightningState(B, T, H, BS),
                              cuda::launch::lightningScan(B, H, D),
                              cuda::launch::lightningOutput(B, T, H, D, BS)};
      for (int i = 0; i < 3; ++i) {
        Params p = operandParams();
        p.ptr(sl).ptr(ws).i64(B).i64(T).ptr(error);
        launch(k, steps[i], shapes[i], p);
      }
    }
  } else {
    throw makeError(k.location(), ": the CUDA runtime cannot launch a '", kind, "' kernel");
  }
}

void CudaBackend::Impl::runSchedule() {
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
  impl->batchSymbol = impl->layout->symbolIndex("B");
  impl->tokenSymbol = impl->layout->symbolIndex("T");
  if (impl->batchSymbol < 0 || impl->tokenSymbol < 0)
    throw makeError("the executable has no batch (B) or step (T) size");
  impl->loadModule();
  impl->bindWeights(loader, int8Weights);
  impl->arena = impl->pool->allocate(std::max<uint64_t>(impl->exe.arena_bytes(), 256));
  for (size_t i = 0; i < kMiniMaxStepInputs; ++i)
    impl->inputs[i] = impl->pool->allocate(std::max<uint64_t>(
        impl->layout->bytes(impl->exe.buffers(impl->exe.input_buffers(i)), impl->layout->maxima()),
        256));
  impl->errors = impl->pool->allocate(std::max<size_t>(impl->exe.schedule_size(), 1) * sizeof(int));
  warmUp();
}

void CudaBackend::warmUp() {
  // Like vLLM's start-up run: prefills at the largest compiled batch and step
  // and at a few smaller sizes, then one decode step, so that lazy module
  // loading, cuBLAS's first calls for each kind of shape (it picks other
  // kernels for short prefills) and every scratch allocation happen here and
  // not in the first request's time.
  Impl &m = *impl;
  const int64_t maxBatch = m.layout->maximum("B", 1), capacity = m.layout->maximum("S", 1);
  const int64_t tokens = std::max<int64_t>(1, std::min(m.layout->maximum("T", 1), capacity - 1));
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

bool CudaBackend::allLogits() const { return impl->exe.all_logits(); }
std::string CudaBackend::deviceName() const { return impl->driver->deviceName(); }
bool CudaBackend::compiledAtLoad() const { return impl->compiledAtLoad; }

void CudaBackend::reset(int64_t batch, int64_t capacity) {
  Impl &m = *impl;
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
  std::vector<const Tensor *> in = {&ids, &positions, &cachePositions, &lengths};
  m.layout->checkStepInputs(in, m.symbols);
  for (size_t i = 0; i < kMiniMaxStepInputs; ++i)
    m.inputs[i].uploadAsync(in[i]->raw(), in[i]->nbytes(), m.stream->handle());
  m.driver->check(m.driver->api().cuMemsetD8Async(m.errors.address(), 0,
                                                  m.exe.schedule_size() * sizeof(int),
                                                  m.stream->handle()),
                  "cuMemsetD8Async");
  if (m.profile && m.events.empty())
    for (int i = 0; i < 2 * m.exe.schedule_size(); ++i)
      m.events.push_back(std::make_unique<cuda::Event>(*m.driver));
  const bool decode = ids.dim(1) == 1;
  if (m.decodeGraph && m.graphScratch != m.scratchAddresses())
    m.decodeGraph.reset(); // a prefill grew a scratch buffer the graph points into
  if (decode && m.graphs && !m.decodeGraph)
    m.captureDecodeGraph();
  if (decode && m.decodeGraph)
    m.decodeGraph->launch(m.stream->handle());
  else
    m.runSchedule();

  const exe::Buffer &out = m.exe.buffers(m.exe.logits_buffer());
  Tensor logits = Tensor::empty(DType::F32, Shape(m.layout->dims(out, m.symbols)));
  std::vector<int> flags(m.exe.schedule_size());
  m.driver->check(m.driver->api().cuMemcpyDtoHAsync(logits.raw(),
                                                    m.pointerOf(m.exe.logits_buffer()),
                                                    logits.nbytes(), m.stream->handle()),
                  "cuMemcpyDtoHAsync (logits)");
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
  for (size_t i = 0; i < flags.size(); ++i)
    if (flags[i] != 0) {
      const exe::Kernel &k = m.exe.kernels(m.exe.schedule(i).kernel());
      throw makeError(k.location(), ": ", cuda::kernelErrorMessage(flags[i]));
    }
  return logits;
}

} // namespace mm
