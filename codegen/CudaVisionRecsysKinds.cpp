//===- CudaVisionRecsysKinds.cpp - convolutions, image merge, pooling, GRU, ... -===//
//
// CUDA generators of the vision (kernels/vision.cuh) and recommender
// (kernels/recsys.cuh) kinds. Model dims (channels, kernel sizes, hidden and
// embedding widths) are template constants; batch and lengths are arguments.
//
//===----------------------------------------------------------------------===//
#include "codegen/CudaEmitter.h"

using namespace mlir;

namespace mm::cudaemit {

LogicalResult CudaEmitter::emitConv() {
  Operation *op = singleOpOnInputs();
  if (!op || !isa<Conv1dOp, Conv2dOp>(op))
    return fail("expected one mm.conv1d or mm.conv2d of kernel inputs");
  if (failed(requireF32Storage(op->getOperand(0), "a convolution input")))
    return failure();
  Value out = kernel.getResult(0);
  auto biasOf = [&](Value bias) {
    return bias ? pointer(bias) : std::string("(const float *)nullptr");
  };
  if (auto c = dyn_cast<Conv2dOp>(op)) {
    Value x = topLevel(c.getInput()), w = topLevel(c.getWeight());
    ArrayRef<int64_t> st = c.getStrides(), pad = c.getPadding(), dil = c.getDilation();
    code += wrapper("conv", "mm_i64 N") +
            llvm::formatv("  mm_conv2d_kernel<{0}, {1}, {2}, {3}>({4}, {5}, {6}, out0, N, {7}, "
                          "{8}, {9}, {10}, {11}, {12}, {13}, {14}, {15}, {16});\n}\n",
                          staticDim(x, 1), staticDim(w, 0), staticDim(w, 2), staticDim(w, 3),
                          pointer(c.getInput()), pointer(c.getWeight()), biasOf(c.getBias()),
                          staticDim(x, 2), staticDim(x, 3), staticDim(out, 2), staticDim(out, 3),
                          st[0], st[1], pad[0], pad[1], dil[0], dil[1])
                .str();
    Int N = launch.let(dimOf(x, 0));
    Int count = launch.let(cudagen::numel(resultOperand(0)));
    launch.kernel("conv", shapes::elementwise(count), {Arg::i64(N)}, cudagen::le(1, count));
    return success();
  }
  auto c = cast<Conv1dOp>(op);
  Value x = topLevel(c.getInput()), w = topLevel(c.getWeight());
  code += wrapper("conv", "mm_i64 N, mm_i64 L, mm_i64 Lo") +
          llvm::formatv("  mm_conv1d_kernel<{0}, {1}, {2}>({3}, {4}, {5}, out0, N, L, Lo, {6}, "
                        "{7}, {8});\n}\n",
                        staticDim(x, 2), staticDim(w, 0), staticDim(w, 2), pointer(c.getInput()),
                        pointer(c.getWeight()), biasOf(c.getBias()), int64_t(c.getStride()),
                        int64_t(c.getDilation()), c.getPadding()[0])
              .str();
  Int count = launch.let(cudagen::numel(resultOperand(0)));
  launch.kernel("conv", shapes::elementwise(count),
                {Arg::i64(dimOf(x, 0)), Arg::i64(dimOf(x, 1)), Arg::i64(dimOf(out, 1))},
                cudagen::le(1, count));
  return success();
}

LogicalResult CudaEmitter::emitPool() {
  auto p = dyn_cast_or_null<PoolOp>(singleOpOnInputs());
  if (!p)
    return fail("expected one mm.pool of kernel inputs");
  if (failed(requireF32Storage(p.getInput(), "a pool input")))
    return failure();
  Value x = topLevel(p.getInput());
  const int64_t rank = llvm::cast<RankedTensorType>(x.getType()).getRank();
  const int64_t dim = normalizedDim(static_cast<int64_t>(p.getDim()), rank);
  const int kind = p.getKind() == PoolKind::Sum ? 0 : p.getKind() == PoolKind::Mean ? 1 : 2;
  Int outer = launch.let(span(x, 0, unsigned(dim))), len = dimOf(x, unsigned(dim)),
      inner = span(x, unsigned(dim + 1), unsigned(rank));
  code += wrapper("pool", "mm_i64 outer, mm_i64 len, mm_i64 inner") +
          llvm::formatv("  mm_pool_kernel<{0}>({1}, {2}, out0, outer, len, inner);\n}\n", kind,
                        pointer(p.getInput()), p.getMask() ? pointer(p.getMask()) : "nullptr")
              .str();
  Int lanes = launch.let(outer * inner);
  launch.kernel("pool", shapes::elementwise(lanes),
                {Arg::i64(outer), Arg::i64(len), Arg::i64(inner)}, cudagen::le(1, lanes));
  return success();
}

LogicalResult CudaEmitter::emitMergeImageFeatures() {
  Operation *op = singleOpOnInputs();
  if (!op || !isa<MergeImageFeaturesOp, MergeImageFeaturesGradOp>(op))
    return fail("expected one mm.merge_image_features(_grad) of kernel inputs");
  const bool grad = isa<MergeImageFeaturesGradOp>(op);
  auto gradOp = dyn_cast<MergeImageFeaturesGradOp>(op);
  auto mergeOp = dyn_cast<MergeImageFeaturesOp>(op);
  // Text rows [rows, D] (the embeddings, or the incoming gradient), their ids,
  // and the image feature rows [features, D].
  Value textRows = grad ? gradOp.getGradOutput() : mergeOp.getEmbeddings();
  Value ids = grad ? gradOp.getIds() : mergeOp.getIds();
  Value featureRows = grad ? gradOp.getImageFeatures() : mergeOp.getImageFeatures();
  Value text = topLevel(textRows);
  const int64_t token =
      grad ? int64_t(gradOp.getImageTokenId()) : int64_t(mergeOp.getImageTokenId());
  const int64_t D = staticDim(text, 2);
  Int rows = launch.let(span(text, 0, 2)), features = dimOf(topLevel(featureRows), 0);
  unsigned source = launch.scratch(ScratchSlot::ImageRows, rows * int64_t(sizeof(int64_t)));
  code += wrapper("image_rows", "mm_i64 rows, mm_i64 features, mm_i64 *source, int *error") +
          llvm::formatv("  mm_image_rows_kernel({0}, rows, features, (mm_i64){1}, source, "
                        "error);\n}\n",
                        pointer(ids), token)
              .str();
  code += wrapper("merge", "mm_i64 rows, const mm_i64 *source, const int *error") +
          llvm::formatv("  mm_merge_image_features_kernel<{0}>({1}, {2}, source, out0, rows, {3}, "
                        "error);\n}\n",
                        grad ? "true" : "false", pointer(textRows),
                        grad ? "nullptr" : pointer(featureRows), D)
              .str();
  exe::DevicePointer rowsOf = cudagen::scratchPointer(source);
  launch.kernel("image_rows", shapes::rows(1, 32),
                {Arg::i64(rows), Arg::i64(features), Arg::pointer(rowsOf), Arg::errorFlag()});
  Int count = launch.let(rows * D);
  launch.kernel("merge", shapes::elementwise(count),
                {Arg::i64(rows), Arg::pointer(rowsOf), Arg::errorFlag()}, cudagen::le(1, count));
  return success();
}

LogicalResult CudaEmitter::emitGru() {
  auto g = dyn_cast_or_null<GruOp>(singleOpOnInputs());
  if (!g)
    return fail("expected one mm.gru of kernel inputs");
  const std::string storage = storageOf(argIndex(g.getWeightIh()));
  for (Value w : {g.getWeightHh(), g.getBiasIh(), g.getBiasHh()})
    if (storageOf(argIndex(w)) != storage)
      return fail("the GRU weights and biases must share one storage type");
  if (storage == "int8")
    return fail("int8 GRU weights have no CUDA template");
  Value x = topLevel(g.getInput());
  const int64_t hidden = staticDim(topLevel(g.getWeightHh()), 1);
  if (hidden > 1024)
    return fail(llvm::formatv("hidden size {0}: the CUDA GRU holds a sequence's state in one "
                              "thread block (at most 1024)",
                              hidden)
                    .str());
  const int threads = int((hidden + 31) / 32 * 32);
  code +=
      wrapper("gru", "mm_i64 B, mm_i64 T") +
      llvm::formatv("  mm_gru_kernel<{0}, {1}>({2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, B, T, "
                    "{10});\n}\n",
                    hidden, threads, pointer(g.getInput()), pointer(g.getWeightIh()),
                    pointer(g.getWeightHh()), pointer(g.getBiasIh()), pointer(g.getBiasHh()),
                    g.getInitialState() ? pointer(g.getInitialState()) : "nullptr",
                    resultOrNull(g.getSequence()), resultOrNull(g.getLastState()), staticDim(x, 2))
          .str();
  Int B = launch.let(dimOf(x, 0));
  launch.kernel("gru", shapes::rows(B, threads), {Arg::i64(B), Arg::i64(dimOf(x, 1))},
                cudagen::le(1, B));
  return success();
}

LogicalResult CudaEmitter::emitTargetAttention() {
  auto t = dyn_cast_or_null<TargetAttentionOp>(singleOpOnInputs());
  if (!t)
    return fail("expected one mm.target_attention of kernel inputs");
  Value seq = topLevel(t.getSequence());
  const int64_t D = staticDim(seq, 2);
  const double scale = t.getScaleOrDefault();
  code += wrapper("target_attention", "mm_i64 B, mm_i64 T") +
          llvm::formatv("  mm_target_attention_kernel<{0}>({1}, {2}, {3}, out0, B, T, {4});\n}\n",
                        D, pointer(t.getSequence()), pointer(t.getTarget()),
                        t.getMask() ? pointer(t.getMask()) : "nullptr", floatLiteral(scale))
              .str();
  Int B = launch.let(dimOf(seq, 0));
  launch.kernel("target_attention", shapes::elementwise(B), {Arg::i64(B), Arg::i64(dimOf(seq, 1))},
                cudagen::le(1, B));
  return success();
}

LogicalResult CudaEmitter::emitHadamard() {
  auto h = dyn_cast_or_null<HadamardInteractionOp>(singleOpOnInputs());
  if (!h)
    return fail("expected one mm.hadamard_interaction of kernel inputs");
  Value f = topLevel(h.getFields());
  std::string members, starts;
  HadamardGroups list = hadamardGroups(h);
  for (int64_t m : list.members)
    members += std::to_string(m) + ", ";
  for (int64_t at : list.starts)
    starts += (starts.empty() ? "" : ", ") + std::to_string(at);
  const int64_t groups = int64_t(h.getGroups().size());
  code += wrapper("hadamard", "mm_i64 B") + "  const mm_i64 members[] = {" + members + "0};\n" +
          "  const mm_i64 starts[] = {" + starts + "};\n" +
          llvm::formatv("  mm_hadamard_kernel({0}, members, starts, out0, B, {1}, {2}, {3});\n}\n",
                        pointer(h.getFields()), staticDim(f, 1), staticDim(f, 2), groups)
              .str();
  Int B = launch.let(dimOf(f, 0));
  Int n = launch.let(B * (groups * staticDim(f, 2)));
  launch.kernel("hadamard", shapes::elementwise(n), {Arg::i64(B)}, cudagen::le(1, n));
  return success();
}

} // namespace mm::cudaemit
