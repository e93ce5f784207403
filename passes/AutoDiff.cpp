//===- AutoDiff.cpp - reverse-mode differentiation of an mm function ------===//
//
// Adds @F_grad next to @F: F's forward graph followed by the backward sweep.
// The pass only decides *which* ops take part and accumulates gradients; each
// op's vector-Jacobian product comes from its DifferentiableOpInterface rule
// (ir/ops/*Gradients.cpp). See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//
#include "ir/GradientBuilder.h"
#include "ir/MMOps.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/MapVector.h"

namespace mm {
#define GEN_PASS_DEF_AUTODIFF
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {

bool isFloatTensor(Type t) {
  auto ranked = llvm::dyn_cast<RankedTensorType>(t);
  return ranked && llvm::isa<FloatType>(ranked.getElementType());
}

/// The differentiation of one function body (already a copy of F).
class ReverseSweep {
public:
  /// `recomputePrefix` non-empty: layers (ops whose location name is
  /// `<prefix>.<index>[.<anything>]`) are recomputed in the backward.
  ReverseSweep(func::FuncOp fn, StringRef recomputePrefix)
      : fn(fn), body(fn.getBody().front()), recomputePrefix(recomputePrefix) {}

  LogicalResult run();

private:
  /// Forward: values that depend on a float argument or a weight.
  void markVaried();
  /// Backward: values the loss depends on.
  void markUseful(Value loss);
  LogicalResult checkIntegerPaths(Operation &op);
  LogicalResult propagate(Operation &op);
  /// The layer `op` belongs to ("layers.3"), or "" when it is not recomputed.
  StringRef layerOf(Operation &op) const;
  /// Clones the forward ops of `layer` at the builder's point (once), so the
  /// backward reads recomputed activations and the forward ones die early.
  void recompute(StringRef layer, OpBuilder &b);
  void accumulate(Value forward, Value gradient, GradientBuilder &gb);

  func::FuncOp fn;
  Block &body;
  std::string recomputePrefix;
  llvm::DenseSet<Value> varied, useful;
  llvm::DenseMap<Value, Value> gradients;
  llvm::StringMap<SmallVector<Operation *>> layers; // forward ops by layer
  llvm::DenseMap<Operation *, Operation *> recomputed; // forward op -> its clone
};

void ReverseSweep::markVaried() {
  for (BlockArgument arg : body.getArguments())
    if (isFloatTensor(arg.getType()))
      varied.insert(arg);
  for (Operation &op : body) {
    bool fromVaried = isa<ParamOp>(op) || llvm::any_of(op.getOperands(), [&](Value v) {
                        return varied.contains(v);
                      });
    if (fromVaried)
      for (Value r : op.getResults())
        if (isFloatTensor(r.getType()))
          varied.insert(r);
  }
}

void ReverseSweep::markUseful(Value loss) {
  useful.insert(loss);
  for (Operation &op : llvm::reverse(body))
    if (llvm::any_of(op.getResults(), [&](Value r) { return useful.contains(r); }))
      for (Value v : op.getOperands())
        useful.insert(v);
}

// A loss that depends on an integer computed from a differentiated float has
// no gradient there (argmax, top_k indices, a float-to-int cast): refuse it
// rather than return a silently partial gradient.
LogicalResult ReverseSweep::checkIntegerPaths(Operation &op) {
  if (!llvm::any_of(op.getOperands(), [&](Value v) { return varied.contains(v); }))
    return success();
  auto rule = dyn_cast<DifferentiableOpInterface>(op);
  if (rule && rule.integerResultsAreConstantSelections())
    return success();
  for (OpResult r : op.getResults())
    if (!isFloatTensor(r.getType()) && useful.contains(r))
      return op.emitOpError("has no gradient: the loss depends on its integer result #")
             << r.getResultNumber()
             << ", computed from a differentiated value (the derivative is undefined)";
  return success();
}

void ReverseSweep::accumulate(Value forward, Value gradient, GradientBuilder &gb) {
  Value &slot = gradients[forward];
  slot = slot ? gb.add(slot, gradient) : gradient;
}

StringRef ReverseSweep::layerOf(Operation &op) const {
  auto name = llvm::dyn_cast<NameLoc>(op.getLoc());
  if (recomputePrefix.empty() || !name || isa<ParamOp, arith::ConstantOp>(op))
    return "";
  StringRef text = name.getName().getValue();
  if (!text.consume_front(recomputePrefix) || !text.consume_front("."))
    return "";
  size_t digits = text.find_first_not_of("0123456789");
  if (digits == 0 || (digits != StringRef::npos && text[digits] != '.'))
    return "";
  StringRef full = name.getName().getValue();
  return full.take_front(recomputePrefix.size() + 1 + (digits == StringRef::npos ? text.size() : digits));
}

void ReverseSweep::recompute(StringRef layer, OpBuilder &b) {
  IRMapping map;
  for (Operation *op : layers[layer]) {
    Operation *clone = b.clone(*op, map);
    // Marked, so that CSE does not merge the copy back into the original.
    clone->setAttr("mm.recomputed", b.getUnitAttr());
    recomputed[op] = clone;
  }
}

LogicalResult ReverseSweep::propagate(Operation &op) {
  SmallVector<Value> resultGradients;
  bool any = false;
  for (Value r : op.getResults()) {
    resultGradients.push_back(gradients.lookup(r));
    any |= static_cast<bool>(resultGradients.back());
  }
  bool needed = llvm::any_of(op.getOperands(), [&](Value v) { return varied.contains(v); });
  if (!any || !needed)
    return success();
  auto rule = dyn_cast<DifferentiableOpInterface>(op);
  if (!rule)
    return op.emitOpError("has no gradient rule, and the loss depends on it through a "
                          "differentiated value");
  OpBuilder b(fn.getContext());
  b.setInsertionPoint(body.getTerminator());
  // With recomputation, the rule runs on the layer's recomputed copy of op.
  StringRef layer = layerOf(op);
  if (!layer.empty() && !recomputed.count(&op))
    recompute(layer, b);
  if (Operation *copy = recomputed.lookup(&op))
    rule = cast<DifferentiableOpInterface>(copy);
  SmallVector<Value> operandGradients;
  if (failed(rule.buildGradients(b, resultGradients, operandGradients)))
    return failure();
  if (operandGradients.size() != op.getNumOperands())
    return op.emitOpError("gradient rule returned ")
           << operandGradients.size() << " gradients for " << op.getNumOperands()
           << " operands";
  GradientBuilder gb(b, op.getLoc());
  for (auto [operand, gradient] : llvm::zip(op.getOperands(), operandGradients))
    if (gradient && varied.contains(operand))
      accumulate(operand, gradient, gb);
  return success();
}

LogicalResult ReverseSweep::run() {
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (ret.getNumOperands() == 0)
    return fn.emitOpError("has no result to differentiate");
  Value loss = ret.getOperand(0);
  auto lossType = llvm::dyn_cast<RankedTensorType>(loss.getType());
  if (!lossType || lossType.getRank() != 0 || !isFloatTensor(lossType))
    return fn.emitOpError("result #0 must be a float scalar (tensor<f32> or tensor<f64>) to "
                          "differentiate, got ")
           << loss.getType();
  markVaried();
  markUseful(loss);
  for (Operation &op : body)
    if (failed(checkIntegerPaths(op)))
      return failure();

  OpBuilder b(fn.getContext());
  b.setInsertionPoint(ret);
  GradientBuilder seed(b, fn.getLoc());
  gradients[loss] = seed.scalar(loss, 1.0);
  SmallVector<Operation *> forward;
  for (Operation &op : body)
    if (&op != ret.getOperation()) {
      forward.push_back(&op);
      StringRef layer = layerOf(op);
      if (!layer.empty())
        layers[layer].push_back(&op);
    }
  for (Operation *op : llvm::reverse(forward))
    if (failed(propagate(*op)))
      return failure();

  // Results: F's, then d/d(each float argument), then d/d(each weight, by
  // name in order of first appearance).
  SmallVector<Value> results(ret.getOperands());
  SmallVector<Attribute> resultAttrs;
  ArrayAttr original = fn.getAllResultAttrs();
  for (unsigned i = 0; i < ret.getNumOperands(); ++i)
    resultAttrs.push_back(original ? original[i] : b.getDictionaryAttr({}));
  GradientBuilder gb(b, fn.getLoc());
  auto addGradient = [&](Value gradient, Value like, StringRef of) {
    gradient = gradient ? gb.matchType(gradient, like.getType()) : gb.zerosLike(like);
    results.push_back(gradient);
    resultAttrs.push_back(b.getDictionaryAttr(
        b.getNamedAttr("mm.gradient_of", b.getStringAttr(of))));
  };
  for (BlockArgument arg : body.getArguments())
    if (isFloatTensor(arg.getType())) {
      auto name = fn.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "mm.name");
      std::string label = name ? name.str() : "%arg" + std::to_string(arg.getArgNumber());
      addGradient(gradients.lookup(arg), arg, label);
    }
  llvm::MapVector<StringRef, SmallVector<ParamOp>> params;
  for (Operation &op : body)
    if (auto p = dyn_cast<ParamOp>(op); p && isFloatTensor(p.getType()))
      params[p.getName()].push_back(p);
  for (auto &[name, uses] : params) {
    Value total;
    for (ParamOp p : uses)
      if (Value g = gradients.lookup(p.getResult()))
        total = total ? gb.add(total, g) : g;
    addGradient(total, uses.front().getResult(), name);
  }
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  fn.setFunctionType(FunctionType::get(fn.getContext(), fn.getArgumentTypes(),
                                       ValueRange(results).getTypes()));
  fn.setAllResultAttrs(resultAttrs);

  // Rules form every operand's gradient; drop those nothing reads.
  for (Operation &op : llvm::make_early_inc_range(llvm::reverse(body)))
    if (isOpTriviallyDead(&op))
      op.erase();
  return success();
}

struct AutoDiffPass : mm::impl::AutoDiffBase<AutoDiffPass> {
  using AutoDiffBase::AutoDiffBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (function.empty()) {
      module.emitError("mm-autodiff needs function=NAME");
      return signalPassFailure();
    }
    auto fn = module.lookupSymbol<func::FuncOp>(function);
    if (!fn) {
      module.emitError("mm-autodiff: no function @") << function << " in the module";
      return signalPassFailure();
    }
    std::string gradName = function + "_grad";
    if (module.lookupSymbol(gradName)) {
      fn.emitOpError("cannot be differentiated into @")
          << gradName << ": the module already has a symbol of that name";
      return signalPassFailure();
    }
    if (!fn.getBody().hasOneBlock()) {
      fn.emitOpError("must have a single block to be differentiated");
      return signalPassFailure();
    }
    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(fn);
    auto grad = cast<func::FuncOp>(b.clone(*fn));
    grad.setSymName(gradName);
    grad.setPublic();
    // The gradient function is no generation step, whatever F was.
    grad->removeAttr("mm.generation_step");
    for (unsigned i = 0; i < grad.getNumArguments(); ++i)
      grad.removeArgAttr(i, StringAttr::get(grad.getContext(), "mm.step_input"));
    if (failed(ReverseSweep(grad, recomputePrefix).run())) {
      grad.erase();
      return signalPassFailure();
    }
  }
};

} // namespace
