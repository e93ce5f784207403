//===- ShardCollectives.h - upstream shard collectives, read for execution -*- C++ -*-===//
//
// What both executors (the reference and the compiled backends) need from a
// shard.* collective: its grid's static shape, its axes and its reduction as
// the runtime's (runtime/dist). Errors are returned as text for the caller to
// place (an MLIR diagnostic or an mm::Error).
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_SHARDCOLLECTIVES_H
#define MM_IR_SHARDCOLLECTIVES_H

#include "runtime/dist/CollectivePlan.h"
#include "runtime/dist/WeightShard.h"

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>

namespace mm {

/// The plan of a shard.all_reduce, all_gather, all_slice or reduce_scatter, or an error
/// message (another op, a grid of dynamic shape, an unsupported reduction).
llvm::Expected<dist::CollectivePlan> collectivePlan(mlir::Operation *op);

/// True for the shard collectives collectivePlan reads.
bool isExecutableCollective(mlir::Operation *op);

/// On an mm.param of a partitioned program: the grid and, per dim, the grid
/// axes that split it (the param's type is one rank's part).
inline constexpr llvm::StringLiteral kWeightGridAttr = "mm.grid";
inline constexpr llvm::StringLiteral kWeightSplitAxesAttr = "mm.split_axes";

/// How a partitioned mm.param is cut, or none for a whole weight; an error
/// for attributes that do not describe a split of a static grid.
llvm::Expected<std::optional<dist::WeightShard>> weightShardOf(mlir::Operation *param);

} // namespace mm

#endif // MM_IR_SHARDCOLLECTIVES_H
