//===- ShardingModels.h - mm ops under the upstream shard passes -*- C++ -*-===//
//
// External models of shard::ShardingInterface for mm ops, so the upstream
// `sharding-propagation` and `shard-partition` passes place the collectives of
// a sharded mm graph, as GSPMD and Shardy do: each op states its loops
// (parallel, or reductions with their kind) and how they index its operands
// and results; the passes derive the shardings and the collectives (a linear
// whose contraction dim is split gives a partial sum, which becomes an
// all_reduce where a user needs it whole).
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_SHARDINGMODELS_H
#define MM_IR_SHARDINGMODELS_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mm {
void registerShardingModels(mlir::DialectRegistry &registry);
/// Models of the shard collectives a training step carries along its dp
/// axis: each runs on the rank's part (CollectiveShardingModels.cpp).
/// registerShardingModels registers them too.
void registerCollectiveShardingModels(mlir::DialectRegistry &registry);
/// The vocab-parallel cross-entropy and its gradient
/// (LossShardingModels.cpp). registerShardingModels registers them too.
void registerLossShardingModels(mlir::DialectRegistry &registry);
} // namespace mm

#endif // MM_IR_SHARDINGMODELS_H
