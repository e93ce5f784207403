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

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/Support/Error.h"

#include <string>

namespace mm {

/// The plan of a shard.all_reduce, all_gather, all_slice or reduce_scatter, or an error
/// message (another op, a grid of dynamic shape, an unsupported reduction).
llvm::Expected<dist::CollectivePlan> collectivePlan(mlir::Operation *op);

/// True for the shard collectives collectivePlan reads.
bool isExecutableCollective(mlir::Operation *op);

} // namespace mm

#endif // MM_IR_SHARDCOLLECTIVES_H
