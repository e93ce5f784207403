//===- LossShardingModels.cpp - the vocab-parallel cross-entropy ----------===//
//
// mm.cross_entropy and mm.cross_entropy_grad when the class dim of the
// logits is split (a vocab-parallel LM head, Megatron's
// vocab_parallel_cross_entropy): no rank gathers the [..., vocab] logits.
// Each rank takes the max of its classes and one all_reduce max makes the
// global one, M; its sum of exp(x - M) and the logit it holds at the label
// are summed by all_reduces. The loss is M + log S - x[label]; the gradient
// exp(x - M) / S - onehot(label) on each rank's own classes, times g.
//
// The decomposition uses ops every backend runs: its reductions, exp, log,
// and a float compare of the labels with the rank's global class ids (exact
// below 2^24 classes, which the partition checks). The label's class is
// found by an mm.embedding of the labels into a column of the rank's class
// ids (rows_from, as the vocab-parallel embedding), which also keeps the
// whole op's refusal of a label outside [0, classes), on every rank.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMDialect.h"
#include "ir/MMOps.h"
#include "ir/ShardingModelSupport.h"
#include "ir/ShardingModels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::shard;

namespace mm {
namespace {

/// Float32 holds every integer below 2^24 exactly: the labels and class ids
/// compared below.
constexpr int64_t kExactFloatIntegers = int64_t(1) << 24;

/// The pieces both ops build on a rank's part of the logits.
struct VocabParallelParts {
  Value x;       ///< the rank's logits [..., Cl], in the accumulation type
  Value max;     ///< the global max per position, [..., 1]
  Value exps;    ///< exp(x - max), [..., Cl]
  Value sumExps; ///< the global sum of exp(x - max), [..., 1]
  Value onehot;  ///< 1 at the label's class if this rank holds it, [..., Cl]
                 ///< (at class 0 for an ignored label: `counted` zeroes it)
  Value counted; ///< 1 where the label is not ignore_index, [..., 1]
};

Value reduceLast(GradientBuilder &gb, ReduceKind kind, Value x) {
  OpBuilder &b = gb.builder();
  int64_t last = rankedOf(x).getRank() - 1;
  return ReduceOp::create(b, gb.location(), ReduceKindAttr::get(b.getContext(), kind), x,
                          b.getDenseI64ArrayAttr({last}), b.getUnitAttr());
}

/// `labels` ([...], integers) as floats [..., 1] of `element` type.
Value labelColumn(GradientBuilder &gb, Value labels, Type element) {
  auto type = rankedOf(labels);
  auto asFloat = RankedTensorType::get(type.getShape(), element);
  Value f = CastOp::create(gb.builder(), gb.location(), asFloat, labels);
  SmallVector<int64_t> spec(type.getRank(), 0);
  spec.push_back(1);
  return gb.reshape(f, spec);
}

/// `[...]` from `[..., 1]`.
Value dropLast(GradientBuilder &gb, Value x) {
  return gb.reshape(x, SmallVector<int64_t>(rankedOf(x).getRank() - 1, 0));
}

FailureOr<VocabParallelParts> buildParts(Operation *op, Value logits, Value labels,
                                         int64_t ignoreIndex, ArrayRef<GridAxis> axes,
                                         StringRef grid, OpBuilder &b) {
  Location loc = op->getLoc();
  GradientBuilder gb(b, loc);
  auto whole = rankedOf(op->getOperand(0));
  int64_t classes = whole.getDimSize(whole.getRank() - 1);
  int64_t local = rankedOf(logits).getDimSize(whole.getRank() - 1);
  if (ShapedType::isDynamic(classes) || ShapedType::isDynamic(local))
    return op->emitOpError("splits a dynamic class dim");
  if (classes >= kExactFloatIntegers)
    return op->emitOpError("splits ") << classes << " classes; the vocab-parallel form compares "
                                      << "class ids in float32, exact below 2^24";
  int64_t parts = classes / local;
  VocabParallelParts p;
  Type element = rankedOf(logits).getElementType();
  Type accumulate = element.isF64() ? element : b.getF32Type(); // (as the whole op accumulates)
  p.x = element == accumulate ? logits : gb.cast(logits, accumulate);

  auto allReduce = [&](Value v, ReductionKind kind) -> Value {
    return AllReduceOp::create(b, loc, v, grid, axes, kind).getResult();
  };
  p.max = allReduce(reduceLast(gb, ReduceKind::Max, p.x), ReductionKind::Max);
  p.exps = gb.exp(gb.sub(p.x, p.max));
  p.sumExps = allReduce(reduceLast(gb, ReduceKind::Sum, p.exps), ReductionKind::Sum);

  // The rank's first class (an all_slice of every block's), and its
  // classes' global ids plus one.
  SmallVector<int64_t> firsts(parts);
  for (int64_t r = 0; r < parts; ++r)
    firsts[r] = r * local;
  Value first = thisRanksBlock(b, loc, firsts, parts, grid, axes);
  auto idsType = RankedTensorType::get({local}, accumulate);
  SmallVector<Attribute> ids;
  for (int64_t c = 0; c < local; ++c)
    ids.push_back(b.getFloatAttr(accumulate, double(c + 1)));
  Value localIds =
      arith::ConstantOp::create(b, loc, idsType, DenseElementsAttr::get(idsType, ids));
  Value idsPlusOne = gb.add(localIds, gb.cast(first, accumulate));

  Value label = labelColumn(gb, labels, accumulate);
  Value zero = gb.broadcastLike(gb.scalar(label, 0.0), label);
  p.counted = gb.selectWhere(arith::CmpFPredicate::OEQ, label,
                             gb.broadcastLike(gb.scalar(label, double(ignoreIndex)), label), zero,
                             gb.broadcastLike(gb.scalar(label, 1.0), label));
  // Each label looked up in a column of the rank's ids plus one, as the
  // vocab-parallel embedding looks up ids (ignored labels read as 0): the
  // label plus one where this rank holds its class, else 0, and a label
  // outside [0, classes) refused as the whole op refuses it.
  Value countedLabels =
      gb.selectWhere(arith::CmpFPredicate::OEQ, p.counted, zero, zero, label);
  Value asIds = CastOp::create(b, loc, rankedOf(labels), dropLast(gb, countedLabels));
  Value column = gb.reshape(idsPlusOne, {local, 1});
  Value held = EmbeddingOp::create(b, loc, column, asIds, first, b.getI64IntegerAttr(classes));
  Value diff = gb.sub(held, idsPlusOne); // [..., Cl], 0 only at a held label's class
  Value zeros = gb.zerosLike(diff);
  p.onehot = gb.selectWhere(arith::CmpFPredicate::OEQ, diff, zeros,
                            gb.add(zeros, gb.scalar(zeros, 1.0)), zeros);
  return p;
}

/// The class loop's grid axes, or none when the class dim is whole.
SmallVector<GridAxis> classAxes(Operation *op, ArrayRef<Sharding> operandShardings,
                                ArrayRef<Sharding> resultShardings,
                                ArrayRef<utils::IteratorType> loops, ArrayRef<AffineMap> maps) {
  ShardingArray assignment =
      getGridAxisAssignmentForLoopIterators(operandShardings, resultShardings, loops, maps);
  if (assignment.size() < loops.size())
    return {};
  return assignment[loops.size() - 1];
}

/// The number of counted positions, at least 1 (a mean over none is 0).
Value countedPositions(GradientBuilder &gb, Value counted) {
  Value n = gb.sumLeading(counted, 0);
  return MaxOp::create(gb.builder(), gb.location(), n, gb.scalar(n, 1.0));
}

/// Loops: the leading dims (parallel, kept whole) and the class dim, a
/// reduction of the loss and parallel in the gradient. Only the class dim
/// splits.
template <typename Derived, typename Op>
struct ClassSplitModel : ShardingInterface::ExternalModel<Derived, Op> {
  static int64_t loopCount(Operation *op) { return rankedOf(op->getOperand(0)).getRank(); }
  SmallVector<AffineMap> mapsFor(Operation *op, bool perPositionScalars) const {
    MLIRContext *ctx = op->getContext();
    int64_t loops = loopCount(op);
    SmallVector<AffineExpr> lead = leadingLoops(loops - 1, ctx);
    auto identity = AffineMap::getMultiDimIdentityMap(loops, ctx);
    auto leading = AffineMap::get(loops, 0, lead, ctx);
    auto scalar = AffineMap::get(loops, 0, {}, ctx);
    return {identity, leading, perPositionScalars ? leading : scalar};
  }
  FailureOr<ShardingOption> getShardingOption(Operation *op, ArrayRef<Sharding> operands,
                                              ArrayRef<Sharding> results) const {
    size_t classLoop = static_cast<size_t>(loopCount(op) - 1);
    return keepSplits(shard::detail::defaultGetShardingOption(op, operands, results),
                      [&](size_t loop) { return loop == classLoop; });
  }
  /// The op on its parts where the class dim is whole; else the shared
  /// pieces, which the model's `complete` turns into its result.
  LogicalResult partition(Operation *op, ArrayRef<Value> partitioned,
                          ArrayRef<Sharding> operandShardings,
                          ArrayRef<Sharding> resultShardings, IRMapping &map,
                          SymbolTableCollection &symbols, OpBuilder &b) const {
    const auto &self = static_cast<const Derived &>(*this);
    SmallVector<GridAxis> axes = classAxes(op, operandShardings, resultShardings,
                                           self.getLoopIteratorTypes(op), self.getIndexingMaps(op));
    if (axes.empty())
      return partitionLocally(op, partitioned, operandShardings, resultShardings, map, symbols, b);
    auto typed = cast<Op>(op);
    StringRef grid = operandShardings[0].getGrid();
    FailureOr<VocabParallelParts> p =
        buildParts(op, partitioned[0], partitioned[1], typed.getIgnoreIndex(), axes, grid, b);
    if (failed(p))
      return failure();
    GradientBuilder gb(b, op->getLoc());
    map.map(op->getResult(0), Derived::complete(typed, *p, partitioned, grid, axes, gb));
    return success();
  }
};

/// mm.cross_entropy: the class loop is a sum; the loss is whole on every
/// rank after the partition.
struct CrossEntropyModel : ClassSplitModel<CrossEntropyModel, CrossEntropyOp> {
  static bool perPosition(Operation *op) {
    return cast<CrossEntropyOp>(op).getReduction() == LossReduction::None;
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    SmallVector<utils::IteratorType> types(loopCount(op) - 1, utils::IteratorType::parallel);
    types.push_back(utils::IteratorType::reduction);
    return types;
  }
  SmallVector<ReductionKind> getReductionLoopIteratorKinds(Operation *) const {
    return {ReductionKind::Sum};
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    return mapsFor(op, perPosition(op)); // logits, labels, loss
  }
  static Value complete(CrossEntropyOp ce, const VocabParallelParts &p, ArrayRef<Value>,
                        StringRef grid, ArrayRef<GridAxis> axes, GradientBuilder &gb) {
    OpBuilder &b = gb.builder();
    Location loc = gb.location();
    Value picked = AllReduceOp::create(b, loc, reduceLast(gb, ReduceKind::Sum, gb.mul(p.onehot, p.x)),
                                       grid, axes, ReductionKind::Sum)
                       .getResult();
    // loss = M + log S - x[label], 0 where the label is ignored.
    Value logSum = LogOp::create(b, loc, p.sumExps).getResult();
    Value loss = dropLast(gb, gb.mul(gb.sub(gb.add(p.max, logSum), picked), p.counted));
    if (ce.getReduction() != LossReduction::None) {
      loss = gb.sumLeading(loss, 0);
      if (ce.getReduction() == LossReduction::Mean)
        loss = gb.div(loss, countedPositions(gb, p.counted));
    }
    auto resultType = llvm::cast<RankedTensorType>(ce.getLoss().getType());
    return gb.matchType(gb.cast(loss, resultType.getElementType()), resultType);
  }
};

/// mm.cross_entropy_grad: every loop is parallel; the gradient keeps the
/// logits' class split, so the LM head's backward needs no gather either.
struct CrossEntropyGradModel : ClassSplitModel<CrossEntropyGradModel, CrossEntropyGradOp> {
  static bool perPosition(Operation *op) {
    return cast<CrossEntropyGradOp>(op).getReduction() == LossReduction::None;
  }
  SmallVector<utils::IteratorType> getLoopIteratorTypes(Operation *op) const {
    return SmallVector<utils::IteratorType>(loopCount(op), utils::IteratorType::parallel);
  }
  SmallVector<AffineMap> getIndexingMaps(Operation *op) const {
    SmallVector<AffineMap> maps = mapsFor(op, perPosition(op)); // logits, labels, grad_loss
    maps.push_back(maps.front());                               // the gradient
    return maps;
  }
  static Value complete(CrossEntropyGradOp grad, const VocabParallelParts &p,
                        ArrayRef<Value> partitioned, StringRef, ArrayRef<GridAxis>,
                        GradientBuilder &gb) {
    Type accumulate = rankedOf(p.x).getElementType();
    Value g = gb.cast(partitioned[2], accumulate);
    // The scale of each position: g (sum), g / counted positions (mean),
    // g[...] (none), and 0 where the label is ignored.
    if (grad.getReduction() == LossReduction::None) {
      SmallVector<int64_t> spec(rankedOf(g).getRank(), 0);
      spec.push_back(1);
      g = gb.reshape(g, spec);
    } else if (grad.getReduction() == LossReduction::Mean) {
      g = gb.div(g, countedPositions(gb, p.counted));
    }
    Value scale = gb.mul(p.counted, g);
    Value result = gb.mul(gb.sub(gb.div(p.exps, p.sumExps), p.onehot), scale);
    return gb.matchType(gb.cast(result, rankedOf(partitioned[0]).getElementType()),
                        partitioned[0].getType());
  }
};

} // namespace

void registerLossShardingModels(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, MMDialect *) {
    CrossEntropyOp::attachInterface<CrossEntropyModel>(*ctx);
    CrossEntropyGradOp::attachInterface<CrossEntropyGradModel>(*ctx);
  });
}

} // namespace mm
