//===- TrainingStep.cpp - one optimizer step as one mm function -----------===//
//
// Turns @F_grad (from -mm-autodiff) into @F_train_step: the weights become
// arguments, and after the backward the graph clips the gradients by their
// global norm and applies AdamW, returning the new weights and moments. One
// function, so forward, backward and update compile into one program (fused,
// memory-planned and code-generated like inference). See Passes.td.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/MapVector.h"

#include <cmath>

namespace mm {
#define GEN_PASS_DEF_TRAININGSTEP
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {

struct TrainingStepPass : mm::impl::TrainingStepBase<TrainingStepPass> {
  using TrainingStepBase::TrainingStepBase;

  LogicalResult checkOptions(ModuleOp module) {
    auto bad = [&](const Twine &what) { return module.emitError("mm-training-step: ") << what; };
    if (function.empty())
      return bad("needs function=NAME");
    if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1))
      return bad("beta1 and beta2 must be in [0, 1), got ") << beta1 << " and " << beta2;
    if (!(epsilon > 0))
      return bad("epsilon must be positive, got ") << epsilon;
    if (!(weightDecay >= 0))
      return bad("weight-decay must be non-negative, got ") << weightDecay;
    for (const std::string &tag : splitTags)
      if (!llvm::is_contained({"mm.tp_dim", "mm.ep_dim", "mm.etp_dim", "mm.vocab_dim"},
                              llvm::StringRef(tag)))
        return bad("split-tags: '") << tag << "' is not a split tag (mm.tp_dim, mm.ep_dim, "
                                             "mm.etp_dim or mm.vocab_dim)";
    if (!(maxGradNorm >= 0))
      return bad("max-grad-norm must be non-negative (0 disables clipping), got ")
             << maxGradNorm;
    return success();
  }

  void runOnOperation() override;
};

void TrainingStepPass::runOnOperation() {
  ModuleOp module = getOperation();
  if (failed(checkOptions(module)))
    return signalPassFailure();
  auto grad = module.lookupSymbol<func::FuncOp>(function + "_grad");
  if (!grad) {
    module.emitError("mm-training-step: no @")
        << function << "_grad in the module (run -mm-autodiff='function=" << function
        << "' first)";
    return signalPassFailure();
  }
  std::string stepName = function + "_train_step";
  if (module.lookupSymbol(stepName)) {
    grad.emitOpError("cannot get a training step @")
        << stepName << ": the module already has a symbol of that name";
    return signalPassFailure();
  }
  OpBuilder b(module.getContext());
  b.setInsertionPointAfter(grad);
  auto step = cast<func::FuncOp>(b.clone(*grad));
  step.setSymName(stepName);
  step.setPublic();
  Block &body = step.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  unsigned numArgs = body.getNumArguments();

  // The weights' gradients are the results tagged with their names.
  llvm::MapVector<StringRef, Value> gradients;
  ArrayAttr resultAttrs = step.getAllResultAttrs();
  llvm::MapVector<StringRef, SmallVector<ParamOp>> params;
  for (Operation &op : body)
    if (auto p = dyn_cast<ParamOp>(op); p && llvm::isa<FloatType>(p.getType().getElementType()))
      params[p.getName()].push_back(p);
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    auto dict = resultAttrs ? llvm::dyn_cast<DictionaryAttr>(resultAttrs[i]) : DictionaryAttr();
    auto of = dict ? dict.getAs<StringAttr>("mm.gradient_of") : StringAttr();
    if (of && params.count(of.getValue()))
      gradients[of.getValue()] = v;
  }
  if (params.empty()) {
    step.emitOpError("has no float mm.param weights to train");
    step.erase();
    return signalPassFailure();
  }

  // Data parallel: the grid axis the batch is split over, and (ZeRO-1)
  // which weights have their optimizer state split along their leading dim.
  int64_t ranks = 1;
  shard::GridOp grid;
  if (!dpGrid.empty()) {
    grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(
        module, FlatSymbolRefAttr::get(b.getContext(), dpGrid));
    if (!grid || dpAxis < 0 || dpAxis >= grid.getRank() ||
        ShapedType::isDynamic(grid.getShape()[dpAxis])) {
      module.emitError("mm-training-step: dp-grid=")
          << dpGrid << " dp-axis=" << static_cast<int64_t>(dpAxis)
          << " does not name a static axis of a shard.grid in the module";
      step.erase();
      return signalPassFailure();
    }
    ranks = grid.getShape()[dpAxis];
  } else if (zero1 || dpWeight) {
    module.emitError("mm-training-step: ") << (zero1 ? "zero1" : "dp-weight") << " needs dp-grid";
    step.erase();
    return signalPassFailure();
  }
  // ZeRO-1 rows: whether weight i's moments are this rank's rows, and
  // their type. (Filled once the weights' split tags are known.)
  SmallVector<bool> sliced;
  auto rowsOf = [&](Type type) -> Type {
    auto t = llvm::cast<RankedTensorType>(type);
    SmallVector<int64_t> shape(t.getShape());
    shape[0] /= ranks;
    return RankedTensorType::get(shape, t.getElementType());
  };
  auto stateType = [&](size_t i, Type type) { return sliced[i] ? rowsOf(type) : type; };

  // Weights, then first and second moments, then lr and the 1-based step t.
  Location loc = step.getLoc();
  SmallVector<Type> argTypes(step.getArgumentTypes());
  SmallVector<DictionaryAttr> argAttrs;
  for (unsigned i = 0; i < numArgs; ++i)
    argAttrs.push_back(step.getArgAttrDict(i) ? step.getArgAttrDict(i) : b.getDictionaryAttr({}));
  // A weight's argument, and its moments' where they are not ZeRO-1 rows,
  // keep the param's split tags: -mm-model-parallel splits them alike.
  SmallVector<SmallVector<NamedAttribute>> weightTags; // per weight
  auto named = [&](StringRef name, ArrayRef<NamedAttribute> tags = {}) {
    SmallVector<NamedAttribute> attrs{b.getNamedAttr("mm.name", b.getStringAttr(name))};
    attrs.append(tags.begin(), tags.end());
    return b.getDictionaryAttr(attrs);
  };
  SmallVector<Value> weights, firstMoments, secondMoments;
  for (auto &[name, uses] : params) {
    Type type = uses.front().getType();
    weights.push_back(body.addArgument(type, uses.front().getLoc()));
    argTypes.push_back(type);
    weightTags.emplace_back();
    for (StringRef tag : {"mm.tp_dim", "mm.ep_dim", "mm.etp_dim", "mm.vocab_dim"})
      if (Attribute dim = uses.front()->getAttr(tag))
        weightTags.back().push_back(b.getNamedAttr(tag, dim));
    argAttrs.push_back(named(name, weightTags.back()));
    for (ParamOp p : uses) {
      p.getResult().replaceAllUsesWith(weights.back());
      p.erase();
    }
  }
  for (auto [i, tags] : llvm::enumerate(weightTags)) {
    auto t = llvm::cast<RankedTensorType>(weights[i].getType());
    // A weight that model parallelism splits along dim 0 has 1/parts of its
    // moments per rank already; rows of that part need not divide again.
    bool splitRows = llvm::any_of(tags, [&](NamedAttribute tag) {
      auto dim = llvm::dyn_cast<IntegerAttr>(tag.getValue());
      return dim && dim.getInt() == 0 && llvm::is_contained(splitTags, tag.getName().str());
    });
    sliced.push_back(zero1 && ranks > 1 && t.getRank() >= 1 && !t.isDynamicDim(0) &&
                     t.getDimSize(0) % ranks == 0 && !splitRows);
  }
  for (auto *moments : {&firstMoments, &secondMoments})
    for (auto [i, entry] : llvm::enumerate(params)) {
      Type type = stateType(i, weights[i].getType()); // this rank's slice under ZeRO-1
      moments->push_back(body.addArgument(type, loc));
      argTypes.push_back(type);
      // ZeRO-1 rows keep the tags only when model parallelism splits them
      // after this pass (none is at dim 0 then): the rows of the rank's part.
      bool tagged = !sliced[i] || !splitTags.empty();
      argAttrs.push_back(named((moments == &firstMoments ? "adam_m." : "adam_v.") +
                                   entry.first.str(),
                               tagged ? ArrayRef(weightTags[i]) : ArrayRef<NamedAttribute>()));
    }
  auto f32Scalar = RankedTensorType::get({}, b.getF32Type());
  Value lr = body.addArgument(f32Scalar, loc);
  argTypes.push_back(f32Scalar);
  argAttrs.push_back(named("lr"));
  SmallVector<Value> steps; // one per weight, or the one shared count
  for (auto &entry : params) {
    if (!perWeightStep && !steps.empty())
      break;
    steps.push_back(body.addArgument(f32Scalar, loc));
    argTypes.push_back(f32Scalar);
    argAttrs.push_back(named(perWeightStep ? "step." + entry.first.str() : "step"));
  }
  // A replica's weight in the data-parallel average (dp-weight): its share
  // of the loss terms instead of 1/ranks.
  Value replicaWeight;
  if (dpWeight && grid) {
    replicaWeight = body.addArgument(f32Scalar, loc);
    argTypes.push_back(f32Scalar);
    argAttrs.push_back(named("dp_weight"));
  }

  b.setInsertionPoint(ret);
  GradientBuilder gb(b, loc);
  Value loss = ret.getOperand(0);
  SmallVector<int16_t> axes{static_cast<int16_t>(dpAxis)};
  auto leading = [](int64_t axis) { return APInt(64, axis); };
  // The mean over the data-parallel ranks: a sum, then 1/ranks. Under
  // ZeRO-1 a weight with split state takes only its slice of the mean
  // gradient (reduce_scatter), updates its slice of the weight and gathers
  // the new weight.
  // Each collective is named by what it carries: a timeout message says so.
  auto carrying = [&](const Twine &what) { return NameLoc::get(b.getStringAttr(what), loc); };
  // With a replica weight each rank scales its share before the sum.
  auto weighed = [&](Value v) {
    auto element = llvm::cast<RankedTensorType>(v.getType()).getElementType();
    return gb.mul(v, element == b.getF32Type() ? replicaWeight : gb.cast(replicaWeight, element));
  };
  auto average = [&](Value v, const Twine &what) {
    if (replicaWeight)
      return Value(shard::AllReduceOp::create(b, carrying(what), weighed(v), grid.getSymName(),
                                              axes, shard::ReductionKind::Sum));
    Value sum = shard::AllReduceOp::create(b, carrying(what), v, grid.getSymName(), axes,
                                           shard::ReductionKind::Sum);
    return gb.mul(sum, gb.scalar(sum, 1.0 / ranks));
  };
  auto averagedSlice = [&](Value g, const Twine &what) {
    Value sum = shard::ReduceScatterOp::create(b, carrying(what), rowsOf(g.getType()),
                                               grid.getSymName(), axes,
                                               replicaWeight ? weighed(g) : g,
                                               shard::ReductionKind::Sum, leading(0));
    return replicaWeight ? sum : gb.mul(sum, gb.scalar(sum, 1.0 / ranks));
  };
  if (grid) {
    for (auto &[name, g] : gradients)
      g = sliced[std::distance(params.begin(), params.find(name))]
              ? averagedSlice(g, "gradient of " + name)
              : average(g, "gradient of " + name);
    loss = average(loss, "loss");
  }

  // Global norm over every weight gradient, accumulated in float32 (a cast
  // for narrower weights), then clip_grad_norm_'s factor min(1, max / (n + 1e-6)).
  // Slices (ZeRO-1) add their squares over the ranks first.
  Value squares, sliceSquares;
  SmallVector<Value> grads;
  for (auto [i, entry] : llvm::enumerate(params)) {
    Value g = gradients.lookup(entry.first);
    if (!g)
      g = gb.zerosLike(sliced[i] ? firstMoments[i] : weights[i]);
    grads.push_back(g);
    Value g32 = gb.cast(g, b.getF32Type());
    SmallVector<int64_t> all = llvm::to_vector(
        llvm::seq<int64_t>(0, llvm::cast<RankedTensorType>(g.getType()).getRank()));
    Value s = all.empty() ? gb.mul(g32, g32) : gb.sum(gb.mul(g32, g32), all, false);
    Value &total = sliced[i] ? sliceSquares : squares;
    total = total ? gb.add(total, s) : s;
  }
  if (sliceSquares) {
    Value everyRank = shard::AllReduceOp::create(b, carrying("squared gradient norm of the slices"),
                                                 sliceSquares, grid.getSymName(), axes,
                                                 shard::ReductionKind::Sum);
    squares = squares ? gb.add(squares, everyRank) : everyRank;
  }
  Value norm = gb.sqrt(squares);
  Value scale;
  if (maxGradNorm > 0)
    scale = MinOp::create(b, loc, gb.scalar(norm, 1.0),
                          gb.div(gb.scalar(norm, maxGradNorm),
                                 gb.add(norm, gb.scalar(norm, 1e-6))));
  // Bias corrections 1 - beta^t = 1 - exp(t ln beta).
  auto correction = [&](Value t, double beta) {
    if (beta == 0)
      return gb.scalar(t, 1.0);
    return gb.sub(gb.scalar(t, 1.0), gb.exp(gb.mul(t, gb.scalar(t, std::log(beta)))));
  };
  SmallVector<Value> stepSizes, rootBc2s;
  for (Value t : steps) {
    stepSizes.push_back(gb.div(lr, correction(t, beta1)));
    rootBc2s.push_back(gb.sqrt(correction(t, beta2)));
  }
  SmallVector<Value> newWeights, newFirst, newSecond;
  for (auto [i, g] : llvm::enumerate(grads)) {
    Value w = weights[i];
    StringRef name = params.begin()[i].first;
    if (sliced[i]) // this rank's rows; no communication
      w = shard::AllSliceOp::create(b, carrying("rows of " + name), rowsOf(w.getType()),
                                    grid.getSymName(), axes, w, leading(0));
    Value stepSize = stepSizes[perWeightStep ? i : 0], rootBc2 = rootBc2s[perWeightStep ? i : 0];
    Type element = llvm::cast<RankedTensorType>(w.getType()).getElementType();
    auto local = [&](Value scalar) { return gb.cast(scalar, element); };
    if (scale)
      g = gb.mul(g, local(scale));
    Value m = gb.add(gb.mul(firstMoments[i], gb.scalar(w, beta1)), gb.mul(g, gb.scalar(w, 1 - beta1)));
    Value v = gb.add(gb.mul(secondMoments[i], gb.scalar(w, beta2)),
                     gb.mul(gb.mul(g, g), gb.scalar(w, 1 - beta2)));
    // PyTorch AdamW: w *= 1 - lr wd (matrices only), then
    // w -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps).
    Value decayed = w;
    if (weightDecay > 0 && llvm::cast<RankedTensorType>(w.getType()).getRank() >= 2)
      decayed = gb.mul(w, local(gb.sub(gb.scalar(lr, 1.0), gb.mul(lr, gb.scalar(lr, weightDecay)))));
    Value denom = gb.add(gb.div(gb.sqrt(v), local(rootBc2)), gb.scalar(w, epsilon));
    Value updated = gb.sub(decayed, gb.mul(local(stepSize), gb.div(m, denom)));
    if (sliced[i]) // every rank's updated rows make the new weight
      updated = shard::AllGatherOp::create(b, carrying("updated " + name), weights[i].getType(),
                                           grid.getSymName(), axes, updated, leading(0));
    newWeights.push_back(updated);
    newFirst.push_back(m);
    newSecond.push_back(v);
  }

  SmallVector<Value> results{loss, norm};
  SmallVector<Attribute> outAttrs{resultAttrs ? resultAttrs[0] : b.getDictionaryAttr({}),
                                  b.getDictionaryAttr({})};
  // F's other results (metrics such as per-token log-probs, computed before
  // the update) pass through after the norm.
  for (unsigned i = 1; i < ret.getNumOperands(); ++i) {
    auto dict = resultAttrs ? llvm::dyn_cast<DictionaryAttr>(resultAttrs[i]) : DictionaryAttr();
    if (dict && dict.get("mm.gradient_of"))
      continue;
    results.push_back(ret.getOperand(i));
    outAttrs.push_back(dict ? Attribute(dict) : b.getDictionaryAttr({}));
  }
  auto updateOf = [&](StringRef name) {
    return b.getDictionaryAttr(b.getNamedAttr("mm.update_of", b.getStringAttr(name)));
  };
  for (auto *list : {&newWeights, &newFirst, &newSecond})
    for (auto [i, v] : llvm::enumerate(*list)) {
      results.push_back(v);
      std::string name = params.begin()[i].first.str();
      outAttrs.push_back(updateOf(list == &newWeights  ? name
                                  : list == &newFirst ? "adam_m." + name
                                                      : "adam_v." + name));
    }
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  step.setFunctionType(b.getFunctionType(argTypes, ValueRange(results).getTypes()));
  step.setAllArgAttrs(argAttrs);
  step.setAllResultAttrs(outAttrs);
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (isOpTriviallyDead(&op))
      op.erase();
}

} // namespace
