//===- ShardingModels.cpp -------------------------------------------------===//
#include "ir/ShardingModels.h"
#include "ir/ShardingModelSupport.h"
#include "ir/MMDialect.h"
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"
#include "ir/ShardCollectives.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterfaceImpl.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::shard;

namespace mm {

namespace {

int64_t rankOf(Value v) { return llvm::cast<RankedTensorType>(v.getType()).getRank(); }

} // namespace

LogicalResult partitionLocally(Operation *op, ArrayRef<Value> partitioned,
                               ArrayRef<Sharding> operandShardings,
                               ArrayRef<Sharding> resultShardings, IRMapping &map,
                               SymbolTableCollection &symbols, OpBuilder &b) {
  // A result nothing reads (a final state, an updated cache) carries no
  // sharding: it is whole, on the grid of the others.
  FlatSymbolRefAttr grid;
  for (const auto *list : {&operandShardings, &resultShardings})
    for (const Sharding &s : *list)
      if (s && !grid)
        grid = s.getGridAttr();
  SmallVector<Sharding, 2> results(resultShardings.begin(), resultShardings.end());
  for (auto [r, s] : llvm::zip(op->getResults(), results))
    if (!s && grid)
      s = Sharding::get(grid, SmallVector<GridAxesAttr>(rankedOf(r).getRank(),
                                                        GridAxesAttr::get(b.getContext(), {})));
  partitionTriviallyShardableOperation(*op, partitioned, operandShardings, results, map, symbols,
                                       b);
  return success();
}

namespace {

/// The op on its local operands; where its reduction loops are split, the
/// local result is a partial reduction, completed by an all_reduce of `kind`
/// over those loops' grid axes (MLIR 22's shardings carry no partial state,
/// so the op that makes the partial result reduces it).
LogicalResult partitionReducingSplitLoops(Operation *op, ArrayRef<Value> partitioned,
                                          ArrayRef<Sharding> operandShardings,
                                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                                          SymbolTableCollection &symbols, OpBuilder &b,
                                          ArrayRef<utils::IteratorType> loops,
                                          ArrayRef<AffineMap> maps, ReductionKind kind) {
  if (failed(partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b)))
    return failure();
  ShardingArray assignment =
      getGridAxisAssignmentForLoopIterators(operandShardings, resultShardings, loops, maps);
  SmallVector<GridAxis> axes = getReductionGridAxes(loops, assignment);
  if (axes.empty())
    return success();
  const Sharding *split = llvm::find_if(operandShardings, [](const Sharding &s) { return bool(s); });
  Value total = AllReduceOp::create(b, op->getLoc(), map.lookup(op->getResult(0)),
                                    split->getGrid(), axes, kind);
  map.map(op->getResult(0), total);
  return success();
}

/// A product whose sum loops may split (mm.linear, mm.matmul): the local
/// product, then one all_reduce of the partial sums.
template <typename Derived, typename Op>
struct PartialSumModel : ShardingInterface::ExternalModel<Derived, Op> {
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    const auto &self = static_cast<const Derived &>(*this);
    return partitionReducingSplitLoops(op, partitioned, operandShardings, resultShardings, map,
                                       symbols, b, self.getLoopIteratorTypes(op),
                                       self.getIndexingMaps(op), ReductionKind::Sum);
  }
};

} // namespace

SmallVector<AffineExpr> leadingLoops(int64_t n, MLIRContext *ctx) {
  SmallVector<AffineExpr> dims;
  for (int64_t i = 0; i < n; ++i)
    dims.push_back(getAffineDimExpr(i, ctx));
  return dims;
}

Value thisRanksBlock(OpBuilder &b, Location loc, ArrayRef<int64_t> values, int64_t parts,
                     StringRef grid, ArrayRef<GridAxis> axes) {
  auto allType = RankedTensorType::get({static_cast<int64_t>(values.size())}, b.getI64Type());
  Value all =
      arith::ConstantOp::create(b, loc, allType, DenseElementsAttr::get(allType, values));
  auto mineType = RankedTensorType::get({allType.getDimSize(0) / parts}, b.getI64Type());
  return AllSliceOp::create(b, loc, mineType, all, grid, axes, /*sliceAxis=*/0);
}

namespace {

/// A model whose op partitions locally (every split it allows is of
/// independent loops): the op on its local operands.
template <typename Derived, typename Op>
struct LocallyPartitioned : ShardingInterface::ExternalModel<Derived, Op> {
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
  }
};

int64_t unrelatedDimCount(Operation *op);
SmallVector<AffineMap> unrelatedDimMaps(Operation *op);

} // namespace

FailureOr<ShardingOption> keepSplits(FailureOr<ShardingOption> option,
                                     llvm::function_ref<bool(size_t loop)> splits) {
  // The option may omit trailing loops that are not split.
  if (succeeded(option) && !option->empty)
    for (auto [i, axes] : llvm::enumerate(option->shardingArray))
      if (!splits(i))
        axes.clear();
  return option;
}

namespace {

/// Clears the grid axes of loop `loop` of a default option: that dim must
/// stay whole (the passes then gather it where it arrives split).
FailureOr<ShardingOption> withLoopWhole(FailureOr<ShardingOption> option, size_t loops,
                                        size_t loop) {
  // The option may omit trailing loops that are not split.
  if (succeeded(option) && !option->empty && loop < option->shardingArray.size())
    option->shardingArray[loop].clear();
  return option;
}

/// Broadcasting elementwise ops (mm.add, mm.mul, ...): one parallel loop per
/// result dim; an operand aligned on the right indexes the trailing loops,
/// a 0-d operand none. A dim of size 1 stretched against a larger one has
/// no projected-permutation map: such an op is whole on every rank, as
/// WholeModel's ops are (a backward's scaling by a [T, 1] factor).
template <typename Op>
struct BroadcastingElementwiseModel
    : LocallyPartitioned<BroadcastingElementwiseModel<Op>, Op> {
  static bool stretches(Operation *op) {
    auto result = llvm::cast<RankedTensorType>(op->getResult(0).getType());
    for (Value operand : op->getOperands()) {
      auto type = llvm::cast<RankedTensorType>(operand.getType());
      int64_t offset = result.getRank() - type.getRank();
      for (int64_t i = 0; i < type.getRank(); ++i)
        if (type.getDimSize(i) == 1 && result.getDimSize(offset + i) != 1)
          return true;
    }
    return false;
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(
        stretches(op) ? unrelatedDimCount(op) : rankOf(op->getResult(0)),
        utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    if (stretches(op))
      return unrelatedDimMaps(op);
    auto result = llvm::cast<RankedTensorType>(op->getResult(0).getType());
    int64_t loops = result.getRank();
    SmallVector<AffineMap> maps;
    for (Value operand : op->getOperands()) {
      auto type = llvm::cast<RankedTensorType>(operand.getType());
      int64_t offset = loops - type.getRank();
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
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [&](size_t) { return !stretches(op); });
  }
};

/// mm.linear: y[b..., n] = sum_k x[b..., k] w[n, k] (+ bias[n]). Loops
/// b..., n (parallel) and k (a sum): w split on n is column parallel, split
/// on k row parallel (a partial sum).
struct LinearModel : PartialSumModel<LinearModel, LinearOp> {
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
    SmallVector<AffineExpr> input = leadingLoops(batch, ctx), output = input;
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
    return llvm::cast<LinearOp>(op).getBias()
               ? withLoopWhole(option, getLoopIteratorTypes(op).size(),
                               getLoopIteratorTypes(op).size() - 1)
               : option;
  }
};

/// mm.matmul: r[b..., m, n] = sum_k lhs[b..., m, k] rhs[b..., k, n] (either
/// operand transposed). Loops b... (the result's batch dims; an operand's
/// fewer batch dims align on the right), m, n (parallel) and k (a sum): the
/// backward of a split mm.linear. A split k is a partial sum, all-reduced as
/// in mm.linear (the input gradient of a column-parallel projection: the
/// backward's reduction of Megatron's f). A batch dim of size 1 stretched
/// against a larger one has no projected-permutation map: such a product is
/// whole on every rank.
struct MatmulModel : PartialSumModel<MatmulModel, MatmulOp> {
  static bool stretches(Operation *op) {
    auto result = llvm::cast<RankedTensorType>(op->getResult(0).getType());
    int64_t batch = result.getRank() - 2;
    for (Value operand : op->getOperands()) {
      auto type = llvm::cast<RankedTensorType>(operand.getType());
      int64_t own = type.getRank() - 2;
      for (int64_t i = 0; i < own; ++i)
        if (type.getDimSize(i) == 1 && result.getDimSize(batch - own + i) != 1)
          return true;
    }
    return false;
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    if (stretches(op))
      return SmallVector<utils::IteratorType>(unrelatedDimCount(op),
                                              utils::IteratorType::parallel);
    SmallVector<utils::IteratorType> types(rankOf(op->getResult(0)),
                                           utils::IteratorType::parallel);
    types.push_back(utils::IteratorType::reduction);
    return types;
  }
  SmallVector<ReductionKind> getReductionLoopIteratorKinds(Operation *op) const {
    if (stretches(op))
      return {};
    return {ReductionKind::Sum};
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    if (stretches(op))
      return unrelatedDimMaps(op);
    auto matmul = llvm::cast<MatmulOp>(op);
    MLIRContext *ctx = op->getContext();
    int64_t batch = rankOf(op->getResult(0)) - 2, loops = batch + 3;
    AffineExpr m = getAffineDimExpr(batch, ctx), n = getAffineDimExpr(batch + 1, ctx),
               k = getAffineDimExpr(batch + 2, ctx);
    auto operandMap = [&](Value v, AffineExpr outer, AffineExpr inner, bool transposed) {
      int64_t own = rankOf(v) - 2;
      SmallVector<AffineExpr> dims;
      for (int64_t i = 0; i < own; ++i)
        dims.push_back(getAffineDimExpr(batch - own + i, ctx));
      dims.push_back(transposed ? inner : outer);
      dims.push_back(transposed ? outer : inner);
      return AffineMap::get(loops, 0, dims, ctx);
    };
    SmallVector<AffineExpr> result = leadingLoops(batch, ctx);
    result.append({m, n});
    return {operandMap(matmul.getLhs(), m, k, matmul.getTransposeLhs()),
            operandMap(matmul.getRhs(), k, n, matmul.getTransposeRhs()),
            AffineMap::get(loops, 0, result, ctx)};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [&](size_t) { return !stretches(op); });
  }
};

/// mm.reduce sum / max / min without keep_dims: one loop per input dim, the
/// reduced ones reductions of the op's kind. A split reduced dim reduces
/// locally, then an all_reduce of that kind over its grid axes (the
/// clipping norm of split gradients: each rank's sum of squares, then one
/// scalar all_reduce). Mean, product and keep_dims are whole on every rank.
struct ReduceModel : ShardingInterface::ExternalModel<ReduceModel, ReduceOp> {
  static std::optional<ReductionKind> splittable(Operation *op) {
    auto reduce = llvm::cast<ReduceOp>(op);
    if (reduce.getKeepDims())
      return std::nullopt;
    switch (reduce.getKind()) {
    case ReduceKind::Sum:
      return ReductionKind::Sum;
    case ReduceKind::Max:
      return ReductionKind::Max;
    case ReduceKind::Min:
      return ReductionKind::Min;
    case ReduceKind::Mean:
    case ReduceKind::Prod:
      return std::nullopt;
    }
    return std::nullopt;
  }
  static SmallVector<bool> reduced(Operation *op) {
    auto reduce = llvm::cast<ReduceOp>(op);
    int64_t rank = rankOf(reduce.getInput());
    SmallVector<bool> is(rank, false);
    for (int64_t d : reduce.getDims())
      is[d < 0 ? d + rank : d] = true;
    return is;
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    if (!splittable(op))
      return SmallVector<utils::IteratorType>(unrelatedDimCount(op),
                                              utils::IteratorType::parallel);
    SmallVector<utils::IteratorType> types;
    for (bool r : reduced(op))
      types.push_back(r ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    return types;
  }
  SmallVector<ReductionKind> getReductionLoopIteratorKinds(Operation *op) const {
    std::optional<ReductionKind> kind = splittable(op);
    if (!kind)
      return {};
    return SmallVector<ReductionKind>(llvm::count(reduced(op), true), *kind);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    if (!splittable(op))
      return unrelatedDimMaps(op);
    MLIRContext *ctx = op->getContext();
    SmallVector<bool> is = reduced(op);
    int64_t loops = static_cast<int64_t>(is.size());
    SmallVector<AffineExpr> kept;
    for (int64_t d = 0; d < loops; ++d)
      if (!is[d])
        kept.push_back(getAffineDimExpr(d, ctx));
    return {AffineMap::getMultiDimIdentityMap(loops, ctx), AffineMap::get(loops, 0, kept, ctx)};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    // A reduction to a scalar learns nothing of its input's split from its
    // result: until the input has a sharding, no option (else the backward
    // half of the propagation would make the input whole, e.g. the squares
    // of a gradient for the clipping norm, before the update splits it).
    if (splittable(op) && rankOf(op->getResult(0)) == 0 && (operands.empty() || !operands[0]))
      return ShardingOption::makeEmpty();
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [&](size_t) { return splittable(op).has_value(); });
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    return partitionReducingSplitLoops(op, partitioned, operandShardings, resultShardings, map,
                                       symbols, b, getLoopIteratorTypes(op), getIndexingMaps(op),
                                       splittable(op).value_or(ReductionKind::Sum));
  }
};

/// mm.rms_norm normalises over the last dim. Leading dims are parallel. A
/// split last dim (the lightning output's norm over every head, under tensor
/// parallelism) needs no gather: each rank sums its squares, one all_reduce
/// of [..., 1] completes the mean, and each rank normalises its own columns.
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
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    ShardingArray assignment = getGridAxisAssignmentForLoopIterators(
        operandShardings, resultShardings, getLoopIteratorTypes(op), getIndexingMaps(op));
    if (assignment.empty() || assignment.back().empty())
      return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    auto norm = llvm::cast<RmsNormOp>(op);
    auto whole = llvm::cast<RankedTensorType>(norm.getInput().getType());
    if (whole.isDynamicDim(whole.getRank() - 1))
      return op->emitOpError("a split normalised dim must be static");
    GradientBuilder gb(b, op->getLoc());
    Value x = partitioned[0], g = partitioned[1];
    Type element = rankedOf(x).getElementType();
    Type f32 = b.getF32Type();
    if (element != f32) { // accumulated in float32, as the op is
      x = gb.cast(x, f32);
      g = gb.cast(g, f32);
    }
    int64_t last = whole.getRank() - 1;
    Value squares = gb.sum(gb.mul(x, x), {last}, /*keepDims=*/true);
    Value total = AllReduceOp::create(b, op->getLoc(), squares, operandShardings[0].getGrid(),
                                      assignment.back(), ReductionKind::Sum);
    Value meanSquare = gb.div(total, gb.scalar(total, double(whole.getDimSize(last))));
    Value scale = gb.sqrt(gb.add(meanSquare, gb.scalar(meanSquare, norm.getEpsilon().convertToDouble())));
    Value y = gb.mul(gb.div(x, scale), g);
    if (element != f32)
      y = gb.cast(y, element);
    map.map(op->getResult(0), y);
    return success();
  }
};

/// mm.slice: one parallel loop per dim; the sliced dim stays whole.
struct SliceModel : LocallyPartitioned<SliceModel, SliceOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(rankOf(op->getResult(0)),
                                            utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    AffineMap identity = AffineMap::getMultiDimIdentityMap(rankOf(op->getResult(0)),
                                                           op->getContext());
    return {identity, identity};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    return withLoopWhole(shard::detail::defaultGetShardingOption(op, operands, results),
                         getLoopIteratorTypes(op).size(), cast<SliceOp>(op).getDim());
  }
};

/// mm.reshape that splits the last dim in two ([..., H*d] -> [..., H, d],
/// heads out of a projection) or merges the last two ([..., H, d] ->
/// [..., H*d]), leading dims unchanged. Loops are the finer dims (..., h, e);
/// the coarse dim is indexed by h, its major factor, so splitting h into n
/// blocks is splitting H*d into n blocks (H % n == 0). e stays whole. A
/// reshape that regroups the leading dims and keeps the last splits that
/// last dim only. Any other reshape keeps every dim whole.
struct ReshapeModel : ShardingInterface::ExternalModel<ReshapeModel, ReshapeOp> {
  /// The rank of the finer side when this is a last-dim split or merge.
  static std::optional<int64_t> finerRank(ReshapeOp op) {
    auto in = rankedOf(op.getInput()), out = rankedOf(op.getResult());
    auto fine = in.getRank() > out.getRank() ? in : out;
    auto coarse = in.getRank() > out.getRank() ? out : in;
    int64_t r = fine.getRank();
    if (r < 2 || coarse.getRank() != r - 1)
      return std::nullopt;
    for (int64_t i = 0; i + 2 < r; ++i)
      if (fine.getDimSize(i) != coarse.getDimSize(i))
        return std::nullopt;
    if (fine.isDynamicDim(r - 2) || fine.isDynamicDim(r - 1) || coarse.isDynamicDim(r - 2) ||
        fine.getDimSize(r - 2) * fine.getDimSize(r - 1) != coarse.getDimSize(r - 2))
      return std::nullopt;
    return r;
  }
  /// Whether the leading dims regroup and the last dim stays (a flatten of
  /// [b, t, d] to [b t, d] before a weight gradient's product): the last dim
  /// may split, the regrouped ones stay whole.
  static bool keepsLastDim(ReshapeOp op) {
    auto in = rankedOf(op.getInput()), out = rankedOf(op.getResult());
    if (finerRank(op) || in.getRank() < 1 || out.getRank() < 1 ||
        in.isDynamicDim(in.getRank() - 1) ||
        in.getDimSize(in.getRank() - 1) != out.getDimSize(out.getRank() - 1))
      return false;
    // A spec entry 0 copies the input dim at its index: only a leading one
    // (which stays whole) may, not the last nor the input's last.
    ArrayRef<int64_t> spec = op.getShape();
    for (size_t i = 0; i < spec.size(); ++i)
      if (spec[i] == 0 && (i + 1 >= spec.size() || int64_t(i) + 1 >= in.getRank()))
        return false;
    return true;
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    auto reshape = cast<ReshapeOp>(op);
    int64_t rin = rankOf(reshape.getInput()), rout = rankOf(reshape.getResult());
    int64_t loops = keepsLastDim(reshape) ? rin + rout - 1 : std::max(rin, rout);
    return SmallVector<utils::IteratorType>(loops, utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    auto reshape = cast<ReshapeOp>(op);
    MLIRContext *ctx = op->getContext();
    int64_t rin = rankOf(reshape.getInput()), rout = rankOf(reshape.getResult());
    if (keepsLastDim(reshape)) {
      // Loops: the input's leading dims, the output's, then the last dim.
      int64_t loops = rin + rout - 1, next = 0;
      auto map = [&](int64_t rank) {
        SmallVector<AffineExpr> dims;
        for (int64_t i = 0; i + 1 < rank; ++i)
          dims.push_back(getAffineDimExpr(next++, ctx));
        dims.push_back(getAffineDimExpr(loops - 1, ctx));
        return AffineMap::get(loops, 0, dims, ctx);
      };
      AffineMap input = map(rin);
      return {input, map(rout)};
    }
    int64_t loops = std::max(rin, rout);
    // The first `rank` loops, in order: the finer side whole, the coarser
    // one without e (and, for an unmodelled reshape, a placeholder: every
    // loop is kept whole then, see getShardingOption).
    auto leading = [&](int64_t rank) {
      SmallVector<AffineExpr> dims;
      for (int64_t i = 0; i < rank; ++i)
        dims.push_back(getAffineDimExpr(i, ctx));
      return AffineMap::get(loops, 0, dims, ctx);
    };
    return {leading(rin), leading(rout)};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    auto reshape = cast<ReshapeOp>(op);
    size_t loops = getLoopIteratorTypes(op).size();
    std::optional<int64_t> fine = finerRank(reshape);
    FailureOr<ShardingOption> option = shard::detail::defaultGetShardingOption(op, operands, results);
    if (keepsLastDim(reshape))
      return keepSplits(option, [&](size_t loop) { return loop + 1 == loops; });
    if (!fine) { // unmodelled: everything whole
      if (succeeded(option) && !option->empty)
        for (auto &axes : option->shardingArray)
          axes.clear();
      return option;
    }
    return withLoopWhole(option, loops, *fine - 1);
  }
  /// The same reshape on the part: the spec's static sizes become the part's.
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    auto reshape = cast<ReshapeOp>(op);
    auto local = llvm::cast<RankedTensorType>(
        shardType(reshape.getResult().getType(),
                  symbols.lookupNearestSymbolFrom<GridOp>(op, resultShardings[0].getGridAttr()),
                  resultShardings[0]));
    SmallVector<int64_t> spec(reshape.getShape());
    for (auto [i, s] : llvm::enumerate(spec))
      if (s > 0)
        s = local.getDimSize(i);
    Value part = ReshapeOp::create(b, op->getLoc(), local, partitioned[0],
                                   b.getDenseI64ArrayAttr(spec));
    map.map(reshape.getResult(), part);
    return success();
  }
};

/// A model from a list of named loops: each operand and result lists the
/// loops that index its dims, and only `splittable` loops may be split; the
/// others stay whole (the passes gather them where they arrive split). The
/// part runs the op unchanged on its operands' parts.
struct LoopTable {
  SmallVector<StringRef> loops;
  SmallVector<SmallVector<StringRef>> operands, results;
  SmallVector<StringRef> splittable;

  SmallVector<AffineMap> maps(MLIRContext *ctx) const {
    SmallVector<AffineMap> out;
    for (const auto *list : {&operands, &results})
      for (const SmallVector<StringRef> &dims : *list) {
        SmallVector<AffineExpr> exprs;
        for (StringRef d : dims)
          exprs.push_back(getAffineDimExpr(llvm::find(loops, d) - loops.begin(), ctx));
        out.push_back(AffineMap::get(loops.size(), 0, exprs, ctx));
      }
    return out;
  }
  FailureOr<ShardingOption> keepWhole(FailureOr<ShardingOption> option) const {
    return keepSplits(option, [&](size_t i) {
      return i >= loops.size() || llvm::is_contained(splittable, loops[i]);
    });
  }
  /// `given` (an operand's or result's sharding) without the splits of its
  /// dims that must stay whole. The default option sees only splits it may
  /// keep: a sequence split on both the queries (tq, splittable) and the
  /// keys (tk, whole) would otherwise claim one grid axis for two loops,
  /// and the default option gives up.
  Sharding withoutWholeSplits(const Sharding &given, ArrayRef<StringRef> dims) const {
    if (!given)
      return given;
    SmallVector<GridAxesAttr> axes(given.getSplitAxes());
    bool changed = false;
    for (auto [i, a] : llvm::enumerate(axes))
      if (i < dims.size() && !a.empty() && !llvm::is_contained(splittable, dims[i])) {
        a = GridAxesAttr::get(a.getContext(), {});
        changed = true;
      }
    return changed ? Sharding::get(given.getGridAttr(), axes) : given;
  }
};

template <typename Derived, typename Op>
struct LoopTableModel : LocallyPartitioned<Derived, Op> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(Derived::table(cast<Op>(op)).loops.size(),
                                            utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    return Derived::table(cast<Op>(op)).maps(op->getContext());
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    LoopTable t = Derived::table(cast<Op>(op));
    SmallVector<Sharding, 4> keptOperands, keptResults;
    for (auto [i, s] : llvm::enumerate(operands))
      keptOperands.push_back(i < t.operands.size() ? t.withoutWholeSplits(s, t.operands[i]) : s);
    for (auto [i, s] : llvm::enumerate(results))
      keptResults.push_back(i < t.results.size() ? t.withoutWholeSplits(s, t.results[i]) : s);
    return t.keepWhole(shard::detail::defaultGetShardingOption(op, keptOperands, keptResults));
  }
};

/// mm.rope on [B, T, heads, d]: batch, time and heads split (each token
/// rotates by its own position, so a context-parallel chunk rotates with its
/// chunk of the positions); the rotated dim stays whole.
struct RopeModel : LoopTableModel<RopeModel, RopeOp> {
  static LoopTable table(RopeOp) {
    return {{"b", "t", "h", "d"}, {{"b", "t", "h", "d"}, {"b", "t"}}, {{"b", "t", "h", "d"}},
            {"b", "t", "h"}};
  }
};

/// The grid axes splitting dim `dim` of an operand with sharding `s`.
ArrayRef<GridAxis> axesOfDim(const Sharding &s, size_t dim) {
  return s && s.getSplitAxes().size() > dim ? s.getSplitAxes()[dim].asArrayRef()
                                            : ArrayRef<GridAxis>();
}

/// mm.attention (grouped-query, optionally with a KV cache): batch and KV
/// heads split. A query head belongs to KV head h / group and the heads of a
/// group are adjacent, so the query's head dim is indexed by the KV-head
/// loop, its major factor: splitting KV heads into n blocks splits the query
/// heads into the matching n blocks. Past the KV heads' count, the model
/// repeats them first (a take-form mm.gather, split with them). Without a
/// cache (or a query_start already) the queries' sequence splits too, over
/// context-parallel ranks, against every key (partitionAttentionSequence).
struct AttentionModel : LoopTableModel<AttentionModel, AttentionOp> {
  static LoopTable table(AttentionOp op) {
    LoopTable t{{"b", "tq", "kvh", "dk", "dv", "tk"},
                {{"b", "tq", "kvh", "dk"}, {"b", "tk", "kvh", "dk"}, {"b", "tk", "kvh", "dv"}},
                {{"b", "tq", "kvh", "dv"}},
                {"b", "kvh"}};
    if (!op.getKeyCache() && !op.getQueryStart())
      t.splittable.push_back("tq");
    if (op.getQueryStart()) {
      t.loops.push_back("one");
      t.operands.push_back({"one"});
    }
    if (op.getKeyCache()) {
      t.loops.push_back("s");
      t.operands.push_back({"b", "s", "kvh", "dk"});
      t.operands.push_back({"b", "s", "kvh", "dv"});
    }
    if (op.getCachePositions())
      t.operands.push_back({"b"});
    if (op.getKeyMask()) // (every key on every rank: its mask is whole too)
      t.operands.push_back({"b", "tk"});
    for (size_t i = 0; i < op.getUpdatedCache().size(); ++i)
      t.results.push_back({"b", "s", "kvh", i == 0 ? "dk" : "dv"});
    return t;
  }
  /// An updated cache nothing reads is this rank's part, as its cache is.
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    auto attention = cast<AttentionOp>(op);
    SmallVector<Sharding, 3> results(resultShardings.begin(), resultShardings.end());
    for (size_t i = 0; i < attention.getUpdatedCache().size(); ++i)
      if (!results[1 + i])
        results[1 + i] = operandShardings[3 + i];
    if (failed(partitionLocally(op, partitioned, operandShardings, results, map, symbols, b)))
      return failure();
    ArrayRef<GridAxis> seqAxes = axesOfDim(operandShardings[0], 1);
    if (seqAxes.empty())
      return success();
    auto local = cast<AttentionOp>(map.lookup(op->getResult(0)).getDefiningOp());
    return partitionAttentionSequence(local, operandShardings[0], seqAxes, b);
  }
};

/// mm.attention_grad (no cache): the loops of mm.attention, batch and KV
/// heads split; each rank's heads' gradients from its heads' q, k, v, o and
/// do (Megatron's attention backward under tensor parallelism). The queries'
/// sequence splits as the forward's; dk and dv are then each chunk's share,
/// summed over the chunks (partitionAttentionGradSequence).
struct AttentionGradModel : LoopTableModel<AttentionGradModel, AttentionGradOp> {
  static LoopTable table(AttentionGradOp op) {
    LoopTable t{{"b", "tq", "kvh", "dk", "dv", "tk"},
                {{"b", "tq", "kvh", "dk"},
                 {"b", "tk", "kvh", "dk"},
                 {"b", "tk", "kvh", "dv"},
                 {"b", "tq", "kvh", "dv"},
                 {"b", "tq", "kvh", "dv"}},
                {{"b", "tq", "kvh", "dk"}, {"b", "tk", "kvh", "dk"}, {"b", "tk", "kvh", "dv"}},
                {"b", "kvh"}};
    if (op.getQueryStart()) {
      t.loops.push_back("one");
      t.operands.push_back({"one"});
    } else {
      t.splittable.push_back("tq");
    }
    if (op.getKeyMask())
      t.operands.push_back({"b", "tk"});
    return t;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    if (failed(partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols,
                                b)))
      return failure();
    ArrayRef<GridAxis> seqAxes = axesOfDim(operandShardings[0], 1);
    if (seqAxes.empty())
      return success();
    auto grad = cast<AttentionGradOp>(op);
    auto local = cast<AttentionGradOp>(map.lookup(op->getResult(0)).getDefiningOp());
    return partitionAttentionGradSequence(local, operandShardings[0], seqAxes, map,
                                          grad.getGradKey(), grad.getGradValue(), b);
  }
};

/// Partitions a lightning op (the forward or its gradient) whose heads may
/// split. A head's decay slope depends on its place among all the heads, so
/// a rank running a block of them reads their global indices: partitioning
/// the heads adds head_index, this rank's all_slice of the iota of every
/// head, and total_heads. Result `state` is [b, h, dk, dv] (the final
/// state, or the initial state's gradient), the others [b, t, h, d].
template <typename LightningOp>
LogicalResult partitionLightningHeads(Operation *op, ArrayRef<Value> partitioned,
                                      ArrayRef<Sharding> operandShardings,
                                      ArrayRef<Sharding> resultShardings, IRMapping &map,
                                      SymbolTableCollection &symbols, OpBuilder &b,
                                      unsigned state) {
  auto la = cast<LightningOp>(op);
  const Sharding &query = operandShardings[0];
  ArrayRef<GridAxis> headAxes;
  if (query && query.getSplitAxes().size() > 2)
    headAxes = query.getSplitAxes()[2].asArrayRef();
  if (headAxes.empty() || la.getHeadIndex()) // (an existing head_index splits with the heads)
    return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
  int64_t heads = rankedOf(la.getQuery()).getDimSize(2);
  if (ShapedType::isDynamic(heads))
    return op->emitOpError("splits a dynamic head count: its heads' slopes are unknown");
  auto grid = SymbolTable::lookupNearestSymbolFrom<GridOp>(op, query.getGridAttr());
  if (!grid)
    return op->emitOpError("the grid @") << query.getGrid() << " is not in the module";
  int64_t parts = 1;
  for (GridAxis a : headAxes)
    parts *= grid.getShape()[a];
  if (heads % parts != 0)
    return op->emitOpError("its ") << heads << " heads do not split into " << parts << " parts";
  // A result nothing reads is this rank's heads' all the same: the state
  // split as [b, h, dk, dv], the others ([b, t, h, d]) as the query.
  SmallVector<Sharding, 4> results(resultShardings.begin(), resultShardings.end());
  ArrayRef<GridAxesAttr> q = query.getSplitAxes();
  auto none = GridAxesAttr::get(b.getContext(), {});
  for (auto [i, r] : llvm::enumerate(results))
    if (!r)
      r = i == state ? Sharding::get(query.getGridAttr(), {q[0], q[2], none, none}) : query;
  if (failed(partitionLocally(op, partitioned, operandShardings, results, map, symbols, b)))
    return failure();
  auto local = cast<LightningOp>(map.lookup(op->getResult(0)).getDefiningOp());
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(local);
  SmallVector<int64_t> iota(heads);
  for (int64_t h = 0; h < heads; ++h)
    iota[h] = h;
  local.getHeadIndexMutable().assign(
      thisRanksBlock(b, op->getLoc(), iota, parts, query.getGrid(), headAxes));
  local.setTotalHeads(heads);
  return success();
}

/// mm.lightning_attention and its gradient: batch and heads split
/// (partitionLightningHeads). The sequence splits too, over context-parallel
/// ranks (LASP+, partitionLightningSequence and its gradient's), unless the
/// op reads right-padded lengths; with the heads or without. The gradient
/// reads the forward's operands and the output and final-state gradients,
/// and returns one gradient per float operand; the state ([b, h, dk, dv])
/// is the last result of both.
template <typename Op>
struct LightningModel : LoopTableModel<LightningModel<Op>, Op> {
  static constexpr bool kGradient = std::is_same_v<Op, LightningAttentionGradOp>;
  static LoopTable table(Op op) {
    LoopTable t{{"b", "t", "h", "dk", "dv"},
                {{"b", "t", "h", "dk"}, {"b", "t", "h", "dk"}, {"b", "t", "h", "dv"}},
                {{"b", "t", "h", "dv"}, {"b", "h", "dk", "dv"}},
                {"b", "h"}};
    if (!op.getLengths())
      t.splittable.push_back("t");
    if (kGradient) {
      t.operands.push_back({"b", "t", "h", "dv"});
      t.operands.push_back({"b", "h", "dk", "dv"});
      t.results = {{"b", "t", "h", "dk"}, {"b", "t", "h", "dk"}, {"b", "t", "h", "dv"},
                   {"b", "h", "dk", "dv"}};
    }
    if (op.getInitialState())
      t.operands.push_back({"b", "h", "dk", "dv"});
    if (op.getLengths())
      t.operands.push_back({"b"});
    if (op.getHeadIndex())
      t.operands.push_back({"h"});
    return t;
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    const Sharding &query = operandShardings[0];
    auto axesOf = [&](size_t dim) { return axesOfDim(query, dim); };
    ArrayRef<GridAxis> seqAxes = axesOf(1);
    if (seqAxes.empty())
      return partitionLightningHeads<Op>(op, partitioned, operandShardings, resultShardings, map,
                                         symbols, b, /*state=*/op->getNumResults() - 1);
    // Heads split too (tp x cp): the rank's heads first, then LASP+ among
    // the ranks holding the same heads.
    if (failed(axesOf(2).empty()
                   ? partitionLocally(op, partitioned, operandShardings, resultShardings, map,
                                      symbols, b)
                   : partitionLightningHeads<Op>(op, partitioned, operandShardings,
                                                 resultShardings, map, symbols, b,
                                                 /*state=*/op->getNumResults() - 1)))
      return failure();
    auto local = cast<Op>(map.lookup(op->getResult(0)).getDefiningOp());
    Value state = op->getResult(op->getNumResults() - 1);
    if constexpr (kGradient)
      return partitionLightningGradSequence(local, query, seqAxes, map, state, b);
    else
      return partitionLightningSequence(local, query, seqAxes, map, state, b);
  }
};

/// Every tensor dim of `op` a loop of its own: no split carries across it.
int64_t unrelatedDimCount(Operation *op) {
  int64_t n = 0;
  for (Type t : llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
    n += llvm::cast<RankedTensorType>(t).getRank();
  return n;
}
SmallVector<AffineMap> unrelatedDimMaps(Operation *op) {
  SmallVector<AffineMap> maps;
  int64_t next = 0, total = unrelatedDimCount(op);
  for (Type t : llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes())) {
    SmallVector<AffineExpr> dims;
    for (int64_t i = 0; i < llvm::cast<RankedTensorType>(t).getRank(); ++i)
      dims.push_back(getAffineDimExpr(next++, op->getContext()));
    maps.push_back(AffineMap::get(total, 0, dims, op->getContext()));
  }
  return maps;
}

/// Ops with no split modelled yet (the MoE router, dispatch and combine,
/// softmax, the losses other than the cross-entropy and their gradients,
/// convolutions, the recommender ops): every operand and result is whole
/// on every rank. Each tensor dim
/// is a loop of its own, so no split carries across the op; a split operand
/// is gathered before it.
template <typename Op>
struct WholeModel : LocallyPartitioned<WholeModel<Op>, Op> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(unrelatedDimCount(op), utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const { return unrelatedDimMaps(op); }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [](size_t) { return false; });
  }
};

/// mm.embedding: loops b... (the ids' dims), h (the width) and v (the
/// vocabulary, a sum: a result row is the sum over the table's rows of "this
/// row is the id's" times the row). v splits: Megatron's vocab-parallel
/// embedding. Each rank looks its ids up in its block of rows (`rows_from`,
/// the block's first row, an all_slice of every block's; other ids give zero
/// rows) and an all_reduce over v's axes completes every row. A part that
/// already has `rows_from` keeps every dim whole.
struct EmbeddingModel : ShardingInterface::ExternalModel<EmbeddingModel, EmbeddingOp> {
  static bool isPart(Operation *op) { return bool(cast<EmbeddingOp>(op).getRowsFrom()); }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    if (isPart(op))
      return SmallVector<utils::IteratorType>(unrelatedDimCount(op), utils::IteratorType::parallel);
    SmallVector<utils::IteratorType> types(rankOf(op->getOperand(1)) + 1,
                                           utils::IteratorType::parallel);
    types.push_back(utils::IteratorType::reduction);
    return types;
  }
  SmallVector<ReductionKind> getReductionLoopIteratorKinds(Operation *op) const {
    return isPart(op) ? SmallVector<ReductionKind>{} : SmallVector<ReductionKind>{ReductionKind::Sum};
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    if (isPart(op))
      return unrelatedDimMaps(op);
    MLIRContext *ctx = op->getContext();
    int64_t batch = rankOf(op->getOperand(1)), loops = batch + 2;
    AffineExpr h = getAffineDimExpr(batch, ctx), v = getAffineDimExpr(batch + 1, ctx);
    SmallVector<AffineExpr> ids = leadingLoops(batch, ctx), result = ids;
    result.push_back(h);
    return {AffineMap::get(loops, 0, {v, h}, ctx), AffineMap::get(loops, 0, ids, ctx),
            AffineMap::get(loops, 0, result, ctx)};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    bool part = isPart(op);
    size_t width = part ? 0 : static_cast<size_t>(rankOf(op->getOperand(1)));
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [&](size_t loop) { return !part && loop != width; });
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    if (isPart(op)) {
      if (llvm::any_of(operandShardings, [](const Sharding &s) {
            return s && llvm::any_of(s.getSplitAxes(), [](GridAxesAttr a) { return !a.empty(); });
          }))
        return op->emitOpError("a vocab-parallel part (rows_from) does not split again");
      return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    }
    SmallVector<utils::IteratorType> loops = getLoopIteratorTypes(op);
    SmallVector<GridAxis> axes = getReductionGridAxes(
        loops, getGridAxisAssignmentForLoopIterators(operandShardings, resultShardings, loops,
                                                     getIndexingMaps(op)));
    if (axes.empty())
      return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    auto whole = rankedOf(op->getOperand(0));
    const Sharding &table = operandShardings[0];
    auto grid = getGrid(op, table.getGridAttr(), symbols);
    int64_t rows = rankedOf(partitioned[0]).getDimSize(0), vocab = whole.getDimSize(0);
    if (ShapedType::isDynamic(vocab) || ShapedType::isDynamic(rows))
      return op->emitOpError("splits a dynamic vocabulary");
    int64_t parts = vocab / rows;
    SmallVector<int64_t> firsts(parts);
    for (int64_t p = 0; p < parts; ++p)
      firsts[p] = p * rows;
    Value mine = thisRanksBlock(b, op->getLoc(), firsts, parts, grid.getSymName(), axes);
    Value local = EmbeddingOp::create(b, op->getLoc(), partitioned[0], partitioned[1], mine,
                                      b.getI64IntegerAttr(vocab));
    map.map(op->getResult(0), AllReduceOp::create(b, op->getLoc(), local, grid.getSymName(), axes,
                                                  ReductionKind::Sum)
                                  .getResult());
    return success();
  }
};

/// mm.gather in NumPy's take form (batch_dims 0, 1-D indices): a loop per
/// result dim, and one more for the input's gathered dim, which stays whole
/// (an index may pick any entry). The indices split with the result's
/// gathered dim, so each rank gathers its block of the result from its block
/// of the indices, with no communication: replicated KV heads are such a
/// gather, split by heads. The other forms keep every dim whole.
struct GatherModel : ShardingInterface::ExternalModel<GatherModel, GatherOp> {
  static bool isTake(Operation *op) {
    auto g = cast<GatherOp>(op);
    return g.getBatchDims() == 0 && rankOf(g.getIndices()) == 1;
  }
  /// The gathered dim, a negative one counted from the back.
  static int64_t gatheredDim(Operation *op) {
    int64_t dim = cast<GatherOp>(op).getDim(), rank = rankOf(op->getResult(0));
    return dim < 0 ? dim + rank : dim;
  }
  /// Whether the indices come, through their annotations, from an op with no
  /// sharding model (a constant head map): the partition leaves it whole.
  static bool indicesArriveWhole(Operation *op) {
    Value v = op->getOperand(1);
    while (auto annotation = v.getDefiningOp<ShardOp>())
      v = annotation.getSrc();
    Operation *producer = v.getDefiningOp();
    return producer && !isa<ShardingInterface>(producer);
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    int64_t loops = isTake(op) ? rankOf(op->getResult(0)) + 1 : unrelatedDimCount(op);
    return SmallVector<utils::IteratorType>(loops, utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    if (!isTake(op))
      return unrelatedDimMaps(op);
    MLIRContext *ctx = op->getContext();
    int64_t rank = rankOf(op->getResult(0)), dim = gatheredDim(op);
    int64_t loops = rank + 1; // loop `rank` walks the input's gathered dim
    SmallVector<AffineExpr> result = leadingLoops(rank, ctx), input = result;
    input[dim] = getAffineDimExpr(rank, ctx);
    return {AffineMap::get(loops, 0, input, ctx),
            AffineMap::get(loops, 0, {getAffineDimExpr(dim, ctx)}, ctx),
            AffineMap::get(loops, 0, result, ctx)};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    bool take = isTake(op);
    size_t source = take ? static_cast<size_t>(rankOf(op->getResult(0))) : 0;
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [&](size_t loop) { return take && loop != source; });
  }
  /// Indices made by an op with no sharding model (a constant head map)
  /// arrive whole where their sharding says split: each rank slices its
  /// block first (all_slice, no communication). Indices from a partitioned
  /// producer or argument are this rank's already.
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    const Sharding &indices = operandShardings[1];
    Value whole = op->getOperand(1);
    if (!isTake(op) || !indices || indices.getSplitAxes().empty() ||
        indices.getSplitAxes()[0].empty() || !indicesArriveWhole(op))
      return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    ShapedType local =
        shardShapedType(rankedOf(whole), getGrid(op, indices.getGridAttr(), symbols), indices);
    Value mine = AllSliceOp::create(b, op->getLoc(), local, partitioned[1], indices.getGrid(),
                                    indices.getSplitAxes()[0].asArrayRef(), /*sliceAxis=*/0);
    // The local op is cloned through `map`: the slice stands for the
    // indices only while it is.
    map.map(whole, mine);
    LogicalResult done =
        partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    map.map(whole, partitioned[1]);
    return done;
  }
};

template <typename... Ops>
void attachWhole(MLIRContext *ctx) {
  (Ops::template attachInterface<WholeModel<Ops>>(*ctx), ...);
}

/// This rank's group offsets when the `experts` split into blocks of `local`
/// over `expertAxes`: its block of the group starts and of the group ends
/// (all_slice, no communication), the last end appended. Row indices stay
/// global (the rows are whole).
FailureOr<Value> localGroupOffsets(Operation *op, OpBuilder &b, Value offsets, int64_t experts,
                                   int64_t local, StringRef grid, ArrayRef<GridAxis> expertAxes) {
  if (ShapedType::isDynamic(experts) || ShapedType::isDynamic(local) || local < 1)
    return op->emitOpError("splits a dynamic expert count");
  Location loc = op->getLoc();
  auto slice = [&](Value x, int64_t start, int64_t end) -> Value {
    return SliceOp::create(b, loc, x, b.getI64IntegerAttr(0), b.getI64IntegerAttr(start),
                           b.getI64IntegerAttr(end), b.getI64IntegerAttr(1));
  };
  auto mine = [&](Value x) -> Value {
    return AllSliceOp::create(b, loc, RankedTensorType::get({local}, b.getI64Type()), x, grid,
                              expertAxes, /*sliceAxis=*/0);
  };
  Value starts = mine(slice(offsets, 0, experts));
  Value ends = mine(slice(offsets, 1, experts + 1));
  return ConcatOp::create(b, loc, ValueRange{starts, slice(ends, local - 1, local)},
                          b.getI64IntegerAttr(0))
      .getResult();
}

/// mm.grouped_matmul's loops: the rows, the out and in features, the
/// experts and the offsets.
enum GroupedLoop : unsigned { kRows, kOut, kIn, kExperts, kOffsets, kGroupedLoops };
SmallVector<AffineMap> groupedMaps(MLIRContext *ctx,
                                   std::initializer_list<std::initializer_list<unsigned>> operands) {
  SmallVector<AffineMap> maps;
  for (auto loops : operands) {
    SmallVector<AffineExpr> dims;
    for (unsigned l : loops)
      dims.push_back(getAffineDimExpr(l, ctx));
    maps.push_back(AffineMap::get(kGroupedLoops, 0, dims, ctx));
  }
  return maps;
}

/// mm.grouped_matmul: loops r (rows), n (out), k (in, a sum), e (experts, a
/// sum: row r's product is the sum over experts of "r in e's group" times
/// x_r W_e^T) and o (the offsets, whole). e, n and k split. e is expert
/// parallelism: a rank holds a block of the experts and computes the rows of
/// their groups (the others are zero) from its block of the offsets. n and k
/// are expert tensor parallelism (each expert's FFN width, column parallel
/// in w1 / w3, row parallel in w2): a split n needs nothing, a split k makes
/// a partial sum. One all_reduce over the expert and k axes completes every
/// row, since each row belongs to one expert.
struct GroupedMatmulModel : ShardingInterface::ExternalModel<GroupedMatmulModel, GroupedMatmulOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    using utils::IteratorType;
    return {IteratorType::parallel, IteratorType::parallel, IteratorType::reduction,
            IteratorType::reduction, IteratorType::parallel};
  }
  SmallVector<ReductionKind> getReductionLoopIteratorKinds(Operation *) const {
    return {ReductionKind::Sum, ReductionKind::Sum};
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    return groupedMaps(op->getContext(),
                       {{kRows, kIn}, {kExperts, kOut, kIn}, {kOffsets}, {kRows, kOut}});
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [](size_t loop) { return loop != kRows && loop != kOffsets; });
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    SmallVector<utils::IteratorType> loops = getLoopIteratorTypes(op);
    ShardingArray assignment = getGridAxisAssignmentForLoopIterators(
        operandShardings, resultShardings, loops, getIndexingMaps(op));
    // The sums over k and e (loops 2 and 3): the partial products' axes.
    SmallVector<GridAxis> sumAxes = getReductionGridAxes(loops, assignment);
    if (sumAxes.empty())
      return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    ArrayRef<GridAxis> expertAxes = assignment.size() > kExperts
                                        ? ArrayRef<GridAxis>(assignment[kExperts])
                                        : ArrayRef<GridAxis>();
    const Sharding &weight = operandShardings[1];
    auto grouped = cast<GroupedMatmulOp>(op);
    int64_t experts = rankedOf(grouped.getWeight()).getDimSize(0);
    int64_t local = rankedOf(partitioned[1]).getDimSize(0);
    Location loc = op->getLoc();
    Value offsets = partitioned[2];
    if (!expertAxes.empty()) {
      FailureOr<Value> mine =
          localGroupOffsets(op, b, offsets, experts, local, weight.getGrid(), expertAxes);
      if (failed(mine))
        return failure();
      offsets = *mine;
    }
    Value part = GroupedMatmulOp::create(b, loc, partitioned[0], partitioned[1], offsets);
    llvm::sort(sumAxes); // (the group's rank order, whichever loop split first)
    Value sum = AllReduceOp::create(b, loc, part, weight.getGrid(), sumAxes, ReductionKind::Sum);
    map.map(op->getResult(0), sum);
    return success();
  }
};

/// mm.grouped_matmul_weight_grad: dW[e, n, k] = sum over the rows r of group
/// e of g[r, n] x[r, k]. Loops e, n, k (parallel), r (the rows, a sum, kept
/// whole) and o (the offsets, whole). e splits as in mm.grouped_matmul (expert
/// parallelism: a rank's block of the experts from its block of the
/// offsets), n and k as each expert's FFN width does (etp: n in w1 / w3, k
/// in w2). Every rank holds every row, so nothing is reduced.
enum WeightGradLoop : unsigned { kWgExperts, kWgOut, kWgIn, kWgRows, kWgOffsets, kWgLoops };
struct GroupedMatmulWeightGradModel
    : ShardingInterface::ExternalModel<GroupedMatmulWeightGradModel, GroupedMatmulWeightGradOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *) const {
    using utils::IteratorType;
    return {IteratorType::parallel, IteratorType::parallel, IteratorType::parallel,
            IteratorType::reduction, IteratorType::parallel};
  }
  SmallVector<ReductionKind> getReductionLoopIteratorKinds(Operation *) const {
    return {ReductionKind::Sum};
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    static_assert(unsigned(kWgLoops) == unsigned(kGroupedLoops), "groupedMaps: 5 loops");
    return groupedMaps(op->getContext(), {{kWgRows, kWgOut}, {kWgRows, kWgIn}, {kWgOffsets},
                                          {kWgExperts, kWgOut, kWgIn}});
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    // Only the result says how the experts split: until a user has said
    // it (the update of the rank's experts, seen by the backward half of
    // the propagation), no option, so the forward half does not fix the
    // gradient whole on every rank.
    if (results.empty() || !results[0])
      return ShardingOption::makeEmpty();
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [](size_t loop) { return loop != kWgRows && loop != kWgOffsets; });
  }
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    // The experts' split is the result's dim 0 (upstream's loop assignment
    // reads the operands only, and no operand has an experts dim).
    const Sharding &result = resultShardings[0];
    if (!result || result.getSplitAxes().empty() || result.getSplitAxes()[0].empty())
      return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    ArrayRef<GridAxis> expertAxes = result.getSplitAxes()[0].asArrayRef();
    GridOp grid = shard::getGrid(op, result.getGridAttr(), symbols);
    int64_t experts = rankedOf(op->getResult(0)).getDimSize(0);
    int64_t parts = collectiveProcessGroupSize(expertAxes, grid);
    if (experts % parts != 0)
      return op->emitOpError() << experts << " experts do not split into " << parts << " parts";
    FailureOr<Value> mine = localGroupOffsets(op, b, partitioned[2], experts, experts / parts,
                                              result.getGrid(), expertAxes);
    if (failed(mine))
      return failure();
    map.map(op->getResult(0), GroupedMatmulWeightGradOp::create(b, op->getLoc(), partitioned[0],
                                                                partitioned[1], *mine)
                                  .getResult());
    return success();
  }
};

/// mm.transpose: one parallel loop per result dim; result dim i reads input
/// dim permutation[i], so a split moves with its dim (the input gradient of
/// an expert-parallel grouped GEMM takes each rank's experts transposed).
struct TransposeModel : LocallyPartitioned<TransposeModel, TransposeOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(rankOf(op->getResult(0)),
                                            utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    ArrayRef<int64_t> permutation = cast<TransposeOp>(op).getPermutation();
    SmallVector<AffineExpr> input(permutation.size());
    for (auto [i, p] : llvm::enumerate(permutation))
      input[p] = getAffineDimExpr(i, op->getContext());
    int64_t loops = static_cast<int64_t>(permutation.size());
    return {AffineMap::get(loops, 0, input, op->getContext()),
            AffineMap::getMultiDimIdentityMap(loops, op->getContext())};
  }
};


/// mm.param: its result takes whatever sharding its users want. The
/// partitioned param has the part's type and says how it was cut
/// (kWeightGridAttr, kWeightSplitAxesAttr): the executors bind only the
/// rank's part of the checkpoint tensor.
struct ParamModel : ShardingInterface::ExternalModel<ParamModel, ParamOp> {
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(rankOf(op->getResult(0)),
                                            utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    return {AffineMap::getMultiDimIdentityMap(rankOf(op->getResult(0)), op->getContext())};
  }
  LogicalResult partition(Operation *op, ArrayRef<Value>, ArrayRef<Sharding>,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &, OpBuilder &b) const {
    auto param = cast<ParamOp>(b.clone(*op));
    const Sharding &sharding = resultShardings[0];
    bool split = sharding && llvm::any_of(sharding.getSplitAxes(),
                                          [](GridAxesAttr a) { return !a.empty(); });
    if (split) {
      auto grid = SymbolTable::lookupNearestSymbolFrom<GridOp>(op, sharding.getGridAttr());
      if (!grid)
        return op->emitOpError("the grid @") << sharding.getGrid() << " is not in the module";
      auto type = rankedOf(param);
      SmallVector<int64_t> shape(type.getShape());
      SmallVector<Attribute> perDim;
      for (int64_t dim = 0; dim < type.getRank(); ++dim) {
        ArrayRef<GridAxis> axes;
        if (dim < static_cast<int64_t>(sharding.getSplitAxes().size()))
          axes = sharding.getSplitAxes()[dim].asArrayRef();
        int64_t parts = 1;
        for (GridAxis a : axes)
          parts *= grid.getShape()[a];
        if (ShapedType::isDynamic(shape[dim]) || shape[dim] % parts != 0)
          return op->emitOpError("dim ") << dim << " of " << type << " does not split into "
                                         << parts << " parts";
        shape[dim] /= parts;
        perDim.push_back(b.getDenseI16ArrayAttr(axes));
      }
      param.getResult().setType(RankedTensorType::get(shape, type.getElementType()));
      param->setAttr(kWeightGridAttr, sharding.getGridAttr());
      param->setAttr(kWeightSplitAxesAttr, b.getArrayAttr(perDim));
    }
    map.map(op->getResult(0), param.getResult());
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
  registerCollectiveShardingModels(registry);
  registerLossShardingModels(registry);
  registry.addExtension(+[](MLIRContext *ctx, MMDialect *) {
    attachElementwise<SiluOp, SigmoidOp, ReluOp, TanhOp, ExpOp, LogOp, SqrtOp, RsqrtOp, NegOp,
                      GeluOp, SwigluOp, CastOp>(ctx);
    attachBroadcasting<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp>(ctx);
    LinearOp::attachInterface<LinearModel>(*ctx);
    MatmulOp::attachInterface<MatmulModel>(*ctx);
    ReduceOp::attachInterface<ReduceModel>(*ctx);
    RmsNormOp::attachInterface<RmsNormModel>(*ctx);
    ParamOp::attachInterface<ParamModel>(*ctx);
    SliceOp::attachInterface<SliceModel>(*ctx);
    ReshapeOp::attachInterface<ReshapeModel>(*ctx);
    RopeOp::attachInterface<RopeModel>(*ctx);
    AttentionOp::attachInterface<AttentionModel>(*ctx);
    AttentionGradOp::attachInterface<AttentionGradModel>(*ctx);
    LightningAttentionOp::attachInterface<LightningModel<LightningAttentionOp>>(*ctx);
    LightningAttentionGradOp::attachInterface<LightningModel<LightningAttentionGradOp>>(*ctx);
    GroupedMatmulOp::attachInterface<GroupedMatmulModel>(*ctx);
    GatherOp::attachInterface<GatherModel>(*ctx);
    EmbeddingOp::attachInterface<EmbeddingModel>(*ctx);
    GroupedMatmulWeightGradOp::attachInterface<GroupedMatmulWeightGradModel>(*ctx);
    TransposeOp::attachInterface<TransposeModel>(*ctx);
    attachWhole<MoeRouterOp, MoeDispatchOp, MoeCombineOp,
                MergeImageFeaturesOp, SoftmaxOp>(ctx);
    // The rest, so that no op meets the partition without a model (it would
    // run on whatever part arrives): whole until a split is modelled. The
    // backward ops of a training step are among them.
    attachElementwise<ZerosLikeOp>(ctx);
    attachWhole<MergeImageFeaturesGradOp, Conv2dGradOp, Conv1dGradOp, GruGradOp,
                PolicyLossOp, SigmoidBceOp, LayerNormOp, Conv1dOp, GruOp, PoolOp,
                TargetAttentionOp, HadamardInteractionOp, LogSoftmaxOp, TopKOp, ArgmaxOp,
                ConcatOp, ScatterAddOp, Conv2dOp>(ctx);
  });
  // The backward's elementwise choices (GradientBuilder::selectWhere: the
  // policy losses' clips) split as their operands do.
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    attachElementwise<arith::CmpFOp, arith::SelectOp>(ctx);
  });
}

} // namespace mm
