//===- CudaBackwardKinds.cpp - cross-entropy, grouped-weight, conv, attention grads -===//
//
// CUDA generators of the backward kinds over kernels/backward.cuh. A gradient
// nothing reads is not a kernel result: its pointer is null and nothing
// writes it.
//
//===----------------------------------------------------------------------===//
#include "codegen/CudaEmitter.h"

#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;

namespace mm::cudaemit {

namespace {
constexpr int kRowThreads = 256; // a power of two: the double block sums are trees
}

std::string CudaEmitter::resultOrNull(Value v) const {
  std::optional<unsigned> i = resultIndexOf(v);
  return i ? "out" + std::to_string(*i) : std::string("nullptr");
}

LogicalResult CudaEmitter::emitLossBackward() {
  Operation *only = bodyOps(kernel).size() == 1 ? bodyOps(kernel).front() : nullptr;
  auto ce = dyn_cast_or_null<CrossEntropyGradOp>(only);
  if (!ce || !topLevel(ce.getLogits()) || !topLevel(ce.getLabels()))
    return fail("expected one mm.cross_entropy_grad of kernel inputs");
  // The incoming gradient: an input, or a constant the kernel cloned (the
  // seed 1 of a loss differentiated alone), read at stride 0.
  std::string grad = "nullptr", gradDecl = "";
  int64_t gradStride = 1;
  DenseElementsAttr seed;
  if (topLevel(ce.getGradLoss())) {
    grad = pointer(ce.getGradLoss());
  } else if (matchPattern(ce.getGradLoss(), m_Constant(&seed)) && seed.isSplat()) {
    gradDecl =
        "  const float seed = " + floatLiteral(seed.getSplatValue<APFloat>().convertToDouble()) +
        ";\n";
    grad = "&seed";
    gradStride = 0;
  } else {
    return fail("the gradient of mm.cross_entropy_grad must be a kernel input or a splat "
                "constant");
  }
  Value logits = topLevel(ce.getLogits());
  const int64_t rank = llvm::cast<RankedTensorType>(logits.getType()).getRank();
  const int reduction = ce.getReduction() == LossReduction::None  ? 0
                        : ce.getReduction() == LossReduction::Sum ? 1
                                                                  : 2;
  const std::string ignore = "(mm_i64)" + std::to_string(int64_t(ce.getIgnoreIndex()));
  Int rows = launch.let(span(logits, 0, unsigned(rank - 1))),
      classes = dimOf(logits, unsigned(rank - 1));
  unsigned count = launch.scratch(ScratchSlot::RowStatistics, int64_t(sizeof(double)));
  exe::DevicePointer countPointer = cudagen::scratchPointer(count);
  code += wrapper("count", "mm_i64 rows, mm_i64 classes, double *count, int *error") +
          llvm::formatv("  mm_count_labels_kernel<{0}>({1}, rows, classes, {2}, count, "
                        "error);\n}\n",
                        kRowThreads, pointer(ce.getLabels()), ignore)
              .str();
  code += wrapper("grad", "mm_i64 rows, mm_i64 classes, const double *count, const int *error") +
          gradDecl +
          llvm::formatv("  mm_cross_entropy_grad_kernel<{0}, {1}>({2}, {3}, rows, classes, {4}, "
                        "{5}, (mm_i64){6}, count, out0, error);\n}\n",
                        kRowThreads, reduction, pointer(ce.getLogits()), pointer(ce.getLabels()),
                        ignore, grad, gradStride)
              .str();
  launch.kernel("count", shapes::rows(1, kRowThreads),
                {Arg::i64(rows), Arg::i64(classes), Arg::pointer(countPointer), Arg::errorFlag()});
  launch.kernel("grad", shapes::rows(rows, kRowThreads),
                {Arg::i64(rows), Arg::i64(classes), Arg::pointer(countPointer), Arg::errorFlag()},
                cudagen::le(1, rows));
  return success();
}

LogicalResult CudaEmitter::emitGroupedGemmWeightGrad() {
  auto wg = dyn_cast_or_null<GroupedMatmulWeightGradOp>(singleOpOnInputs());
  if (!wg)
    return fail("expected one mm.grouped_matmul_weight_grad of kernel inputs");
  Value g = topLevel(wg.getGradOutput()), x = topLevel(wg.getInput());
  const int64_t E = wg.getType().getDimSize(0);
  code += wrapper("weight_grad", "mm_i64 rows, mm_i64 N, mm_i64 K, int *error") +
          llvm::formatv("  mm_grouped_weight_grad_kernel({0}, {1}, {2}, out0, rows, {3}, N, K, "
                        "error);\n}\n",
                        pointer(wg.getGradOutput()), pointer(wg.getInput()),
                        pointer(wg.getGroupOffsets()), E)
              .str();
  Int N = dimOf(g, 1), K = dimOf(x, 1);
  Int count = launch.let(N * K * E);
  launch.kernel("weight_grad", shapes::elementwise(count),
                {Arg::i64(dimOf(g, 0)), Arg::i64(N), Arg::i64(K), Arg::errorFlag()},
                cudagen::le(1, count));
  return success();
}

LogicalResult CudaEmitter::emitConvBackward() {
  Operation *op = singleOpOnInputs();
  if (!op || !isa<Conv1dGradOp, Conv2dGradOp>(op))
    return fail("expected one mm.conv1d_grad or mm.conv2d_grad of kernel inputs");
  for (Value v : op->getOperands())
    if (failed(requireF32Storage(v, "a convolution gradient operand")))
      return failure();
  if (auto c = dyn_cast<Conv2dGradOp>(op)) {
    Value x = topLevel(c.getInput()), w = topLevel(c.getWeight()), g = topLevel(c.getGradOutput());
    ArrayRef<int64_t> st = c.getStrides(), pad = c.getPadding(), dil = c.getDilation();
    code += wrapper("conv_grad", "mm_i64 N") +
            llvm::formatv("  mm_conv2d_grad_kernel<{0}, {1}, {2}, {3}>({4}, {5}, {6}, {7}, {8}, "
                          "N, {9}, {10}, {11}, {12}, {13}, {14}, {15}, {16}, {17}, {18});\n}\n",
                          staticDim(x, 1), staticDim(w, 0), staticDim(w, 2), staticDim(w, 3),
                          pointer(c.getInput()), pointer(c.getWeight()), pointer(c.getGradOutput()),
                          resultOrNull(c.getGradInput()), resultOrNull(c.getGradWeight()),
                          staticDim(x, 2), staticDim(x, 3), staticDim(g, 2), staticDim(g, 3), st[0],
                          st[1], pad[0], pad[1], dil[0], dil[1])
                .str();
    Int N = launch.let(dimOf(x, 0));
    Int count = launch.let(
        cudagen::max(N * (staticDim(x, 1) * staticDim(x, 2) * staticDim(x, 3)),
                     staticDim(w, 0) * staticDim(w, 1) * staticDim(w, 2) * staticDim(w, 3)));
    launch.kernel("conv_grad", shapes::elementwise(count), {Arg::i64(N)}, cudagen::le(1, count));
    return success();
  }
  auto c = cast<Conv1dGradOp>(op);
  Value x = topLevel(c.getInput()), w = topLevel(c.getWeight()), g = topLevel(c.getGradOutput());
  code += wrapper("conv_grad", "mm_i64 N, mm_i64 L, mm_i64 Lo") +
          llvm::formatv("  mm_conv1d_grad_kernel<{0}, {1}, {2}>({3}, {4}, {5}, {6}, {7}, N, L, "
                        "Lo, {8}, {9}, {10});\n}\n",
                        staticDim(x, 2), staticDim(w, 0), staticDim(w, 2), pointer(c.getInput()),
                        pointer(c.getWeight()), pointer(c.getGradOutput()),
                        resultOrNull(c.getGradInput()), resultOrNull(c.getGradWeight()),
                        int64_t(c.getStride()), int64_t(c.getDilation()), c.getPadding()[0])
              .str();
  Int N = dimOf(x, 0), L = dimOf(x, 1);
  Int count = launch.let(
      cudagen::max(N * L * staticDim(x, 2), staticDim(w, 0) * staticDim(w, 1) * staticDim(w, 2)));
  launch.kernel("conv_grad", shapes::elementwise(count),
                {Arg::i64(N), Arg::i64(L), Arg::i64(dimOf(g, 1))}, cudagen::le(1, count));
  return success();
}

LogicalResult CudaEmitter::emitAttentionBackward() {
  Operation *only = bodyOps(kernel).size() == 1 ? bodyOps(kernel).front() : nullptr;
  auto ag = dyn_cast_or_null<AttentionGradOp>(only);
  if (!ag)
    return fail("expected one mm.attention_grad");
  for (Value v : {ag.getQuery(), ag.getKey(), ag.getValue(), ag.getOutput(), ag.getGradOutput()})
    if (!topLevel(v))
      return fail("attention_grad operands must be kernel inputs");
  Value q = topLevel(ag.getQuery()), k = topLevel(ag.getKey()), v = topLevel(ag.getValue());
  const int64_t HQ = staticDim(q, 2), HKV = staticDim(k, 2), D = staticDim(q, 3),
                DV = staticDim(v, 3);
  const double scale = ag.getScaleOrDefault();
  auto from = queryStartCode(ag.getQueryStart());
  if (failed(from))
    return failure();
  const std::string start = from->pointer, constantStart = from->declaration;
  auto mask = keyMaskPointer(ag.getKeyMask());
  if (failed(mask) || (ag.getKeyMask() && failed(requireF32Storage(ag.getKeyMask(), "key_mask"))))
    return failure();
  const std::string templ = llvm::formatv("<{0}, {1}, {2}, {3}>", HQ, HKV, D, DV).str();
  const std::string tail = llvm::formatv("B, Tq, Tk, {0}, {1}, {2}, {3}", start, *mask,
                                         ag.getCausal() ? 1 : 0, floatLiteral(scale))
                               .str();
  const std::string qkv = pointer(ag.getQuery()) + ", " + pointer(ag.getKey()) + ", ";
  const std::string sizes = "mm_i64 B, mm_i64 Tq, mm_i64 Tk";
  code += wrapper("stats", "double *stats, " + sizes + ", int *error") + constantStart +
          "  mm_attention_grad_stats_kernel" + templ + "(" + qkv + pointer(ag.getOutput()) + ", " +
          pointer(ag.getGradOutput()) + ", stats, " + tail + ", error);\n}\n";
  code += wrapper("dq", "const double *stats, " + sizes) + constantStart +
          "  mm_attention_grad_dq_kernel" + templ + "(" + qkv + pointer(ag.getValue()) + ", " +
          pointer(ag.getGradOutput()) + ", stats, " + resultOrNull(ag.getGradQuery()) + ", " +
          tail + ");\n}\n";
  code += wrapper("dkv", "const double *stats, " + sizes) + constantStart +
          "  mm_attention_grad_dkv_kernel" + templ + "(" + qkv + pointer(ag.getValue()) + ", " +
          pointer(ag.getGradOutput()) + ", stats, " + resultOrNull(ag.getGradKey()) + ", " +
          resultOrNull(ag.getGradValue()) + ", " + tail + ");\n}\n";
  Int B = dimOf(q, 0), Tq = dimOf(q, 1), Tk = dimOf(k, 1);
  Int rows = launch.let(B * Tq * HQ), keys = launch.let(B * Tk * HKV);
  unsigned stats = launch.scratch(ScratchSlot::RowStatistics, rows * int64_t(3 * sizeof(double)));
  Arg statsArg = Arg::pointer(cudagen::scratchPointer(stats));
  launch.kernel("stats", shapes::elementwise(rows),
                {statsArg, Arg::i64(B), Arg::i64(Tq), Arg::i64(Tk), Arg::errorFlag()},
                cudagen::le(1, rows));
  if (resultIndexOf(ag.getGradQuery()))
    launch.kernel("dq", shapes::elementwise(rows),
                  {statsArg, Arg::i64(B), Arg::i64(Tq), Arg::i64(Tk)}, cudagen::le(1, rows));
  if (resultIndexOf(ag.getGradKey()) || resultIndexOf(ag.getGradValue()))
    launch.kernel("dkv", shapes::elementwise(keys),
                  {statsArg, Arg::i64(B), Arg::i64(Tq), Arg::i64(Tk)}, cudagen::le(1, keys));
  return success();
}

LogicalResult CudaEmitter::emitGruBackward() {
  auto gg = dyn_cast_or_null<GruGradOp>(singleOpOnInputs());
  if (!gg)
    return fail("expected one mm.gru_grad of kernel inputs");
  for (Value v : gg->getOperands())
    if (failed(requireF32Storage(v, "a GRU gradient operand")))
      return failure();
  Value x = topLevel(gg.getInput());
  const int64_t hidden = staticDim(topLevel(gg.getWeightHh()), 1), I = staticDim(x, 2);
  if (hidden > 1024)
    return fail(llvm::formatv("hidden size {0}: the CUDA GRU gradient runs a sequence in one "
                              "thread block (at most 1024)",
                              hidden)
                    .str());
  const int threads = int((hidden + 31) / 32 * 32);
  const std::string in = pointer(gg.getInput()) + ", " + pointer(gg.getWeightIh()) + ", " +
                         pointer(gg.getWeightHh()) + ", " + pointer(gg.getBiasIh()) + ", " +
                         pointer(gg.getBiasHh()) + ", " + pointer(gg.getInitialState()) + ", " +
                         pointer(gg.getSequence()) + ", " + pointer(gg.getGradSequence()) + ", " +
                         pointer(gg.getGradLast());
  code += wrapper("time", "float *dGi, float *dGh, mm_i64 B, mm_i64 T") +
          llvm::formatv("  mm_gru_grad_time_kernel<{0}, {1}>({2}, dGi, dGh, {3}, {4}, B, T, "
                        "{5});\n}\n",
                        hidden, threads, in, resultOrNull(gg.getGradInput()),
                        resultOrNull(gg.getGradInitialState()), I)
              .str();
  code += wrapper("weights", "const float *dGi, const float *dGh, mm_i64 B, mm_i64 T") +
          llvm::formatv("  mm_gru_grad_weights_kernel<{0}>({1}, {2}, {3}, dGi, dGh, {4}, {5}, {6}, "
                        "{7}, B, T, {8});\n}\n",
                        hidden, pointer(gg.getInput()), pointer(gg.getInitialState()),
                        pointer(gg.getSequence()), resultOrNull(gg.getGradWeightIh()),
                        resultOrNull(gg.getGradWeightHh()), resultOrNull(gg.getGradBiasIh()),
                        resultOrNull(gg.getGradBiasHh()), I)
              .str();
  Int B = launch.let(dimOf(x, 0)), T = dimOf(x, 1);
  Int gateBytes = launch.let(B * T * (3 * hidden * int64_t(sizeof(float))));
  unsigned gates = launch.scratch(ScratchSlot::GruGates, gateBytes * 2);
  Arg dGi = Arg::pointer(cudagen::scratchPointer(gates)),
      dGh = Arg::pointer(cudagen::scratchPointer(gates, gateBytes));
  Int any = cudagen::both(cudagen::le(1, B), cudagen::le(1, T));
  launch.kernel("time", shapes::rows(B, threads), {dGi, dGh, Arg::i64(B), Arg::i64(T)}, any);
  // (Always: with no steps the weight gradients are zeros.)
  launch.kernel("weights", shapes::elementwise(3 * hidden * (I + hidden + 2)),
                {dGi, dGh, Arg::i64(B), Arg::i64(T)});
  return success();
}

LogicalResult CudaEmitter::emitLightningBackward() {
  auto lg = dyn_cast_or_null<LightningAttentionGradOp>(singleOpOnInputs());
  if (!lg)
    return fail("expected one mm.lightning_attention_grad of kernel inputs");
  Value q = topLevel(lg.getQuery());
  const int64_t H = staticDim(q, 2), D = staticDim(q, 3);
  if (staticDim(topLevel(lg.getValue()), 3) != D)
    return fail("mm.lightning_attention_grad needs equal key and value head dims");
  const int64_t BS = int64_t(lg.getBlockSize());
  Arg slopes = lightningSlopes(lg.getDecaySlopes(), H, lg.getHeadIndex());
  const int threads = 256;
  code += wrapper("grad", "const float *slopes, float *work, mm_i64 B, mm_i64 T, int *error") +
          llvm::formatv("  mm_lightning_grad_kernel<{0}, {1}, {2}, {3}>({4}, {5}, {6}, {7}, {8}, "
                        "{9}, {10}, slopes, work, {11}, {12}, {13}, {14}, B, T, error);\n}\n",
                        H, D, BS, threads, pointer(lg.getQuery()), pointer(lg.getKey()),
                        pointer(lg.getValue()), pointer(lg.getGradOutput()),
                        pointer(lg.getGradFinalState()),
                        lg.getInitialState() ? pointer(lg.getInitialState()) : "nullptr",
                        lg.getLengths() ? pointer(lg.getLengths()) : "nullptr",
                        resultOrNull(lg.getGradQuery()), resultOrNull(lg.getGradKey()),
                        resultOrNull(lg.getGradValue()), resultOrNull(lg.getGradInitialState()))
              .str();
  Int B = launch.let(dimOf(q, 0)), T = dimOf(q, 1);
  Int heads = launch.let(B * H);
  unsigned work = launch.scratch(ScratchSlot::LightningWorkspace,
                                 heads * (cudagen::ceilDiv(T, BS) + 1) * (D * D * 4));
  launch.kernel("grad", shapes::rows(heads, threads),
                {slopes, Arg::pointer(cudagen::scratchPointer(work)), Arg::i64(B), Arg::i64(T),
                 Arg::errorFlag()},
                cudagen::le(1, heads));
  return success();
}

} // namespace mm::cudaemit
