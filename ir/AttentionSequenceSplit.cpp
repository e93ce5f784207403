//===- AttentionSequenceSplit.cpp - softmax attention over cp -------------===//
//
// mm.attention and its gradient with the queries split over context-parallel
// ranks. The sharding model keeps the keys' loop whole, so shard-partition
// all-gathers the keys and values of every chunk (Megatron-Core's
// "all_gather" context parallelism, Llama 3's choice for GQA: the 8 KV heads
// of MiniMax-01's 64 are an eighth of the query's volume). Each rank then
// attends its chunk of the queries to every key; a causal rank needs where
// its chunk starts, which it learns from the token counts of the chunks
// before it (sequenceChunkStart), so the chunks may be uneven.
//
// The gradient's dq is the chunk's own; its dk and dv are this chunk's
// queries' share of a sum over every query, so they are all-reduced over
// the sequence axes (the consumers' all_slice then keeps each rank's keys).
//
//===----------------------------------------------------------------------===//
#include "ir/MMOps.h"
#include "ir/ShardingModelSupport.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"

using namespace mlir;
using namespace mlir::shard;

namespace mm {
namespace {

/// The start of `local`'s chunk, built before it.
template <typename Op>
FailureOr<Value> chunkStartBefore(Op local, const Sharding &query, ArrayRef<GridAxis> seqAxes,
                                  OpBuilder &b) {
  auto grid = SymbolTable::lookupNearestSymbolFrom<GridOp>(local, query.getGridAttr());
  if (!grid)
    return local->emitOpError("the grid @") << query.getGrid() << " is not in the module";
  b.setInsertionPoint(local);
  return sequenceChunkStart(b, local.getLoc(), grid, seqAxes, local.getQuery());
}

} // namespace

LogicalResult partitionAttentionSequence(AttentionOp local, const Sharding &query,
                                         ArrayRef<GridAxis> seqAxes, OpBuilder &b) {
  if (!local.getCausal()) // (every query sees every key: nothing to place)
    return success();
  OpBuilder::InsertionGuard guard(b);
  FailureOr<Value> start = chunkStartBefore(local, query, seqAxes, b);
  if (failed(start))
    return failure();
  local.getQueryStartMutable().assign(*start);
  return success();
}

LogicalResult partitionAttentionGradSequence(AttentionGradOp local, const Sharding &query,
                                             ArrayRef<GridAxis> seqAxes, IRMapping &map,
                                             Value wholeKeyGrad, Value wholeValueGrad,
                                             OpBuilder &b) {
  OpBuilder::InsertionGuard guard(b);
  if (local.getCausal()) {
    FailureOr<Value> start = chunkStartBefore(local, query, seqAxes, b);
    if (failed(start))
      return failure();
    local.getQueryStartMutable().assign(*start);
  }
  b.setInsertionPointAfter(local);
  for (auto [whole, part] : {std::pair(wholeKeyGrad, local.getGradKey()),
                             std::pair(wholeValueGrad, local.getGradValue())})
    map.map(whole, AllReduceOp::create(b, local.getLoc(), part, query.getGrid(), seqAxes,
                                       ReductionKind::Sum)
                       .getResult());
  return success();
}

} // namespace mm
