//===- HostCodegen.cpp ----------------------------------------------------===//
#include "codegen/host/HostCodegen.h"
#include "codegen/FusedKernel.h"
#include "ir/MMOps.h"
#include "runtime/LightningDecay.h"
#include "ir/ShardCollectives.h"
#include "mlir/IR/Matchers.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <set>

using namespace mlir;

namespace mm {

std::string HostProgram::source() const {
  std::string s = std::string(kHostKernelsHeader) + kHostBackwardKernelsHeader +
                  "\n// ---- generated kernels ----\n";
  std::set<std::string> emitted; // kernels named by content appear once
  for (const GeneratedKernel &k : kernels)
    if (emitted.insert(k.name).second)
      s += "\n" + k.code;
  return s;
}

std::string HostProgram::kernelSource(size_t i) const {
  return std::string(kHostKernelsHeader) + kHostBackwardKernelsHeader +
         "\n// ---- generated kernel ----\n\n" + kernels[i].code;
}

namespace {

/// Emits one kernel function.
class KernelEmitter : public FusedKernelEmitter {
public:
  KernelEmitter(KernelOp kernel, size_t index, const SymbolicShapes &shapes,
                const WeightTypes &weightTypes)
      : FusedKernelEmitter(kernel, shapes, CodeTarget::Host, "host code", "      "),
        weightTypes(weightTypes), name("mm_kernel_" + std::to_string(index)) {}

  FailureOr<GeneratedKernel> emit();

private:
  std::string elementType(Value v) const override { return isInteger(v) ? "int64_t" : "float"; }
  std::string integerLiteral(int64_t v) const override {
    return "int64_t(" + std::to_string(v) + ")";
  }
  /// bf16 weights are widened as they are read.
  std::string load(Value v, StringRef index) const override {
    if (weightType(argIndex(v)) == "mmh::bf16")
      return "mmh::load(" + pointer(v) + ", " + index.str() + ")";
    return FusedKernelEmitter::load(v, index);
  }
  bool symbolsInScope() const override { return true; }
  std::string outputName(unsigned i) const { return "out" + std::to_string(i); }
  /// The weight storage type if input `i` is a weight, else "".
  std::string weightType(unsigned i) const;

  /// C++ expression of the product of dims [begin, end) of top-level `v`.
  std::string dims(Value v, int64_t begin, int64_t end) const;
  std::string numel(Value v) const {
    return dims(v, 0, llvm::cast<RankedTensorType>(v.getType()).getRank());
  }

  LogicalResult emitElementwiseKernel();
  LogicalResult emitGemm();
  LogicalResult emitNorm();
  LogicalResult emitAttention();
  LogicalResult emitAttentionWithoutCache(AttentionOp op);
  /// Declares `start`, the position of the first query among the keys (the
  /// op's query_start, checked to fit, or 0).
  LogicalResult emitQueryStart(Value start, Value query, Value key, StringRef opName);
  LogicalResult emitLightning();
  LogicalResult emitRouter();
  LogicalResult emitDispatch();
  LogicalResult emitGroupedGemm();
  LogicalResult emitGroupedSwiglu();
  LogicalResult emitCombine();
  LogicalResult emitEmbedding();
  LogicalResult emitGather();
  LogicalResult emitCopy();
  LogicalResult emitReduce();
  LogicalResult emitSoftmax();
  LogicalResult emitMatmul();
  LogicalResult emitLayerNorm();
  LogicalResult emitScatterAdd();
  LogicalResult emitArgmax();
  LogicalResult emitLoss();
  LogicalResult emitTopK();
  LogicalResult emitConv();
  LogicalResult emitPool();
  LogicalResult emitRope();
  LogicalResult emitMergeImageFeatures();
  LogicalResult emitGru();
  LogicalResult emitTargetAttention();
  LogicalResult emitHadamard();
  // Backward kinds (HostBackwardKernels.h).
  LogicalResult emitAttentionBackward();
  LogicalResult emitLightningBackward();
  LogicalResult emitConv2dBackward();
  void emitLightningSlopes(ArrayRef<double> all, int64_t heads, Value headIndex, int64_t total,
                           StringRef opName);
  LogicalResult emitGroupedGemmWeightGrad();
  LogicalResult emitLossBackward();
  LogicalResult emitGruBackward();
  LogicalResult emitConvBackward();
  // Collectives: the runtime runs them (CollectiveOps.h); the kernel is empty.
  LogicalResult emitCollective();
  LogicalResult emitConstant();

  /// The one op of a single-op kernel whose operands are all kernel inputs.
  /// `partial` also accepts constant operands (read with operandRef) and
  /// results nothing reads (written through resultRef, which may be null).
  template <typename Op> FailureOr<Op> singleOp(bool partial = false);
  /// A kernel input's pointer, or a static array holding a constant operand.
  std::string operandRef(Value bodyValue);
  /// "outN" for the kernel result `bodyValue` is, or "nullptr" if none.
  std::string resultRef(Value bodyValue) const;
  /// `const int64_t <name>[] = {d0, d1, ...};` with the dims of top-level `v`.
  std::string shapeArray(const std::string &name, Value v) const;

  const WeightTypes &weightTypes;
  std::string name;
  std::string body; // the statements after the operand declarations
  std::string plan; // a collective's runtime part (CollectivePlan.h)
};

std::string KernelEmitter::weightType(unsigned i) const {
  ParamOp param = paramOf(kernel.getInputs()[i]);
  if (!param || isInteger(param)) // integer weights are plain int64 tensors
    return "";
  auto it = weightTypes.find(param.getName());
  if (it == weightTypes.end())
    return "float";
  return it->second == "bf16" ? "mmh::bf16" : it->second == "int8" ? "mmh::q8_rows" : "float";
}

std::string KernelEmitter::dims(Value v, int64_t begin, int64_t end) const {
  ArrayRef<SymbolicDim> d = shapes.dims(v);
  std::string s;
  int64_t constant = 1;
  for (int64_t i = begin; i < end; ++i) {
    constant *= d[i].coefficient;
    for (auto [e, sym] : llvm::zip(d[i].exponents, shapes.symbols()))
      for (unsigned k = 0; k < e; ++k)
        s += sym + " * ";
  }
  return "(" + s + std::to_string(constant) + ")";
}

LogicalResult KernelEmitter::emitElementwiseKernel() {
  Value out = kernel.getResult(0);
  for (Value r : kernel.getResults())
    if (llvm::cast<RankedTensorType>(r.getType()).getShape() !=
        llvm::cast<RankedTensorType>(out.getType()).getShape())
      return fail("results of different shapes");
  int64_t last = llvm::cast<RankedTensorType>(out.getType()).getRank() > 0
                     ? staticDim(out, llvm::cast<RankedTensorType>(out.getType()).getRank() - 1)
                     : 1;
  std::string code;
  if (failed(emitElementwise(bodyOps(kernel), out, "i",
                             last > 0 ? "i % " + std::to_string(last) : "0", code)) ||
      failed(storeResults(code, "i")))
    return failure();
  body += "  const int64_t n = " + numel(out) + ";\n";
  body += "#pragma omp parallel for schedule(static) if (n > 65536)\n";
  body += "  for (int64_t i = 0; i < n; ++i) {\n" + code + "  }\n";
  return success();
}

LogicalResult KernelEmitter::emitGemm() {
  auto parts = gemmParts();
  if (failed(parts))
    return failure();
  LinearOp linear = parts->linear;
  Value x = topLevel(linear.getInput());
  int64_t K = parts->K, N = parts->N;
  // The linear result inside the epilogue: acc (+ bias[n]).
  std::string acc = "acc";
  if (Value bias = linear.getBias())
    acc = "(acc + " + pointer(bias) + "[n])";
  names[linear.getResult()] = acc;
  std::string code = "      const int64_t i = m * " + std::to_string(N) + " + n;\n";
  Value iteration = kernel.getResult(0);
  if (failed(emitElementwise(parts->epilogue, iteration, "i", "n", code)) ||
      failed(storeResults(code, "i")))
    return failure();
  body +=
      "  const int64_t M = " + dims(x, 0, llvm::cast<RankedTensorType>(x.getType()).getRank() - 1) +
      ";\n";
  body +=
      llvm::formatv("  mmh::gemm({0}, M, {1}, {2}, {3}, [&](int64_t m, int64_t n, float acc) {{\n",
                    pointer(linear.getInput()), K, pointer(linear.getWeight()), N)
          .str();
  body += code + "  });\n";
  return success();
}

LogicalResult KernelEmitter::emitNorm() {
  auto parts = normParts();
  if (failed(parts))
    return failure();
  RmsNormOp norm = parts->norm;
  Value iteration = kernel.getResult(0);
  auto type = llvm::cast<RankedTensorType>(norm.getType());
  int64_t N = parts->width;
  // The rows: every dim of the output but the last.
  std::string rows = dims(iteration, 0, type.getRank() - 1);
  std::string prologue = "      const int64_t i = r * " + std::to_string(N) + " + c;\n";
  if (failed(emitElementwise(parts->prologue, iteration, "i", "c", prologue)))
    return failure();
  auto x = operand(norm.getInput(), iteration, "i", "c", prologue);
  if (failed(x))
    return failure();
  names.clear(); // the epilogue lambda has its own scope
  names[norm.getResult()] = "normed";
  std::string epilogue = "      const int64_t i = r * " + std::to_string(N) + " + c;\n";
  if (failed(emitElementwise(parts->epilogue, iteration, "i", "c", epilogue)) ||
      failed(storeResults(epilogue, "i")))
    return failure();
  body += "  const int64_t rows = " + rows + ";\n";
  body +=
      llvm::formatv("  mmh::rms_norm(rows, {0}, {1}, {2},\n", N,
                    floatLiteral(norm.getEpsilon().convertToDouble()), pointer(norm.getWeight()))
          .str();
  body += "    [&](int64_t r, int64_t c) -> float {\n" + prologue + "      return " + *x +
          ";\n    },\n";
  body += "    [&](int64_t r, int64_t c, float normed) {\n" + epilogue + "    });\n";
  return success();
}

LogicalResult KernelEmitter::emitAttentionWithoutCache(AttentionOp op) {
  for (Value v : op->getOperands())
    if (!topLevel(v) && v != op.getQueryStart())
      return fail("attention operands must be kernel inputs");
  Value q = topLevel(op.getQuery()), k = topLevel(op.getKey()), v = topLevel(op.getValue());
  if (failed(emitQueryStart(op.getQueryStart(), q, k, AttentionOp::getOperationName())))
    return failure();
  auto mask = keyMaskPointer(op.getKeyMask());
  if (failed(mask))
    return failure();
  body +=
      llvm::formatv("  mmh::attention_nocache({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                    "{10}, {11}, start, {12}, out0);\n  return 0;\n",
                    pointer(op.getQuery()), pointer(op.getKey()), pointer(op.getValue()),
                    dims(q, 0, 1), dims(q, 1, 2), dims(k, 1, 2), staticDim(q, 2), staticDim(k, 2),
                    staticDim(q, 3), staticDim(v, 3), floatLiteral(op.getScaleOrDefault()),
                    op.getCausal() ? "true" : "false", *mask)
          .str();
  return success();
}

LogicalResult KernelEmitter::emitQueryStart(Value start, Value query, Value key,
                                           StringRef opName) {
  // A kernel input, or a constant the kernel cloned (a literal here).
  auto from = queryStart(start);
  if (failed(from))
    return failure();
  std::string where = from->pointer.empty() ? "nullptr" : from->pointer;
  if (from->value) {
    body += llvm::formatv("  static const int64_t query_start_value[1] = {{{0}};\n", *from->value)
                .str();
    where = "query_start_value";
  }
  body += llvm::formatv("  const int64_t start = mmh::query_start(ctx, \"{0}\", {1}, {2}, {3});\n"
                        "  if (start < 0)\n    return 1;\n",
                        opName, where, dims(query, 1, 2), dims(key, 1, 2))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitAttention() {
  if (AttentionOp plain = attentionWithoutCache())
    return emitAttentionWithoutCache(plain);
  auto parts = attentionParts();
  if (failed(parts))
    return failure();
  AttentionParts p = *parts; // (op accessors are not const)
  AttentionOp att = p.op;
  if (staticDim(topLevel(att.getValue()), 3) != p.headDim)
    return fail("cached attention with a value head dim unlike the key's: the host kernel "
                "takes one head dim (the CUDA target takes both)");
  Value qTop = topLevel(p.q), kcTop = topLevel(att.getKeyCache());
  std::string positions = p.rope ? pointer(p.rope.getPositions()) : "nullptr";
  body += "  const int64_t b = " + dims(qTop, 0, 1) + ", t = " + dims(qTop, 1, 2) +
          ", s = " + dims(kcTop, 1, 2) + ";\n";
  body += llvm::formatv("  return mmh::attention(ctx, {0}, {1}, {2}, {3}, {4}, {5}, {6}, b, t, s, "
                        "{7}, {8}, {9}, {10}, {11:e}, {12}, {13}, {14});\n",
                        pointer(p.q), pointer(p.k), pointer(att.getValue()), positions,
                        pointer(att.getKeyCache()), pointer(att.getValueCache()),
                        pointer(att.getCachePositions()), p.queryHeads, p.kvHeads, p.headDim,
                        p.rotaryDim, p.theta, floatLiteral(p.scale),
                        att.getCausal() ? "true" : "false", outputName(p.out))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitLightning() {
  auto parts = lightningParts();
  if (failed(parts))
    return failure();
  LightningParts p = *parts; // (op accessors are not const)
  LightningAttentionOp la = p.op;
  Value out = kernel.getResult(p.out);
  emitLightningSlopes(la.getDecaySlopes(), p.heads, la.getHeadIndex(), la.getSlopeHeads(),
                      LightningAttentionOp::getOperationName());
  body += "  const int64_t b = " + dims(out, 0, 1) + ", t = " + dims(out, 1, 2) + ";\n";
  // The state is carried in the final-state result: over the initial state in
  // place (inference), else in the result or, when nothing reads the final
  // state (training forward), in a scratch buffer, starting from a copy of
  // the initial state (read again by the backward) or from zero.
  std::string size = llvm::formatv("size_t(b * {0})", p.heads * p.headDim * p.headDim).str();
  std::string state;
  if (p.stateInPlace) {
    state = pointer(la.getInitialState());
  } else {
    if (p.stateOut) {
      state = outputName(*p.stateOut);
    } else {
      body += "  std::vector<float> scratch_state(" + size + ");\n";
      state = "scratch_state.data()";
    }
    body += p.freshState
                ? "  std::memset(" + state + ", 0, " + size + " * sizeof(float));\n"
                : "  std::memcpy(" + state + ", " + pointer(la.getInitialState()) + ", " + size +
                      " * sizeof(float));\n";
  }
  body +=
      llvm::formatv("  return mmh::lightning(ctx, {0}, {1}, {2}, {3}, {4}, {5}, {6}, b, t, {7}, "
                    "{8}, {9}, slopes, {10});\n",
                    p.base[0], p.base[1], p.base[2], p.heads * p.width, p.width, state,
                    la.getLengths() ? pointer(la.getLengths()) : "nullptr", p.heads, p.headDim,
                    la.getBlockSize(), outputName(p.out))
          .str();
  return success();
}

LogicalResult KernelEmitter::emitRouter() {
  auto parts = routerParts();
  if (failed(parts))
    return failure();
  MoeRouterOp r = parts->op;
  Value logits = topLevel(r.getLogits());
  int64_t E = parts->experts;
  body += "  const int64_t n = " + numel(logits) + " / " + std::to_string(E) + ";\n";
  body +=
      llvm::formatv("  mmh::moe_router({0}, n, {1}, {2}, {3}, out0, out1);\n  return 0;\n",
                    pointer(r.getLogits()), E, r.getTopK(), r.getRenormalize() ? "true" : "false")
          .str();
  return success();
}

LogicalResult KernelEmitter::emitDispatch() {
  auto parts = dispatchParts();
  if (failed(parts))
    return failure();
  MoeDispatchOp d = parts->op;
  Value x = topLevel(d.getInput());
  int64_t D = parts->width, k = parts->topK;
  body += "  const int64_t n = " + numel(x) + " / " + std::to_string(D) + ";\n";
  body +=
      llvm::formatv("  return mmh::moe_dispatch(ctx, {0}, n, {1}, {2}, {3}, {4}, out0, out1, "
                    "out2);\n",
                    pointer(d.getInput()), D, pointer(d.getExpertIndices()), k, d.getNumExperts())
          .str();
  return success();
}

LogicalResult KernelEmitter::emitGroupedGemm() {
  auto parts = groupedGemmParts();
  if (failed(parts))
    return failure();
  GroupedMatmulOp g = parts->op;
  int64_t E = parts->experts, N = parts->N, K = parts->K;
  names[g.getResult()] = "acc";
  std::string code = "      const int64_t i = r * " + std::to_string(N) + " + n;\n";
  if (failed(emitElementwise(parts->epilogue, kernel.getResult(0), "i", "n", code)) ||
      failed(storeResults(code, "i")))
    return failure();
  body += llvm::formatv(
              "  mmh::grouped_gemm({0}, {6}, {1}, {2}, {3}, {4}, {5}, [&](int64_t r, int64_t n, "
              "float acc) {{\n",
              pointer(g.getInput()), K, pointer(g.getWeight()), N, pointer(g.getGroupOffsets()), E,
              dims(topLevel(g.getInput()), 0, 1))
              .str();
  body += code + "  });\n  return 0;\n";
  return success();
}

LogicalResult KernelEmitter::emitGroupedSwiglu() {
  auto parts = groupedSwigluParts();
  if (failed(parts))
    return failure();
  GroupedMatmulOp gate = parts->gate, up = parts->up;
  int64_t E = parts->experts, N = parts->N, K = parts->K;
  body += llvm::formatv("  mmh::grouped_gemm_swiglu({0}, {7}, {1}, {2}, {3}, {4}, {5}, {6}, out0);\n"
                        "  return 0;\n",
                        pointer(gate.getInput()), K, pointer(gate.getWeight()),
                        pointer(up.getWeight()), N, pointer(gate.getGroupOffsets()), E,
                        dims(topLevel(gate.getInput()), 0, 1))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitCombine() {
  auto parts = combineParts();
  if (failed(parts))
    return failure();
  MoeCombineOp c = parts->op;
  Value weights = topLevel(c.getWeights());
  int64_t k = parts->topK, D = parts->width;
  names[c.getResult()] = "acc";
  std::string code = "      const int64_t i = t * " + std::to_string(D) + " + d;\n";
  if (failed(emitElementwise(parts->epilogue, kernel.getResult(0), "i", "d", code)) ||
      failed(storeResults(code, "i")))
    return failure();
  body += "  const int64_t n = " + numel(weights) + " / " + std::to_string(k) + ";\n";
  body += llvm::formatv("  return mmh::moe_combine(ctx, {0}, {1}, {2}, n, {3}, {4}, [&](int64_t t, "
                        "int64_t d, float acc) {{\n",
                        pointer(c.getExpertOutput()), pointer(c.getTokenOrder()),
                        pointer(c.getWeights()), k, D)
              .str();
  body += code + "  });\n";
  return success();
}

LogicalResult KernelEmitter::emitEmbedding() {
  auto parts = embeddingParts();
  if (failed(parts))
    return failure();
  EmbeddingOp e = parts->op;
  Value table = topLevel(e.getTable());
  body += "  const int64_t n = " + numel(topLevel(e.getIds())) + ";\n";
  std::string part; // a vocab-parallel part: its first row, the whole vocabulary
  if (e.getRowsFrom())
    part = llvm::formatv(", {0}[0], {1}", pointer(e.getRowsFrom()), *e.getVocabSize()).str();
  body += llvm::formatv("  return mmh::embedding(ctx, {0}, {1}, {2}, {3}, n, out0{4});\n",
                        pointer(e.getTable()), staticDim(table, 0), staticDim(table, 1),
                        pointer(e.getIds()), part)
              .str();
  return success();
}

LogicalResult KernelEmitter::emitGather() {
  auto parts = gatherParts();
  if (failed(parts))
    return failure();
  GatherOp g = parts->op;
  Value x = topLevel(g.getInput());
  if (!parts->perSequenceRows) { // any dim and batch dims: [outer, D, inner] rows
    int64_t rank = llvm::cast<RankedTensorType>(x.getType()).getRank();
    int64_t dim = static_cast<int64_t>(g.getDim()), b = static_cast<int64_t>(g.getBatchDims());
    Value idx = topLevel(g.getIndices());
    int64_t idxRank = llvm::cast<RankedTensorType>(idx.getType()).getRank();
    body += llvm::formatv("  return mmh::gather(ctx, {0}, {1}, {2}, {3}, {4}, {5}, {6}, out0);\n",
                          pointer(g.getInput()), dims(x, 0, dim), dims(x, b, dim),
                          dims(x, dim, dim + 1), dims(x, dim + 1, rank), pointer(g.getIndices()),
                          dims(idx, b, idxRank))
                .str();
    return success();
  }
  body += "  const int64_t b = " + dims(x, 0, 1) + ", t = " + dims(x, 1, 2) + ";\n";
  body += llvm::formatv("  return mmh::gather_rows(ctx, {0}, b, t, {1}, {2}, out0);\n",
                        pointer(g.getInput()), staticDim(x, 2), pointer(g.getIndices()))
              .str();
  return success();
}

template <typename Op> FailureOr<Op> KernelEmitter::singleOp(bool partial) {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto op = ops.size() == 1 ? llvm::dyn_cast<Op>(ops.front()) : Op();
  if (!op)
    return fail("expected one " + Op::getOperationName().str());
  for (Value v : op->getOperands())
    if (!topLevel(v) && !(partial && v.getDefiningOp<arith::ConstantOp>()))
      return fail("every operand must be a kernel input");
  if (!partial && op->getNumResults() != kernel.getNumResults())
    return fail("every result must be a kernel result");
  return op;
}

std::string KernelEmitter::operandRef(Value v) {
  auto constant = v.getDefiningOp<arith::ConstantOp>();
  if (!constant)
    return pointer(v);
  std::string name = "c" + std::to_string(temps++), values;
  for (APFloat f : llvm::cast<DenseElementsAttr>(constant.getValue()).getValues<APFloat>())
    values += floatLiteral(f.convertToDouble()) + ", ";
  body += "  static const float " + name + "[] = {" + values + "};\n";
  return name;
}

std::string KernelEmitter::resultRef(Value v) const {
  std::optional<unsigned> i = resultIndexOf(v);
  return i ? "out" + std::to_string(*i) : "nullptr";
}

std::string KernelEmitter::shapeArray(const std::string &arrayName, Value v) const {
  int64_t rank = llvm::cast<RankedTensorType>(v.getType()).getRank();
  if (rank > 16)
    return "#error more than 16 dims\n";
  std::string s = "  const int64_t " + arrayName + "[] = {";
  for (int64_t d = 0; d < rank; ++d)
    s += (d ? ", " : "") + dims(v, d, d + 1);
  return s + (rank ? "};\n" : "1};\n");
}

LogicalResult KernelEmitter::emitCopy() {
  Operation *op = bodyOps(kernel).size() == 1 ? bodyOps(kernel).front() : nullptr;
  if (!op || !isa<TransposeOp, SliceOp, ConcatOp>(op))
    return fail("expected one mm.transpose, mm.slice or mm.concat");
  for (Value v : op->getOperands())
    if (!topLevel(v))
      return fail("every operand must be a kernel input");
  Value out = kernel.getResult(0);
  int64_t rank = llvm::cast<RankedTensorType>(out.getType()).getRank();
  if (auto t = dyn_cast<TransposeOp>(op)) {
    std::string perm;
    for (int64_t p : t.getPermutation())
      perm += std::to_string(p) + ", ";
    body += shapeArray("in_shape", topLevel(t.getInput()));
    body += "  static const int64_t perm[] = {" + perm + "0};\n";
    body += llvm::formatv("  mmh::transpose({0}, in_shape, {1}, perm, out0);\n  return 0;\n",
                          pointer(t.getInput()), rank)
                .str();
    return success();
  }
  if (auto sl = dyn_cast<SliceOp>(op)) {
    int64_t dim = static_cast<int64_t>(sl.getDim());
    if (dim < 0)
      dim += rank;
    std::optional<uint64_t> end = sl.getEnd();
    body += shapeArray("in_shape", topLevel(sl.getInput()));
    body += llvm::formatv("  return mmh::slice(ctx, {0}, in_shape, {1}, {2}, int64_t({3}), {4}, "
                          "int64_t({5}), int64_t({6}), {7}, out0);\n",
                          pointer(sl.getInput()), rank, dim, int64_t(sl.getStart()),
                          end ? "true" : "false", end ? int64_t(*end) : int64_t(0),
                          int64_t(sl.getStep()), dims(out, dim, dim + 1))
                .str();
    return success();
  }
  auto c = cast<ConcatOp>(op);
  int64_t dim = static_cast<int64_t>(c.getDim());
  if (dim < 0)
    dim += rank;
  body += shapeArray("out_shape", out);
  body += "  int64_t offset = 0;\n";
  for (auto [i, v] : llvm::enumerate(c.getInputs())) {
    std::string shape = "in_shape" + std::to_string(i);
    body += shapeArray(shape, topLevel(v));
    body += llvm::formatv("  mmh::copy_into({0}, {1}, {2}, out0, out_shape, {3}, offset);\n"
                          "  offset += {1}[{3}];\n",
                          pointer(v), shape, rank, dim)
                .str();
  }
  body += "  return 0;\n";
  return success();
}

LogicalResult KernelEmitter::emitReduce() {
  auto r = singleOp<ReduceOp>();
  if (failed(r))
    return failure();
  ReduceOp op = *r;
  Value in = topLevel(op.getInput());
  int64_t rank = llvm::cast<RankedTensorType>(in.getType()).getRank();
  if (isInteger(in) && op.getKind() == ReduceKind::Mean)
    return fail("the mean of an integer tensor has no host template");
  std::vector<bool> reduced(rank, false);
  for (int64_t d : op.getDims())
    reduced[d < 0 ? d + rank : d] = true;
  std::string flags;
  for (bool b : reduced)
    flags += b ? "true, " : "false, ";
  body += shapeArray("in_shape", in);
  body += "  static const bool reduced[] = {" + flags + "false};\n";
  body += llvm::formatv("  mmh::reduce(mmh::reduce_{0}, {1}, in_shape, {2}, reduced, out0);\n"
                        "  return 0;\n",
                        stringifyReduceKind(op.getKind()), pointer(op.getInput()), rank)
              .str();
  return success();
}

LogicalResult KernelEmitter::emitSoftmax() {
  auto parts = softmaxParts();
  if (failed(parts))
    return failure();
  auto [op, in, dim, rank, log] = *parts;
  body += llvm::formatv("  mmh::softmax({0}, {1}, {2}, {3}, {4}, out0);\n  return 0;\n",
                        pointer(op->getOperand(0)), dims(in, 0, dim), dims(in, dim, dim + 1),
                        dims(in, dim + 1, rank), log ? "true" : "false")
              .str();
  return success();
}

LogicalResult KernelEmitter::emitMatmul() {
  auto m = singleOp<MatmulOp>();
  if (failed(m))
    return failure();
  MatmulOp op = *m;
  auto rank = [](Value v) { return llvm::cast<RankedTensorType>(v.getType()).getRank(); };
  Value a = topLevel(op.getLhs()), b = topLevel(op.getRhs()), out = kernel.getResult(0);
  body += shapeArray("a_shape", a) + shapeArray("b_shape", b) + shapeArray("out_shape", out);
  body += llvm::formatv("  mmh::matmul({0}, a_shape, {1}, {2}, {3}, b_shape, {4}, {5}, out0, "
                        "out_shape, {6});\n  return 0;\n",
                        pointer(op.getLhs()), rank(a), op.getTransposeLhs() ? "true" : "false",
                        pointer(op.getRhs()), rank(b), op.getTransposeRhs() ? "true" : "false",
                        rank(out))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitLayerNorm() {
  auto n = singleOp<LayerNormOp>();
  if (failed(n))
    return failure();
  LayerNormOp op = *n;
  Value x = topLevel(op.getInput());
  int64_t rank = llvm::cast<RankedTensorType>(x.getType()).getRank();
  body += llvm::formatv("  mmh::layer_norm({0}, {1}, {2}, {3}, {4}, {5}, out0);\n  return 0;\n",
                        pointer(op.getInput()), dims(x, 0, rank - 1), dims(x, rank - 1, rank),
                        floatLiteral(op.getEpsilon().convertToDouble()), pointer(op.getWeight()),
                        pointer(op.getBias()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitScatterAdd() {
  auto sa = singleOp<ScatterAddOp>();
  if (failed(sa))
    return failure();
  ScatterAddOp op = *sa;
  Value dest = topLevel(op.getDest());
  int64_t rank = llvm::cast<RankedTensorType>(dest.getType()).getRank();
  int64_t dim = static_cast<int64_t>(op.getDim());
  if (dim < 0)
    dim += rank;
  int64_t batch = static_cast<int64_t>(op.getBatchDims());
  Value indices = topLevel(op.getIndices());
  body += llvm::formatv(
              "  return mmh::scatter_add(ctx, {0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, out0);\n",
              pointer(op.getDest()), pointer(op.getIndices()), dims(indices, batch, batch + 1),
              pointer(op.getUpdates()), dims(dest, 0, dim), dims(dest, dim, dim + 1),
              dims(dest, dim + 1, rank), dims(dest, batch, dim))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitArgmax() {
  auto am = singleOp<ArgmaxOp>();
  if (failed(am))
    return failure();
  ArgmaxOp op = *am;
  Value in = topLevel(op.getInput());
  int64_t rank = llvm::cast<RankedTensorType>(in.getType()).getRank();
  int64_t dim = static_cast<int64_t>(op.getDim());
  if (dim < 0)
    dim += rank;
  body += llvm::formatv("  mmh::argmax({0}, {1}, {2}, {3}, out0);\n  return 0;\n",
                        pointer(op.getInput()), dims(in, 0, dim), dims(in, dim, dim + 1),
                        dims(in, dim + 1, rank))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitLoss() {
  Operation *op = bodyOps(kernel).size() == 1 ? bodyOps(kernel).front() : nullptr;
  if (!op || !isa<CrossEntropyOp, SigmoidBceOp, PolicyLossOp>(op) ||
      llvm::any_of(op->getOperands(), [&](Value v) { return !topLevel(v); }))
    return fail("expected one mm.cross_entropy, mm.sigmoid_bce or mm.policy_loss of kernel "
                "inputs");
  if (auto pl = dyn_cast<PolicyLossOp>(op)) {
    Value lp = topLevel(pl.getLogprobs());
    bool perToken = llvm::cast<RankedTensorType>(pl.getAdvantages().getType()).getRank() == 2;
    auto optional = [](FloatAttr a) { return a ? a.getValueAsDouble() : 0.0; };
    body += llvm::formatv(
                "  mmh::policy_loss({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9:e17}, "
                "{10:e17}, {11:e17}, {12:e17}, {13:e17}, {14}, out0);\n  return 0;\n",
                pl.getKind() == PolicyLossKind::CISPO ? "true" : "false",
                pointer(pl.getLogprobs()), pointer(pl.getOldLogprobs()),
                pointer(pl.getAdvantages()), perToken ? "true" : "false", pointer(pl.getMask()),
                pl.getNormalizer() ? pointer(pl.getNormalizer()) : std::string("nullptr"),
                dims(lp, 0, 1), dims(lp, 1, 2), pl.getEpsLow().convertToDouble(),
                pl.getEpsHigh().convertToDouble(), pl.getLogRatioClamp().convertToDouble(),
                optional(pl.getRatioCapAttr()), optional(pl.getDualClipAttr()),
                pl.getNormalization() == PolicyLossNormalization::Sequence ? "true" : "false")
                .str();
    return success();
  }
  auto reduction = [](LossReduction r) {
    return std::string("mmh::loss_") + stringifyLossReduction(r).str();
  };
  if (auto ce = dyn_cast<CrossEntropyOp>(op)) {
    Value logits = topLevel(ce.getLogits());
    int64_t rank = llvm::cast<RankedTensorType>(logits.getType()).getRank();
    body += llvm::formatv("  return mmh::cross_entropy(ctx, {0}, {1}, {2}, {3}, int64_t({4}), "
                          "{5}, out0);\n",
                          pointer(ce.getLogits()), dims(logits, 0, rank - 1),
                          dims(logits, rank - 1, rank), pointer(ce.getLabels()),
                          int64_t(ce.getIgnoreIndex()), reduction(ce.getReduction()))
                .str();
    return success();
  }
  auto bce = cast<SigmoidBceOp>(op);
  body += llvm::formatv("  mmh::sigmoid_bce({0}, {1}, {2}, {3}, out0);\n  return 0;\n",
                        pointer(bce.getLogits()), pointer(bce.getLabels()),
                        numel(topLevel(bce.getLogits())), reduction(bce.getReduction()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitAttentionBackward() {
  auto ag = singleOp<AttentionGradOp>(/*partial=*/true);
  if (failed(ag))
    return failure();
  AttentionGradOp op = *ag;
  Value q = topLevel(op.getQuery()), k = topLevel(op.getKey()), v = topLevel(op.getValue());
  int64_t headDim = staticDim(q, 3);
  if (headDim == ShapedType::kDynamic || staticDim(q, 2) == ShapedType::kDynamic ||
      staticDim(k, 2) == ShapedType::kDynamic)
    return fail("head counts and head_dim must be static");
  double scale = op.getScaleOrDefault();
  if (failed(emitQueryStart(op.getQueryStart(), q, k, AttentionGradOp::getOperationName())))
    return failure();
  auto mask = keyMaskPointer(op.getKeyMask());
  if (failed(mask))
    return failure();
  body += llvm::formatv("  mmh::attention_grad({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                        "{10}, {11}, {12}, start, {17}, {13:e17}f, {14}, {15}, {16});\n"
                        "  return 0;\n",
                        pointer(op.getQuery()), pointer(op.getKey()), pointer(op.getValue()),
                        pointer(op.getOutput()), pointer(op.getGradOutput()), dims(q, 0, 1),
                        dims(q, 1, 2), dims(k, 1, 2), dims(q, 2, 3), dims(k, 2, 3), headDim,
                        dims(v, 3, 4), op.getCausal() ? "true" : "false", scale,
                        resultRef(op.getGradQuery()), resultRef(op.getGradKey()),
                        resultRef(op.getGradValue()), *mask)
              .str();
  return success();
}

/// `slopes`, the decay slopes of the kernel's `heads` local heads: `all`, or
/// with a head_index (a rank's block of the heads) their slopes among all
/// `total`, chosen at run time.
void KernelEmitter::emitLightningSlopes(ArrayRef<double> all, int64_t heads, Value headIndex,
                                        int64_t total, StringRef opName) {
  std::string slopeList;
  for (double s : all)
    slopeList += llvm::formatv("{0:e17}, ", s).str();
  if (!headIndex) {
    body += "  static const double slopes[] = {" + slopeList + "};\n";
    return;
  }
  body += "  static const double all_slopes[] = {" + slopeList + "};\n";
  body += llvm::formatv("  double slopes[{0}];\n"
                        "  for (int64_t h = 0; h < {0}; ++h) {{\n"
                        "    const int64_t g = {1}[h];\n"
                        "    if (g < 0 || g >= {2})\n"
                        "      return mmh::fail(ctx, \"{3}: a head_index is outside [0, {2})\");\n"
                        "    slopes[h] = all_slopes[g];\n  }\n",
                        heads, pointer(headIndex), total, opName)
              .str();
}

LogicalResult KernelEmitter::emitLightningBackward() {
  auto lg = singleOp<LightningAttentionGradOp>(/*partial=*/true);
  if (failed(lg))
    return failure();
  LightningAttentionGradOp op = *lg;
  Value q = topLevel(op.getQuery());
  int64_t heads = staticDim(q, 2), headDim = staticDim(q, 3);
  if (heads == ShapedType::kDynamic || headDim == ShapedType::kDynamic ||
      staticDim(topLevel(op.getValue()), 3) != headDim)
    return fail("heads and head_dim must be static, with equal key and value dims");
  emitLightningSlopes(op.getDecaySlopes(), heads, op.getHeadIndex(), op.getSlopeHeads(),
                      LightningAttentionGradOp::getOperationName());
  body += llvm::formatv("  return mmh::lightning_grad(ctx, {0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, "
                        "{8}, {9}, {10}, {11}, slopes, {12}, {13}, {14}, {15});\n",
                        pointer(op.getQuery()), pointer(op.getKey()), pointer(op.getValue()),
                        pointer(op.getGradOutput()), pointer(op.getGradFinalState()),
                        op.getInitialState() ? pointer(op.getInitialState()) : "nullptr",
                        op.getLengths() ? pointer(op.getLengths()) : "nullptr", dims(q, 0, 1),
                        dims(q, 1, 2), heads, headDim, op.getBlockSize(),
                        resultRef(op.getGradQuery()), resultRef(op.getGradKey()),
                        resultRef(op.getGradValue()), resultRef(op.getGradInitialState()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitGroupedGemmWeightGrad() {
  auto wg = singleOp<GroupedMatmulWeightGradOp>();
  if (failed(wg))
    return failure();
  GroupedMatmulWeightGradOp op = *wg;
  Value g = topLevel(op.getGradOutput()), x = topLevel(op.getInput());
  body += llvm::formatv("  return mmh::grouped_gemm_weight_grad(ctx, {0}, {1}, {2}, {3}, {4}, {5}, "
                        "{6}, out0);\n",
                        pointer(op.getGradOutput()), pointer(op.getInput()),
                        pointer(op.getGroupOffsets()), dims(g, 0, 1), op.getType().getDimSize(0),
                        dims(g, 1, 2), dims(x, 1, 2))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitGruBackward() {
  auto gg = singleOp<GruGradOp>(/*partial=*/true); // unread gradients are null
  if (failed(gg))
    return failure();
  GruGradOp op = *gg;
  for (Value w : {op.getWeightIh(), op.getWeightHh(), op.getBiasIh(), op.getBiasHh()})
    if (weightType(argIndex(w)) == "mmh::bf16")
      return fail("the GRU gradient reads float32 weights; this one is stored as bf16");
  Value x = topLevel(op.getInput());
  body += llvm::formatv("  mmh::gru_grad({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, "
                        "{11}, {12}, {13}, {14}, {15}, {16}, {17}, {18});\n  return 0;\n",
                        pointer(op.getInput()), dims(x, 0, 1), dims(x, 1, 2), staticDim(x, 2),
                        staticDim(topLevel(op.getWeightHh()), 1), pointer(op.getWeightIh()),
                        pointer(op.getWeightHh()), pointer(op.getBiasIh()),
                        pointer(op.getBiasHh()), pointer(op.getInitialState()),
                        pointer(op.getSequence()), pointer(op.getGradSequence()),
                        pointer(op.getGradLast()), resultRef(op.getGradInput()),
                        resultRef(op.getGradWeightIh()), resultRef(op.getGradWeightHh()),
                        resultRef(op.getGradBiasIh()), resultRef(op.getGradBiasHh()),
                        resultRef(op.getGradInitialState()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitConvBackward() {
  Operation *only = bodyOps(kernel).size() == 1 ? bodyOps(kernel).front() : nullptr;
  if (isa_and_nonnull<Conv2dGradOp>(only))
    return emitConv2dBackward();
  auto cg = singleOp<Conv1dGradOp>(/*partial=*/true); // an unread gradient is null
  if (failed(cg))
    return failure();
  Conv1dGradOp op = *cg;
  if (weightType(argIndex(op.getWeight())) == "mmh::bf16")
    return fail("the convolution gradient reads float32 weights; this one is stored as bf16");
  Value x = topLevel(op.getInput()), w = topLevel(op.getWeight()),
        g = topLevel(op.getGradOutput());
  body += llvm::formatv("  mmh::conv1d_grad({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                        "{10}, {11}, {12}, {13});\n  return 0;\n",
                        pointer(op.getInput()), dims(x, 0, 1), dims(x, 1, 2), staticDim(x, 2),
                        pointer(op.getWeight()), staticDim(w, 0), staticDim(w, 2),
                        pointer(op.getGradOutput()), dims(g, 1, 2), int64_t(op.getStride()),
                        int64_t(op.getDilation()), op.getPadding()[0],
                        resultRef(op.getGradInput()), resultRef(op.getGradWeight()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitConv2dBackward() {
  auto cg = singleOp<Conv2dGradOp>(/*partial=*/true); // an unread gradient is null
  if (failed(cg))
    return failure();
  Conv2dGradOp op = *cg;
  if (weightType(argIndex(op.getWeight())) == "mmh::bf16")
    return fail("the convolution gradient reads float32 weights; this one is stored as bf16");
  Value x = topLevel(op.getInput()), w = topLevel(op.getWeight()),
        g = topLevel(op.getGradOutput());
  ArrayRef<int64_t> st = op.getStrides(), pad = op.getPadding(), dil = op.getDilation();
  body += llvm::formatv("  mmh::conv2d_grad({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, "
                        "{10}, {11}, {12}, {13}, {14}, {15}, {16}, {17}, {18}, {19});\n"
                        "  return 0;\n",
                        pointer(op.getInput()), dims(x, 0, 1), staticDim(x, 1), staticDim(x, 2),
                        staticDim(x, 3), pointer(op.getWeight()), staticDim(w, 0),
                        staticDim(w, 2), staticDim(w, 3), pointer(op.getGradOutput()),
                        staticDim(g, 2), staticDim(g, 3), st[0], st[1], pad[0], pad[1], dil[0],
                        dil[1], resultRef(op.getGradInput()), resultRef(op.getGradWeight()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitCollective() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  if (ops.size() != 1 || !isExecutableCollective(ops.front()))
    return fail("expected one shard.all_reduce, all_gather, all_slice or reduce_scatter");
  for (Value v : ops.front()->getOperands())
    if (!topLevel(v))
      return fail("the collective's input must be a kernel input");
  llvm::Expected<dist::CollectivePlan> collective = collectivePlan(ops.front());
  if (!collective)
    return fail(llvm::toString(collective.takeError()));
  body += "  return 0; // the runtime runs the collective after this launch\n";
  plan = collective->json();
  return success();
}

LogicalResult KernelEmitter::emitConstant() {
  // (bodyOps leaves out constants: they are operands' values, not work)
  auto c = dyn_cast<arith::ConstantOp>(&kernel.getBody().front().front());
  auto values = c ? llvm::dyn_cast<DenseElementsAttr>(c.getValue()) : DenseElementsAttr();
  if (!values || !values.getType().hasStaticShape() || values.getNumElements() == 0)
    return fail("expected one arith.constant of a static, non-empty dense tensor");
  Type element = values.getElementType();
  std::string list;
  if (element.isInteger(64)) {
    for (const APInt &v : values.getValues<APInt>())
      list += std::to_string(v.getSExtValue()) + ", ";
  } else if (element.isF32()) {
    for (const APFloat &v : values.getValues<APFloat>()) {
      if (v.isNaN())
        return fail("a constant buffer holds a NaN");
      list += floatLiteral(v.convertToDouble()) + ", "; // exact, as kernels' other constants
    }
  } else {
    return fail("constant buffers of i64 or f32 only");
  }
  body += "  static const " + elementType(c.getResult()) + " values[] = {" + list + "};\n";
  body += "  std::memcpy(out0, values, sizeof(values));\n  return 0;\n";
  return success();
}

LogicalResult KernelEmitter::emitLossBackward() {
  auto cg = singleOp<CrossEntropyGradOp>(/*partial=*/true);
  if (failed(cg))
    return failure();
  CrossEntropyGradOp op = *cg;
  Value logits = topLevel(op.getLogits());
  int64_t rank = llvm::cast<RankedTensorType>(logits.getType()).getRank();
  body += llvm::formatv("  return mmh::cross_entropy_grad(ctx, {0}, {1}, {2}, {3}, int64_t({4}), "
                        "mmh::loss_{5}, {6}, out0);\n",
                        pointer(op.getLogits()), dims(logits, 0, rank - 1),
                        dims(logits, rank - 1, rank), pointer(op.getLabels()),
                        int64_t(op.getIgnoreIndex()),
                        stringifyLossReduction(op.getReduction()).str(), operandRef(op.getGradLoss()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitTopK() {
  auto tk = singleOp<TopKOp>();
  if (failed(tk))
    return failure();
  TopKOp op = *tk;
  Value in = topLevel(op.getInput());
  int64_t rank = llvm::cast<RankedTensorType>(in.getType()).getRank();
  body += llvm::formatv("  mmh::top_k({0}, {1}, {2}, int64_t({3}), out0, out1);\n  return 0;\n",
                        pointer(op.getInput()), dims(in, 0, rank - 1), dims(in, rank - 1, rank),
                        int64_t(op.getK()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitConv() {
  Operation *op = bodyOps(kernel).size() == 1 ? bodyOps(kernel).front() : nullptr;
  if (!op || !isa<Conv1dOp, Conv2dOp>(op) ||
      llvm::any_of(op->getOperands(), [&](Value v) { return !topLevel(v); }))
    return fail("expected one mm.conv1d or mm.conv2d of kernel inputs");
  Value out = kernel.getResult(0);
  if (auto c = dyn_cast<Conv2dOp>(op)) {
    Value x = topLevel(c.getInput()), w = topLevel(c.getWeight());
    ArrayRef<int64_t> st = c.getStrides(), pad = c.getPadding(), dil = c.getDilation();
    body += llvm::formatv(
                "  mmh::conv2d({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, "
                "{11}, {12}, {13}, {14}, {15}, {16}, {17}, out0);\n  return 0;\n",
                pointer(c.getInput()), dims(x, 0, 1), staticDim(x, 1), staticDim(x, 2),
                staticDim(x, 3), pointer(c.getWeight()), staticDim(w, 0), staticDim(w, 2),
                staticDim(w, 3), c.getBias() ? pointer(c.getBias()) : "(const float *)nullptr",
                st[0], st[1], pad[0], pad[1], dil[0], dil[1], staticDim(out, 2), staticDim(out, 3))
                .str();
    return success();
  }
  auto c = cast<Conv1dOp>(op);
  Value x = topLevel(c.getInput()), w = topLevel(c.getWeight());
  body += llvm::formatv("  mmh::conv1d({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, "
                        "{11}, out0);\n  return 0;\n",
                        pointer(c.getInput()), dims(x, 0, 1), dims(x, 1, 2), staticDim(x, 2),
                        pointer(c.getWeight()), staticDim(w, 0), staticDim(w, 2),
                        c.getBias() ? pointer(c.getBias()) : "(const float *)nullptr",
                        int64_t(c.getStride()), int64_t(c.getDilation()), c.getPadding()[0],
                        dims(out, 1, 2))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitPool() {
  Operation *only = bodyOps(kernel).size() == 1 ? bodyOps(kernel).front() : nullptr;
  auto op = llvm::dyn_cast_or_null<PoolOp>(only);
  if (!op || llvm::any_of(op->getOperands(), [&](Value v) { return !topLevel(v); }))
    return fail("expected one mm.pool of kernel inputs");
  Value x = topLevel(op.getInput());
  int64_t rank = llvm::cast<RankedTensorType>(x.getType()).getRank();
  int64_t dim = static_cast<int64_t>(op.getDim());
  if (dim < 0)
    dim += rank;
  body += llvm::formatv("  mmh::pool(mmh::pool_{0}, {1}, {2}, {3}, {4}, {5}, out0);\n  return 0;\n",
                        stringifyPoolKind(op.getKind()), pointer(op.getInput()),
                        op.getMask() ? pointer(op.getMask()) : "nullptr", dims(x, 0, dim),
                        dims(x, dim, dim + 1), dims(x, dim + 1, rank))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitRope() {
  auto r = singleOp<RopeOp>();
  if (failed(r))
    return failure();
  RopeOp op = *r;
  Value x = topLevel(op.getInput());
  body += llvm::formatv("  mmh::rope_rows({0}, {1}, {2}, {3}, {4}, int64_t({5}), {6:e17}, out0);\n"
                        "  return 0;\n",
                        pointer(op.getInput()), pointer(op.getPositions()), dims(x, 0, 2),
                        staticDim(x, 2), staticDim(x, 3), int64_t(op.getRotaryDim()),
                        op.getTheta().convertToDouble())
              .str();
  return success();
}

LogicalResult KernelEmitter::emitMergeImageFeatures() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  if (ops.size() == 1 && isa<MergeImageFeaturesGradOp>(ops.front())) { // the features' gradient
    auto g = singleOp<MergeImageFeaturesGradOp>();
    if (failed(g))
      return failure();
    Value rows = topLevel(g->getGradOutput()), f = topLevel(g->getImageFeatures());
    body += llvm::formatv("  return mmh::merge_image_features_grad(ctx, {0}, {1}, {2}, {3}, {4}, "
                          "int64_t({5}), out0);\n",
                          pointer(g->getGradOutput()), pointer(g->getIds()), dims(rows, 0, 2),
                          staticDim(rows, 2), dims(f, 0, 1), int64_t(g->getImageTokenId()))
                .str();
    return success();
  }
  auto m = singleOp<MergeImageFeaturesOp>();
  if (failed(m))
    return failure();
  MergeImageFeaturesOp op = *m;
  Value e = topLevel(op.getEmbeddings()), f = topLevel(op.getImageFeatures());
  body += llvm::formatv("  return mmh::merge_image_features(ctx, {0}, {1}, {2}, {3}, {4}, {5}, "
                        "int64_t({6}), out0);\n",
                        pointer(op.getEmbeddings()), pointer(op.getIds()), dims(e, 0, 2),
                        staticDim(e, 2), pointer(op.getImageFeatures()), dims(f, 0, 1),
                        int64_t(op.getImageTokenId()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitGru() {
  auto g = singleOp<GruOp>(/*partial=*/true); // an unread result is null
  if (failed(g))
    return failure();
  GruOp op = *g;
  Value x = topLevel(op.getInput());
  int64_t hidden = staticDim(topLevel(op.getWeightHh()), 1);
  if (weightType(argIndex(op.getWeightIh())) != weightType(argIndex(op.getWeightHh())) ||
      weightType(argIndex(op.getWeightIh())) != weightType(argIndex(op.getBiasIh())) ||
      weightType(argIndex(op.getWeightIh())) != weightType(argIndex(op.getBiasHh())))
    return fail("the GRU weights and biases must share one storage type");
  body += llvm::formatv("  mmh::gru({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, {10}, "
                        "{11});\n  return 0;\n",
                        pointer(op.getInput()), dims(x, 0, 1), dims(x, 1, 2), staticDim(x, 2),
                        pointer(op.getWeightIh()), pointer(op.getWeightHh()),
                        pointer(op.getBiasIh()), pointer(op.getBiasHh()),
                        op.getInitialState() ? pointer(op.getInitialState()) : "nullptr", hidden,
                        resultRef(op.getSequence()), resultRef(op.getLastState()))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitTargetAttention() {
  auto t = singleOp<TargetAttentionOp>();
  if (failed(t))
    return failure();
  TargetAttentionOp op = *t;
  Value seq = topLevel(op.getSequence());
  int64_t D = staticDim(seq, 2);
  double scale = op.getScaleOrDefault();
  body += llvm::formatv("  mmh::target_attention({0}, {1}, {2}, {3}, {4}, {5}, {6}, out0);\n"
                        "  return 0;\n",
                        pointer(op.getSequence()), pointer(op.getTarget()),
                        op.getMask() ? pointer(op.getMask()) : "nullptr", dims(seq, 0, 1),
                        dims(seq, 1, 2), D, floatLiteral(scale))
              .str();
  return success();
}

LogicalResult KernelEmitter::emitHadamard() {
  auto h = singleOp<HadamardInteractionOp>();
  if (failed(h))
    return failure();
  HadamardInteractionOp op = *h;
  Value f = topLevel(op.getFields());
  std::string members, starts;
  HadamardGroups groups = hadamardGroups(op);
  for (int64_t m : groups.members)
    members += std::to_string(m) + ", ";
  for (int64_t at : groups.starts)
    starts += std::to_string(at) + ", ";
  body += "  static const int64_t members[] = {" + members + "0};\n";
  body += "  static const int64_t starts[] = {" + starts + "0};\n";
  body += llvm::formatv("  mmh::hadamard_interaction({0}, {1}, {2}, {3}, members, starts, {4}, "
                        "out0);\n  return 0;\n",
                        pointer(op.getFields()), dims(f, 0, 1), staticDim(f, 1), staticDim(f, 2),
                        op.getGroups().size())
              .str();
  return success();
}

FailureOr<GeneratedKernel> KernelEmitter::emit() {
  LogicalResult ok = [&] {
    switch (kernel.getKind()) {
    case KernelKind::Elementwise:
      return emitElementwiseKernel();
    case KernelKind::Gemm:
      return emitGemm();
    case KernelKind::Norm:
      return emitNorm();
    case KernelKind::Attention:
      return emitAttention();
    case KernelKind::Lightning:
      return emitLightning();
    case KernelKind::MoeRouter:
      return emitRouter();
    case KernelKind::MoeDispatch:
      return emitDispatch();
    case KernelKind::GroupedGemm:
      return emitGroupedGemm();
    case KernelKind::GroupedGemmSwiglu:
      return emitGroupedSwiglu();
    case KernelKind::MoeCombine:
      return emitCombine();
    case KernelKind::Embedding:
      return emitEmbedding();
    case KernelKind::Gather:
      return emitGather();
    case KernelKind::Copy:
      return emitCopy();
    case KernelKind::Reduce:
      return emitReduce();
    case KernelKind::Softmax:
      return emitSoftmax();
    case KernelKind::Matmul:
      return emitMatmul();
    case KernelKind::LayerNorm:
      return emitLayerNorm();
    case KernelKind::ScatterAdd:
      return emitScatterAdd();
    case KernelKind::Argmax:
      return emitArgmax();
    case KernelKind::Loss:
      return emitLoss();
    case KernelKind::TopK:
      return emitTopK();
    case KernelKind::Conv:
      return emitConv();
    case KernelKind::Pool:
      return emitPool();
    case KernelKind::Rope:
      return emitRope();
    case KernelKind::MergeImageFeatures:
      return emitMergeImageFeatures();
    case KernelKind::Gru:
      return emitGru();
    case KernelKind::TargetAttention:
      return emitTargetAttention();
    case KernelKind::HadamardInteraction:
      return emitHadamard();
    case KernelKind::AttentionBackward:
      return emitAttentionBackward();
    case KernelKind::LightningBackward:
      return emitLightningBackward();
    case KernelKind::GroupedGemmWeightGrad:
      return emitGroupedGemmWeightGrad();
    case KernelKind::LossBackward:
      return emitLossBackward();
    case KernelKind::GruBackward:
      return emitGruBackward();
    case KernelKind::ConvBackward:
      return emitConvBackward();
    case KernelKind::AllReduce:
    case KernelKind::AllGather:
    case KernelKind::AllSlice:
    case KernelKind::ReduceScatter:
      return emitCollective();
    case KernelKind::Constant:
      return emitConstant();
    }
    return fail("no host generator");
  }();
  if (failed(ok))
    return failure();
  // Typed operand pointers: inputs const, results writable (in-place results
  // use the input's pointer).
  std::string decls;
  for (auto [i, v] : llvm::enumerate(kernel.getInputs())) {
    std::string type = weightType(i);
    if (type == "mmh::q8_rows") { // a view of int8 rows and their scales
      auto shape = llvm::cast<RankedTensorType>(v.getType()).getShape();
      int64_t K = shape.back();
      decls += llvm::formatv(
                   "  const mmh::q8_rows in{0}(ctx->operands[{0}], {1}, {2});\n", i,
                   K == 0 ? 0 : llvm::cast<RankedTensorType>(v.getType()).getNumElements() / K, K)
                   .str();
      continue;
    }
    if (type.empty())
      type = elementType(v);
    bool written = false;
    if (auto inPlace = kernel.getInPlace())
      written = llvm::is_contained(*inPlace, int64_t(i));
    decls += llvm::formatv("  {0}{1} *{2} = static_cast<{0}{1} *>(ctx->operands[{3}]);\n",
                           written ? "" : "const ", type, "in" + std::to_string(i), i)
                 .str();
  }
  for (auto [i, v] : llvm::enumerate(kernel.getResults()))
    decls += llvm::formatv("  {0} *{1} = static_cast<{0} *>(ctx->operands[{2}]);\n", elementType(v),
                           outputName(i), kernel.getInputs().size() + i)
                 .str();
  std::string symbols;
  for (auto [i, s] : llvm::enumerate(shapes.symbols()))
    symbols +=
        llvm::formatv("  [[maybe_unused]] const int64_t {0} = ctx->symbols[{1}];\n", s, i).str();
  GeneratedKernel g;
  g.name = name;
  g.plan = plan;
  g.kind = stringifyKernelKind(kernel.getKind()).str();
  g.location = locationOf(kernel);
  g.code = "// " + g.kind + " at " + g.location + "\nextern \"C\" int " + name +
           "(const mm_kernel_ctx *ctx) {\n" + symbols + decls + body;
  // Every template call that can fail is returned; the others fall through.
  if (llvm::StringRef(body).rtrim().rsplit('\n').second.ltrim().starts_with("return ") == false)
    g.code += "  return 0;\n";
  g.code += "}\n";
  return g;
}

} // namespace

FailureOr<HostProgram> generateHostProgram(func::FuncOp fn, const SymbolicShapes &shapes,
                                           const WeightTypes &weightTypes) {
  HostProgram program;
  size_t index = 0;
  for (Operation &op : fn.getBody().front()) {
    auto kernel = dyn_cast<KernelOp>(op);
    if (!kernel)
      continue;
    auto g = KernelEmitter(kernel, index++, shapes, weightTypes).emit();
    if (failed(g))
      return failure();
    program.kernels.push_back(std::move(*g));
  }
  return program;
}

} // namespace mm
