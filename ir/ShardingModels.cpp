//===- ShardingModels.cpp -------------------------------------------------===//
#include "ir/ShardingModels.h"
#include "ir/MMDialect.h"
#include "ir/MMOps.h"

#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterfaceImpl.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::shard;

namespace mm {

namespace {

int64_t rankOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()).getRank(); }

/// Clones the op on its local operands; the result types follow the
/// result shardings. Right for every op below: none carries a size of a
/// dimension that a sharding may split.
LogicalResult partitionLocally(Operation *op, ArrayRef<Value> partitioned,
                               ArrayRef<Sharding> operandShardings,
                               ArrayRef<Sharding> resultShardings, IRMapping &map,
                               SymbolTableCollection &symbols, OpBuilder &b) {
  partitionTriviallyShardableOperation(*op, partitioned, operandShardings, resultShardings, map,
                                       symbols, b);
  return success();
}

/// Broadcasting elementwise ops (mm.add, mm.mul, ...): one parallel loop per
/// result dim; an operand aligned on the right indexes the trailing loops,
/// a 0-d operand none. Dims of size 1 stretched against a larger one have
/// no projected-permutation map: such ops refuse a sharding.
template <typename Op>
struct BroadcastingElementwiseModel
    : ShardingInterface::ExternalModel<BroadcastingElementwiseModel<Op>, Op> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(rankOf(op->getResult(0)),
                                            utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    auto result = llvm::cast<RankedTensorType>(op->getResult(0).getType());
    int64_t loops = result.getRank();
    SmallVector<AffineMap> maps;
    for (Value operand : op->getOperands()) {
      auto type = llvm::cast<RankedTensorType>(operand.getType());
      int64_t offset = loops - type.getRank();
      for (int64_t i = 0; i < type.getRank(); ++i)
        if (type.getDimSize(i) == 1 && result.getDimSize(offset + i) != 1)
          return {}; // a stretched dim (see above)
      SmallVector<AffineExpr> dims;
      for (int64_t i = 0; i < type.getRank(); ++i)
        dims.push_back(getAffineDimExpr(offset + i, op->getContext()));
      maps.push_back(AffineMap::get(loops, 0, dims, op->getContext()));
    }
    maps.push_back(AffineMap::getMultiDimIdentityMap(loops, op->getContext()));
    return maps;
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    if (getIndexingMaps(op).empty())
      return op->emitOpError("stretches a dimension of size 1: its sharding is not modelled");
    return shard::detail::defaultGetShardingOption(op, operands, results);
  }
  /// The local product; where k is split it is a partial sum, completed by
  /// an all_reduce over k's grid axes (MLIR 22's shardings carry no partial
  /// state, so the op that makes the partial sum reduces it).
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    if (failed(partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols,
                                b)))
      return failure();
    SmallVector<utils::IteratorType> loops = getLoopIteratorTypes(op);
    ShardingArray assignment = getGridAxisAssignmentForLoopIterators(
        operandShardings, resultShardings, loops, getIndexingMaps(op));
    SmallVector<GridAxis> axes = getReductionGridAxes(loops, assignment);
    if (axes.empty())
      return success();
    Value local = map.lookup(op->getResult(0));
    Value sum = AllReduceOp::create(b, op->getLoc(), local, operandShardings[1].getGrid(), axes,
                                    ReductionKind::Sum);
    map.map(op->getResult(0), sum);
    return success();
  }
};

/// mm.linear: y[b..., n] = sum_k x[b..., k] w[n, k] (+ bias[n]). Loops
/// b..., n (parallel) and k (a sum): w split on n is column parallel, split
/// on k row parallel (a partial sum).
struct LinearModel : ShardingInterface::ExternalModel<LinearModel, LinearOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    SmallVector<utils::IteratorType> types(rankOf(op->getOperand(0)),
                                           utils::IteratorType::parallel);
    types.push_back(utils::IteratorType::reduction);
    return types;
  }
  SmallVector<ReductionKind> getReductionLoopIteratorKinds(Operation *) const {
    return {ReductionKind::Sum};
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    auto linear = llvm::cast<LinearOp>(op);
    MLIRContext *ctx = op->getContext();
    int64_t batch = rankOf(linear.getInput()) - 1, loops = batch + 2;
    AffineExpr n = getAffineDimExpr(batch, ctx), k = getAffineDimExpr(batch + 1, ctx);
    SmallVector<AffineExpr> input, output;
    for (int64_t i = 0; i < batch; ++i) {
      input.push_back(getAffineDimExpr(i, ctx));
      output.push_back(getAffineDimExpr(i, ctx));
    }
    input.push_back(k);
    output.push_back(n);
    SmallVector<AffineMap> maps{AffineMap::get(loops, 0, input, ctx),
                                AffineMap::get(loops, 0, {n, k}, ctx)};
    if (linear.getBias())
      maps.push_back(AffineMap::get(loops, 0, {n}, ctx));
    maps.push_back(AffineMap::get(loops, 0, output, ctx));
    return maps;
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    FailureOr<ShardingOption> option = shard::detail::defaultGetShardingOption(op, operands, results);
    // A bias added on every rank of a split contraction would count it
    // size-of-group times: keep k whole when there is a bias.
    if (succeeded(option) && !option->empty && llvm::cast<LinearOp>(op).getBias() &&
        option->shardingArray.size() == getLoopIteratorTypes(op).size())
      option->shardingArray.back().clear();
    return option;
  }
  /// The local product; where k is split it is a partial sum, completed by
  /// an all_reduce over k's grid axes (MLIR 22's shardings carry no partial
  /// state, so the op that makes the partial sum reduces it).
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    if (failed(partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols,
                                b)))
      return failure();
    SmallVector<utils::IteratorType> loops = getLoopIteratorTypes(op);
    ShardingArray assignment = getGridAxisAssignmentForLoopIterators(
        operandShardings, resultShardings, loops, getIndexingMaps(op));
    SmallVector<GridAxis> axes = getReductionGridAxes(loops, assignment);
    if (axes.empty())
      return success();
    Value local = map.lookup(op->getResult(0));
    Value sum = AllReduceOp::create(b, op->getLoc(), local, operandShardings[1].getGrid(), axes,
                                    ReductionKind::Sum);
    map.map(op->getResult(0), sum);
    return success();
  }
};

/// mm.rms_norm normalises over the last dim: its loop stays whole (the
/// partition gathers a split input first); the leading dims are parallel.
struct RmsNormModel : ShardingInterface::ExternalModel<RmsNormModel, RmsNormOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(rankOf(op->getResult(0)),
                                            utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    MLIRContext *ctx = op->getContext();
    int64_t loops = rankOf(op->getResult(0));
    return {AffineMap::getMultiDimIdentityMap(loops, ctx),
            AffineMap::get(loops, 0, {getAffineDimExpr(loops - 1, ctx)}, ctx),
            AffineMap::getMultiDimIdentityMap(loops, ctx)};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    FailureOr<ShardingOption> option = shard::detail::defaultGetShardingOption(op, operands, results);
    if (succeeded(option) && !option->empty && !option->shardingArray.empty() &&
        option->shardingArray.size() == getLoopIteratorTypes(op).size())
      option->shardingArray.back().clear();
    return option;
  }
  /// The local product; where k is split it is a partial sum, completed by
  /// an all_reduce over k's grid axes (MLIR 22's shardings carry no partial
  /// state, so the op that makes the partial sum reduces it).
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    if (failed(partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols,
                                b)))
      return failure();
    SmallVector<utils::IteratorType> loops = getLoopIteratorTypes(op);
    ShardingArray assignment = getGridAxisAssignmentForLoopIterators(
        operandShardings, resultShardings, loops, getIndexingMaps(op));
    SmallVector<GridAxis> axes = getReductionGridAxes(loops, assignment);
    if (axes.empty())
      return success();
    Value local = map.lookup(op->getResult(0));
    Value sum = AllReduceOp::create(b, op->getLoc(), local, operandShardings[1].getGrid(), axes,
                                    ReductionKind::Sum);
    map.map(op->getResult(0), sum);
    return success();
  }
};

/// mm.param: every rank reads the whole weight, so its result is replicated;
/// a split that a user asks for becomes a shard.all_slice after it (no
/// communication). (Loading only the rank's slice is the binder's job.)
struct ParamModel : ShardingInterface::ExternalModel<ParamModel, ParamOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(rankOf(op->getResult(0)),
                                            utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    return {AffineMap::getMultiDimIdentityMap(rankOf(op->getResult(0)), op->getContext())};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding>,
                                              ArrayRef<Sharding> results) const {
    for (const Sharding &s : results)
      if (s)
        return ShardingOption(ShardingArray(rankOf(op->getResult(0))), s.getGridAttr());
    return ShardingOption::makeEmpty();
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    partitionFullyReplicatedOperation(*op, partitioned, operandShardings, resultShardings, map,
                                      symbols, b);
    return success();
  }
};

template <typename... Ops> void attachElementwise(MLIRContext *ctx) {
  (Ops::template attachInterface<ElementwiseShardingInterface<Ops>>(*ctx), ...);
}
template <typename... Ops> void attachBroadcasting(MLIRContext *ctx) {
  (Ops::template attachInterface<BroadcastingElementwiseModel<Ops>>(*ctx), ...);
}

} // namespace

void registerShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, MMDialect *) {
    attachElementwise<SiluOp, SigmoidOp, ReluOp, TanhOp, ExpOp, LogOp, SqrtOp, RsqrtOp, NegOp,
                      GeluOp, SwigluOp, CastOp>(ctx);
    attachBroadcasting<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp>(ctx);
    LinearOp::attachInterface<LinearModel>(*ctx);
    RmsNormOp::attachInterface<RmsNormModel>(*ctx);
    ParamOp::attachInterface<ParamModel>(*ctx);
  });
}

} // namespace mm
