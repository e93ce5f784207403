//===- CudaIndexingKinds.cpp - softmax lanes, argmax, top-k, gather, scatter-add -===//
//
// CUDA generators of the indexing kinds: each wraps its kernels/indexing.cuh
// kernel and launches it over the [outer, len, inner] view around the op's dim.
//
//===----------------------------------------------------------------------===//
#include "codegen/CudaEmitter.h"

using namespace mlir;

namespace mm::cudaemit {

LogicalResult CudaEmitter::emitSoftmaxLanes(Operation *op, Value in, int64_t dim, int64_t rank,
                                            bool log) {
  Int outer = launch.let(span(in, 0, unsigned(dim))), len = dimOf(in, unsigned(dim)),
      inner = span(in, unsigned(dim + 1), unsigned(rank));
  code += wrapper("softmax", "mm_i64 outer, mm_i64 len, mm_i64 inner") +
          llvm::formatv("  mm_softmax_lanes_kernel<{0}>({1}, out0, outer, len, inner);\n}\n",
                        log ? "true" : "false", pointer(op->getOperand(0)))
              .str();
  Int lanes = launch.let(outer * inner);
  launch.kernel("softmax", shapes::elementwise(lanes),
                {Arg::i64(outer), Arg::i64(len), Arg::i64(inner)},
                cudagen::both(cudagen::le(1, lanes), cudagen::le(1, len)));
  return success();
}

LogicalResult CudaEmitter::emitArgmax() {
  auto am = dyn_cast_or_null<ArgmaxOp>(singleOpOnInputs());
  if (!am)
    return fail("expected one mm.argmax of a kernel input");
  Value in = topLevel(am.getInput());
  const int64_t rank = llvm::cast<RankedTensorType>(in.getType()).getRank();
  const int64_t dim = normalizedDim(static_cast<int64_t>(am.getDim()), rank);
  if (failed(requireF32Storage(am.getInput(), "an argmax input")))
    return failure();
  Int outer = launch.let(span(in, 0, unsigned(dim))), len = dimOf(in, unsigned(dim)),
      inner = span(in, unsigned(dim + 1), unsigned(rank));
  code += wrapper("argmax", "mm_i64 outer, mm_i64 len, mm_i64 inner") +
          llvm::formatv("  mm_argmax_kernel({0}, out0, outer, len, inner);\n}\n",
                        pointer(am.getInput()))
              .str();
  Int lanes = launch.let(outer * inner);
  // (Over an empty dim every lane is 0, as on the host.)
  launch.kernel("argmax", shapes::elementwise(lanes),
                {Arg::i64(outer), Arg::i64(len), Arg::i64(inner)}, cudagen::le(1, lanes));
  return success();
}

LogicalResult CudaEmitter::emitTopK() {
  auto tk = dyn_cast_or_null<TopKOp>(singleOpOnInputs());
  if (!tk)
    return fail("expected one mm.top_k of a kernel input");
  Value in = topLevel(tk.getInput());
  const int64_t rank = llvm::cast<RankedTensorType>(in.getType()).getRank();
  if (failed(requireF32Storage(tk.getInput(), "a top_k input")))
    return failure();
  const int64_t k = static_cast<int64_t>(tk.getK());
  Int rows = launch.let(span(in, 0, unsigned(rank - 1))), n = dimOf(in, unsigned(rank - 1));
  // k <= n is the verifier's when n is static; a dynamic row shorter than k
  // would select past its end.
  launch.require(cudagen::le(k, n), "top_k: k exceeds the row length");
  code += wrapper("top_k", "mm_i64 rows, mm_i64 n") +
          llvm::formatv("  mm_top_k_kernel({0}, out0, out1, rows, n, (mm_i64){1});\n}\n",
                        pointer(tk.getInput()), k)
              .str();
  launch.kernel("top_k", shapes::elementwise(rows), {Arg::i64(rows), Arg::i64(n)},
                cudagen::both(cudagen::le(1, rows), cudagen::le(1, k)));
  return success();
}

LogicalResult CudaEmitter::emitGeneralGather() {
  GatherOp g = gatherParts()->op;
  for (Value v : g->getOperands())
    if (!topLevel(v))
      return fail("gather operands must be kernel inputs");
  Value x = topLevel(g.getInput()), idx = topLevel(g.getIndices());
  const int64_t rank = llvm::cast<RankedTensorType>(x.getType()).getRank(),
                idxRank = llvm::cast<RankedTensorType>(idx.getType()).getRank();
  const int64_t dim = static_cast<int64_t>(g.getDim()), b = static_cast<int64_t>(g.getBatchDims());
  // Input rows [outer = batch * between, D, inner]; J indices per batch entry.
  Int outer = launch.let(span(x, 0, unsigned(dim))), between = span(x, unsigned(b), unsigned(dim)),
      D = dimOf(x, unsigned(dim)), inner = span(x, unsigned(dim + 1), unsigned(rank)),
      J = span(idx, unsigned(b), unsigned(idxRank));
  code += wrapper("gather", "mm_i64 outer, mm_i64 between, mm_i64 D, mm_i64 inner, mm_i64 J, "
                            "int *error") +
          llvm::formatv("  mm_gather_kernel({0}, {1}, out0, outer, between, D, inner, J, "
                        "error);\n}\n",
                        pointer(g.getInput()), pointer(g.getIndices()))
              .str();
  Int count = launch.let(outer * J * inner);
  launch.kernel("gather", shapes::elementwise(count),
                {Arg::i64(outer), Arg::i64(cudagen::max(between, 1)), Arg::i64(D), Arg::i64(inner),
                 Arg::i64(J), Arg::errorFlag()},
                cudagen::le(1, count));
  return success();
}

LogicalResult CudaEmitter::emitScatterAdd() {
  auto sa = dyn_cast_or_null<ScatterAddOp>(singleOpOnInputs());
  if (!sa)
    return fail("expected one mm.scatter_add of kernel inputs");
  if (failed(requireF32Storage(sa.getDest(), "a scatter_add destination")) ||
      failed(requireF32Storage(sa.getUpdates(), "scatter_add updates")))
    return failure();
  Value dest = topLevel(sa.getDest()), indices = topLevel(sa.getIndices());
  const int64_t rank = llvm::cast<RankedTensorType>(dest.getType()).getRank();
  const int64_t dim = normalizedDim(static_cast<int64_t>(sa.getDim()), rank),
                batch = static_cast<int64_t>(sa.getBatchDims());
  Int outer = launch.let(span(dest, 0, unsigned(dim))), D = dimOf(dest, unsigned(dim)),
      inner = span(dest, unsigned(dim + 1), unsigned(rank)), M = dimOf(indices, unsigned(batch)),
      perBatch = span(dest, unsigned(batch), unsigned(dim));
  code += wrapper("scatter_add", "mm_i64 outer, mm_i64 D, mm_i64 inner, mm_i64 M, "
                                 "mm_i64 perBatch, int *error") +
          llvm::formatv("  mm_scatter_add_kernel({0}, {1}, {2}, out0, outer, D, inner, M, "
                        "perBatch, error);\n}\n",
                        pointer(sa.getDest()), pointer(sa.getIndices()), pointer(sa.getUpdates()))
              .str();
  Int lanes = launch.let(outer * inner);
  launch.kernel("scatter_add", shapes::elementwise(lanes),
                {Arg::i64(outer), Arg::i64(D), Arg::i64(inner), Arg::i64(M),
                 Arg::i64(cudagen::max(perBatch, 1)), Arg::errorFlag()},
                cudagen::le(1, lanes));
  return success();
}

} // namespace mm::cudaemit
