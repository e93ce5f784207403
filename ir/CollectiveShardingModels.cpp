//===- CollectiveShardingModels.cpp - shard collectives on a rank's part --===//
//
// A data-parallel training step carries its gradient averages as shard
// collectives (-mm-training-step dp-grid) along the dp axis of the grid
// that -mm-model-parallel then splits the weights over, and that no value
// is split along. Under the partition each such collective runs on the
// rank's part unchanged: its loops are the tensor's dims, all parallel,
// except that the dim it scatters, gathers or slices stays whole (the dp
// rows of a part are not a part of the dp rows). Without a model the
// partition would gather every part first: the whole gradient on each rank.
//
//===----------------------------------------------------------------------===//
#include "ir/ShardingModels.h"

#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

#include <optional>
#include <type_traits>

using namespace mlir;
using namespace mlir::shard;

namespace mm {
namespace {

template <typename Op>
struct OnEachPartModel : ShardingInterface::ExternalModel<OnEachPartModel<Op>, Op> {
  /// The dim the collective changes the size of (none for an all_reduce).
  static std::optional<int64_t> resizedDim(Operation *op) {
    auto collective = llvm::cast<Op>(op);
    if constexpr (std::is_same_v<Op, ReduceScatterOp>)
      return collective.getScatterAxis().getSExtValue();
    else if constexpr (std::is_same_v<Op, AllGatherOp>)
      return collective.getGatherAxis().getSExtValue();
    else if constexpr (std::is_same_v<Op, AllSliceOp>)
      return collective.getSliceAxis().getSExtValue();
    return std::nullopt;
  }
  static int64_t rank(Operation *op) {
    auto type = llvm::dyn_cast<RankedTensorType>(op->getOperand(0).getType());
    return type ? type.getRank() : 0;
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(rank(op), utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rank(op), op->getContext());
    return {identity, identity};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    FailureOr<ShardingOption> option =
        shard::detail::defaultGetShardingOption(op, operands, results);
    std::optional<int64_t> dim = resizedDim(op);
    // (The option may omit trailing loops that are not split.)
    if (succeeded(option) && !option->empty && dim &&
        *dim < static_cast<int64_t>(option->shardingArray.size()))
      option->shardingArray[*dim].clear();
    return option;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    auto collective = llvm::cast<Op>(op);
    std::optional<int64_t> dim = resizedDim(op);
    for (const auto *list : {&operandShardings, &resultShardings})
      for (const Sharding &s : *list) {
        if (!s)
          continue;
        if (s.getGrid() != collective.getGrid())
          return op->emitOpError("runs on @")
                 << collective.getGrid() << " but its value is split on @" << s.getGrid();
        for (auto [d, axes] : llvm::enumerate(s.getSplitAxes())) {
          if (!axes.empty() && dim && static_cast<int64_t>(d) == *dim)
            return op->emitOpError("its value is split along dim ")
                   << d << ", the dim it scatters, gathers or slices";
          for (GridAxis axis : axes.asArrayRef())
            if (llvm::is_contained(collective.getGridAxes(), axis))
              return op->emitOpError("its value is split over grid axis ")
                     << axis << ", which the collective runs along";
        }
      }
    if (rank(op) == 0) { // (a 0-d value has no sharding: the op as it is)
      map.map(op->getResult(0), b.clone(*op, map)->getResult(0));
      return success();
    }
    partitionTriviallyShardableOperation(*op, partitioned, operandShardings, resultShardings, map,
                                         symbols, b);
    return success();
  }
};

} // namespace

void registerCollectiveShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, ShardDialect *) {
    AllReduceOp::attachInterface<OnEachPartModel<AllReduceOp>>(*ctx);
    ReduceScatterOp::attachInterface<OnEachPartModel<ReduceScatterOp>>(*ctx);
    AllGatherOp::attachInterface<OnEachPartModel<AllGatherOp>>(*ctx);
    AllSliceOp::attachInterface<OnEachPartModel<AllSliceOp>>(*ctx);
  });
}

} // namespace mm
