//===- ShardingModelSupport.h - pieces the sharding models share -*- C++ -*-===//
//
// The helpers of ShardingModels.cpp that the models kept in other files
// (LossShardingModels.cpp) use too: cloning an op on its parts, keeping
// chosen loops whole, and a rank's block of a constant.
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_SHARDINGMODELSUPPORT_H
#define MM_IR_SHARDINGMODELSUPPORT_H

#include "ir/MMOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace mm {

/// Clones the op on its local operands; the result types follow the result
/// shardings. Right for an op that carries no size of a dimension that a
/// sharding may split.
mlir::LogicalResult partitionLocally(mlir::Operation *op, llvm::ArrayRef<mlir::Value> partitioned,
                                     llvm::ArrayRef<mlir::shard::Sharding> operandShardings,
                                     llvm::ArrayRef<mlir::shard::Sharding> resultShardings,
                                     mlir::IRMapping &map, mlir::SymbolTableCollection &symbols,
                                     mlir::OpBuilder &b);

/// d0, ..., d(n-1): the leading (batch) loops of an op.
llvm::SmallVector<mlir::AffineExpr> leadingLoops(int64_t n, mlir::MLIRContext *ctx);

/// This rank's block of `values` (an i64 constant) split into `parts` over
/// `axes` of `grid`: an all_slice, no communication. MLIR has no "rank's
/// coordinate" op; a rank's global indices are its slice of a constant.
mlir::Value thisRanksBlock(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<int64_t> values,
                           int64_t parts, llvm::StringRef grid,
                           llvm::ArrayRef<mlir::shard::GridAxis> axes);

/// Clears the grid axes of every loop of a default option that `splits`
/// rejects: those dims stay whole (the passes then gather them where they
/// arrive split).
mlir::FailureOr<mlir::shard::ShardingOption>
keepSplits(mlir::FailureOr<mlir::shard::ShardingOption> option,
           llvm::function_ref<bool(size_t loop)> splits);

/// Completes `local`, a lightning_attention on this rank's chunk of a
/// sequence split over `seqAxes` (LASP+): it starts from the state the
/// chunks before it leave, and `wholeFinalState` (the original op's) maps to
/// the state after the last chunk. In LightningSequenceSplit.cpp.
mlir::LogicalResult partitionLightningSequence(LightningAttentionOp local,
                                               const mlir::shard::Sharding &query,
                                               llvm::ArrayRef<mlir::shard::GridAxis> seqAxes,
                                               mlir::IRMapping &map,
                                               mlir::Value wholeFinalState, mlir::OpBuilder &b);
/// The same for the gradient: `local` runs from its chunk's starting state
/// with the final-state gradient that the chunks after it send back, and
/// `wholeInitialStateGrad` maps to the gradient at the first chunk's start.
mlir::LogicalResult partitionLightningGradSequence(
    LightningAttentionGradOp local, const mlir::shard::Sharding &query,
    llvm::ArrayRef<mlir::shard::GridAxis> seqAxes, mlir::IRMapping &map,
    mlir::Value wholeInitialStateGrad, mlir::OpBuilder &b);

/// Where this rank's chunk of a sequence split over `seqAxes` of `grid`
/// begins: a [1] i64, the tokens of the chunks before it, counted at run time
/// from `query` ([b, t, h, d]) and all-gathered, so the chunks may be uneven.
/// In LightningSequenceSplit.cpp.
mlir::Value sequenceChunkStart(mlir::OpBuilder &b, mlir::Location loc, mlir::shard::GridOp grid,
                               llvm::ArrayRef<mlir::shard::GridAxis> seqAxes, mlir::Value query);

/// Completes `local`, an mm.attention (or its gradient) on this rank's chunk
/// of the queries, split over `seqAxes`, against every key (context
/// parallelism with the keys and values all-gathered): a causal one reads
/// where its chunk starts (query_start). The gradient's key and value
/// gradients are this chunk's share: `wholeKeyGrad` and `wholeValueGrad`
/// map to their sums over the chunks. In AttentionSequenceSplit.cpp.
mlir::LogicalResult partitionAttentionSequence(AttentionOp local,
                                               const mlir::shard::Sharding &query,
                                               llvm::ArrayRef<mlir::shard::GridAxis> seqAxes,
                                               mlir::OpBuilder &b);
mlir::LogicalResult partitionAttentionGradSequence(AttentionGradOp local,
                                                   const mlir::shard::Sharding &query,
                                                   llvm::ArrayRef<mlir::shard::GridAxis> seqAxes,
                                                   mlir::IRMapping &map, mlir::Value wholeKeyGrad,
                                                   mlir::Value wholeValueGrad, mlir::OpBuilder &b);

} // namespace mm

#endif // MM_IR_SHARDINGMODELSUPPORT_H
