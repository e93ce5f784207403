//===- LightningSequenceSplit.cpp - LASP+: lightning attention over cp ----===//
//
// mm.lightning_attention and its gradient with the sequence split over
// context-parallel ranks (MiniMax-01's LASP+). The recurrence
// S_t = lambda S_{t-1} + k_t v_t^T is linear in the state, so chunk c of N_c
// tokens maps a state P entering it to
//
//     P' = lambda^{N_c} P + S_c
//
// where S_c is the chunk's own state (the chunk run from a zero state).
// Every rank computes its S_c and N_c at once, one all_gather brings every
// chunk's (S_c, N_c) to every rank, and each rank folds the prefix
// P_{c+1} = lambda^{N_c} P_c + S_c locally: LASP+'s parallel prefix instead
// of LASP's ring of point-to-point sends, so no rank waits on its
// predecessor. The chunk then runs again from its own P_c.
//
// The backward is the same fold run the other way: the gradient reaching a
// chunk's start is R_c = lambda^{N_c} R_{c+1} + D_c, with D_c the chunk's
// own contribution (its backward with a zero final-state gradient) and
// R_C the whole op's final-state gradient. Each rank's backward then runs
// from its P_c with R_{c+1} as its final-state gradient; R_0 is the initial
// state's.
//
// N_c is counted at run time, so the chunks may be uneven, and a rank may
// hold fewer tokens than a block (or none).
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"
#include "ir/ShardingModelSupport.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"

using namespace mlir;
using namespace mlir::shard;

namespace mm {
namespace {

/// Entry `c` of dim 0 of `x`, that dim kept (size 1).
Value entry(OpBuilder &b, Location loc, Value x, int64_t c) {
  return SliceOp::create(b, loc, x, b.getI64IntegerAttr(0), b.getI64IntegerAttr(c),
                         b.getI64IntegerAttr(c + 1), b.getI64IntegerAttr(1));
}

/// What the forward and the backward build alike on one rank's chunk.
class ChunkExchange {
public:
  ChunkExchange(OpBuilder &b, Location loc, GridOp grid, ArrayRef<GridAxis> axes,
                RankedTensorType stateType = {})
      : b(b), gb(b, loc), loc(loc), grid(grid), axes(axes), stateType(stateType) {
    chunks = 1;
    for (GridAxis a : axes)
      chunks *= grid.getShape()[a];
  }

  /// The number of tokens of the rank's chunk, a [1] float32 summed from
  /// ones over one column of `query` ([b, t, h, d]).
  Value tokenCount(Value query) {
    Value column = query;
    for (int64_t dim : {0, 2, 3})
      column = SliceOp::create(b, loc, column, b.getI64IntegerAttr(dim), b.getI64IntegerAttr(0),
                               b.getI64IntegerAttr(1), b.getI64IntegerAttr(1));
    Value asFloat = gb.cast(column, b.getF32Type());
    Value ones = gb.add(gb.zerosLike(asFloat), gb.scalar(asFloat, 1.0));
    return gb.sum(ones, {0, 1, 2}, /*keepDims=*/false);
  }

  /// Every rank's `v` ([1, ...] float32), in chunk order along dim 0.
  Value gather(Value v) {
    SmallVector<int64_t> all(rankedOf(v).getShape());
    all[0] = chunks;
    return AllGatherOp::create(b, loc, RankedTensorType::get(all, b.getF32Type()),
                               grid.getSymName(), axes, v, APInt(64, 0))
        .getResult();
  }

  /// A state [b, h, dk, dv] as float32 [1, b, h, dk, dv], and back.
  Value lift(Value state) {
    return gb.reshape(gb.cast(state, b.getF32Type()),
                      {1, -1, stateType.getDimSize(1), stateType.getDimSize(2),
                       stateType.getDimSize(3)});
  }
  Value lower(Value lifted, Type like) {
    Value s = gb.sum(lifted, {0}, /*keepDims=*/false);
    return gb.matchType(gb.cast(s, llvm::cast<RankedTensorType>(like).getElementType()), like);
  }

  /// Folds X_{next} = exp(-s_h N_c) X + own_c over the chunks, forwards
  /// (c = 0, 1, ...) or backwards, from `first`. Returns the value entering
  /// each chunk (lifted, in chunk order) and sets `last` to the value after
  /// them all.
  SmallVector<Value> fold(Value owns, Value counts, Value slopes, Value first, bool backwards,
                          Value &last) {
    SmallVector<Value> entering(chunks);
    Value x = first;
    int64_t heads = stateType.getDimSize(1);
    for (int64_t i = 0; i < chunks; ++i) {
      int64_t c = backwards ? chunks - 1 - i : i;
      entering[c] = lift(x);
      Value decay = gb.exp(gb.neg(gb.mul(slopes, entry(b, loc, counts, c))));
      Value own = gb.sum(entry(b, loc, owns, c), {0}, /*keepDims=*/false);
      x = gb.add(gb.mul(gb.reshape(decay, {1, heads, 1, 1}), x), own);
    }
    last = x;
    return entering;
  }

  /// The op's initial state in float32, or zeros like `state`.
  Value initialOr(Value initial, Value state) {
    return initial ? gb.cast(initial, b.getF32Type()) : gb.zerosLike(state);
  }

  /// This rank's entry of `perChunk` (lifted values in chunk order): an
  /// all_slice of their concatenation, no communication.
  Value mine(ArrayRef<Value> perChunk) {
    Value all = chunks == 1 ? perChunk.front()
                            : Value(ConcatOp::create(b, loc, perChunk, b.getI64IntegerAttr(0)));
    return AllSliceOp::create(b, loc, rankedOf(perChunk.front()), all, grid.getSymName(), axes,
                              /*sliceAxis=*/0);
  }

  /// The decay exponent s_h of each of the op's heads (by head_index when
  /// it has one), float32 [h].
  template <typename LightningOp> Value slopesOf(LightningOp op) {
    SmallVector<double> all = op.getDecaySlopes();
    auto type = RankedTensorType::get({int64_t(all.size())}, b.getF32Type());
    SmallVector<float> asFloat(all.begin(), all.end());
    Value slopes = arith::ConstantOp::create(
        b, loc, type, DenseElementsAttr::get(type, ArrayRef<float>(asFloat)));
    if (Value ids = op.getHeadIndex())
      slopes = GatherOp::create(b, loc, slopes, ids, b.getI64IntegerAttr(0), b.getI64IntegerAttr(0));
    return slopes;
  }

  OpBuilder &b;
  GradientBuilder gb;
  Location loc;
  GridOp grid;
  ArrayRef<GridAxis> axes;
  RankedTensorType stateType;
  int64_t chunks;
};

/// The exchange of `local`'s chunk, built before it (the caller holds an
/// insertion guard); `state` is a [b, h, dk, dv] result of it.
FailureOr<ChunkExchange> exchangeBefore(Operation *local, Value state, const Sharding &query,
                                        ArrayRef<GridAxis> seqAxes, OpBuilder &b) {
  auto grid = SymbolTable::lookupNearestSymbolFrom<GridOp>(local, query.getGridAttr());
  if (!grid)
    return local->emitOpError("the grid @") << query.getGrid() << " is not in the module";
  auto stateType = rankedOf(state);
  for (int64_t d = 1; d < 4; ++d)
    if (ShapedType::isDynamic(stateType.getDimSize(d)))
      return local->emitOpError("splits the sequence of a state with dynamic heads or head dims");
  b.setInsertionPoint(local);
  return ChunkExchange(b, local->getLoc(), grid, seqAxes, stateType);
}

} // namespace

Value sequenceChunkStart(OpBuilder &b, Location loc, GridOp grid, ArrayRef<GridAxis> seqAxes,
                         Value query) {
  ChunkExchange x(b, loc, grid, seqAxes);
  Value counts = x.gather(x.tokenCount(query));
  // Exclusive prefix sums, in float32: exact below 2^24 tokens.
  SmallVector<Value> starts{x.gb.zerosLike(entry(b, loc, counts, 0))};
  for (int64_t c = 1; c < x.chunks; ++c)
    starts.push_back(x.gb.add(starts.back(), entry(b, loc, counts, c - 1)));
  return x.gb.cast(x.mine(starts), b.getI64Type());
}

LogicalResult partitionLightningSequence(LightningAttentionOp local, const Sharding &query,
                                         ArrayRef<GridAxis> seqAxes, IRMapping &map,
                                         Value wholeFinalState, OpBuilder &b) {
  OpBuilder::InsertionGuard guard(b);
  FailureOr<ChunkExchange> exchange =
      exchangeBefore(local, local.getFinalState(), query, seqAxes, b);
  if (failed(exchange))
    return failure();
  ChunkExchange &x = *exchange;

  // The chunk's own state: the chunk from a zero state.
  auto fromZero = cast<LightningAttentionOp>(b.clone(*local));
  fromZero.getInitialStateMutable().clear();
  Value owns = x.gather(x.lift(fromZero.getFinalState()));
  Value counts = x.gather(x.tokenCount(local.getQuery()));

  Value initial = x.initialOr(local.getInitialState(), fromZero.getFinalState());
  Value last;
  SmallVector<Value> starts =
      x.fold(owns, counts, x.slopesOf(local), initial, /*backwards=*/false, last);
  local.getInitialStateMutable().assign(x.lower(x.mine(starts), x.stateType));
  // The final state is the state after the last chunk, on every rank.
  map.map(wholeFinalState, x.lower(x.lift(last), wholeFinalState.getType()));
  return success();
}

LogicalResult partitionLightningGradSequence(LightningAttentionGradOp local,
                                             const Sharding &query, ArrayRef<GridAxis> seqAxes,
                                             IRMapping &map, Value wholeInitialStateGrad,
                                             OpBuilder &b) {
  OpBuilder::InsertionGuard guard(b);
  FailureOr<ChunkExchange> exchange =
      exchangeBefore(local, local.getGradInitialState(), query, seqAxes, b);
  if (failed(exchange))
    return failure();
  ChunkExchange &x = *exchange;
  Value slopes = x.slopesOf(local);
  Value counts = x.gather(x.tokenCount(local.getQuery()));

  // The forward's prefix: each chunk's own state from a zero state.
  auto forward = LightningAttentionOp::create(
      b, local.getLoc(), local.getQuery(), local.getKey(), local.getValue(), Value(), Value(),
      local.getHeadIndex(), local.getLayerIndexAttr(), local.getNumLayersAttr(),
      local.getBlockSizeAttr(), local.getTotalHeadsAttr());
  Value initial = x.initialOr(local.getInitialState(), forward.getFinalState());
  Value unusedLast;
  SmallVector<Value> starts = x.fold(x.gather(x.lift(forward.getFinalState())), counts, slopes,
                                     initial, /*backwards=*/false, unusedLast);

  // The backward's: each chunk's own gradient at its start, from a zero
  // final-state gradient.
  Value noFinalGrad = x.gb.zerosLike(local.getGradFinalState());
  auto own = cast<LightningAttentionGradOp>(b.clone(*local));
  own.getInitialStateMutable().clear();
  own.getGradFinalStateMutable().assign(noFinalGrad);
  Value finalGrad = x.gb.cast(local.getGradFinalState(), b.getF32Type());
  Value atStart;
  SmallVector<Value> finalGrads =
      x.fold(x.gather(x.lift(own.getGradInitialState())), counts, slopes, finalGrad,
             /*backwards=*/true, atStart);

  local.getInitialStateMutable().assign(x.lower(x.mine(starts), x.stateType));
  // The gradient entering chunk c from behind is the one at chunk c + 1's
  // start: the entering values of the backward fold.
  local.getGradFinalStateMutable().assign(
      x.lower(x.mine(finalGrads), local.getGradFinalState().getType()));
  map.map(wholeInitialStateGrad, x.lower(x.lift(atStart), wholeInitialStateGrad.getType()));
  return success();
}

} // namespace mm
