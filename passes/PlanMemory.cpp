//===- PlanMemory.cpp - arena offsets by liveness -------------------------===//
#include "ir/GenerationStep.h"
#include "ir/MMOps.h"
#include "passes/Passes.h"
#include "passes/SymbolicShapes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringMap.h"

#include <numeric>

namespace mm {
#define GEN_PASS_DEF_PLANMEMORY
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
constexpr int64_t kAlignment = 64;

struct Interval {
  int64_t begin, end; // op indices, inclusive
  bool overlaps(const Interval &o) const { return begin <= o.end && o.begin <= end; }
};

struct PlannedBuffer {
  Value value; // the kernel result that owns it
  int64_t bytes;
  Interval live;
  int64_t offset = -1;
};

struct PlanMemoryPass : mm::impl::PlanMemoryBase<PlanMemoryPass> {
  using PlanMemoryBase::PlanMemoryBase;

  /// The largest value of each symbol: the language-model flags for the
  /// declared generation step's symbols (B, T and S without one), then the
  /// `symbol-max` entries. Recorded on `fn` as mm.symbol_max.
  FailureOr<SmallVector<int64_t>> symbolMaxima(func::FuncOp fn, ArrayRef<std::string> symbols) {
    FailureOr<std::optional<GenerationStepDecl>> step = readGenerationStep(fn);
    if (failed(step))
      return failure();
    llvm::StringMap<int64_t> given;
    if (*step) {
      for (auto [symbol, max] : {std::pair(&(*step)->batch, int64_t(maxBatch)),
                                 std::pair(&(*step)->tokens, int64_t(maxTokens)),
                                 std::pair(&(*step)->capacity, int64_t(maxContext))})
        if (!symbol->empty())
          given[*symbol] = max;
    } else {
      given = llvm::StringMap<int64_t>{{"B", maxBatch}, {"T", maxTokens}, {"S", maxContext}};
    }
    for (const std::string &entry : symbolMax) {
      auto [name, value] = StringRef(entry).split('=');
      int64_t v = 0;
      if (name.empty() || value.getAsInteger(10, v) || v < 1)
        return fn.emitError("symbol-max entry '") << entry << "' is not NAME=VALUE with VALUE >= 1";
      given[name] = v;
    }
    SmallVector<int64_t> maxima;
    SmallVector<NamedAttribute> record;
    Builder b(fn.getContext());
    for (const std::string &s : symbols) {
      auto it = given.find(s);
      if (it == given.end())
        return fn.emitError("shape symbol '") << s << "' has no maximum (give symbol-max=" << s
                                              << "=VALUE; mm-compile --max " << s << "=VALUE)";
      maxima.push_back(it->second);
      record.push_back(b.getNamedAttr(s, b.getI64IntegerAttr(it->second)));
    }
    fn->setAttr("mm.symbol_max", b.getDictionaryAttr(record));
    return maxima;
  }

  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    auto shapes = SymbolicShapes::infer(fn);
    if (failed(shapes))
      return signalPassFailure();
    auto maxima = symbolMaxima(fn, shapes->symbols());
    if (failed(maxima))
      return signalPassFailure();

    // Each value's storage root: an arena buffer (a kernel result) or null
    // for arguments and weights. Views and in-place results share their input's.
    Block &body = fn.getBody().front();
    llvm::DenseMap<Value, Value> root;
    llvm::DenseMap<Value, size_t> bufferOf;
    SmallVector<PlannedBuffer> buffers;
    int64_t index = 0;
    for (Operation &op : body) {
      for (Value operand : op.getOperands()) {
        auto it = root.find(operand);
        if (it != root.end() && it->second)
          buffers[bufferOf[it->second]].live.end = index;
      }
      if (op.hasTrait<OpTrait::IsTerminator>()) {
        for (Value v : op.getOperands()) // results live to the end
          if (root.lookup(v))
            buffers[bufferOf[root.lookup(v)]].live.end = std::numeric_limits<int64_t>::max();
      } else if (auto reshape = dyn_cast<ReshapeOp>(op)) {
        root[reshape.getResult()] = root.lookup(reshape.getInput());
      } else if (auto kernel = dyn_cast<KernelOp>(op)) {
        auto inPlace = kernel.getInPlace();
        for (auto [r, result] : llvm::enumerate(kernel.getResults())) {
          int64_t in = inPlace ? (*inPlace)[r] : -1;
          if (in >= 0) {
            root[result] = root.lookup(kernel.getInputs()[in]);
            continue;
          }
          root[result] = result;
          bufferOf[result] = buffers.size();
          int64_t bytes = shapes->bytes(result, *maxima);
          buffers.push_back(
              {result, (bytes + kAlignment - 1) / kAlignment * kAlignment, {index, index}});
        }
      } else {
        for (Value r : op.getResults())
          root[r] = Value(); // weights and constants live outside the arena
      }
      ++index;
    }

    // Greedy by size, first fit: large buffers first, each at the lowest
    // offset that no buffer live at the same time occupies.
    SmallVector<size_t> order(buffers.size());
    std::iota(order.begin(), order.end(), 0);
    llvm::stable_sort(order,
                      [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
    int64_t arena = 0, unshared = 0;
    SmallVector<size_t> placed;
    for (size_t i : order) {
      PlannedBuffer &buf = buffers[i];
      SmallVector<std::pair<int64_t, int64_t>> taken;
      for (size_t j : placed)
        if (buffers[j].live.overlaps(buf.live))
          taken.push_back({buffers[j].offset, buffers[j].offset + buffers[j].bytes});
      llvm::sort(taken);
      int64_t offset = 0;
      for (auto [begin, end] : taken) {
        if (offset + buf.bytes <= begin)
          break;
        offset = std::max(offset, end);
      }
      buf.offset = offset;
      arena = std::max(arena, offset + buf.bytes);
      unshared += buf.bytes;
      placed.push_back(i);
    }

    Builder b(&getContext());
    for (Operation &op : body)
      if (auto kernel = dyn_cast<KernelOp>(op)) {
        SmallVector<int64_t> offsets;
        for (Value r : kernel.getResults())
          offsets.push_back(root.lookup(r) == r ? buffers[bufferOf[r]].offset : -1);
        kernel->setAttr("mm.offsets", b.getDenseI64ArrayAttr(offsets));
      }
    fn->setAttr("mm.arena_bytes", b.getI64IntegerAttr(arena));
    mlir::emitRemark(fn.getLoc()) << "arena " << arena << " bytes for " << buffers.size()
                                  << " buffers (" << unshared << " without reuse)";
  }
};
} // namespace
