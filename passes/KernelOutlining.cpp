//===- KernelOutlining.cpp ------------------------------------------------===//
#include "passes/KernelOutlining.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;

namespace mm {

bool isElementwise(Operation *op) {
  return op->hasTrait<OpTrait::Elementwise>() || isa<AddOp, SubOp, MulOp, DivOp, MaxOp, MinOp>(op);
}

FailureOr<KernelOp> outlineKernel(RewriterBase &rewriter, KernelKind kind,
                                  ArrayRef<Operation *> ops,
                                  ArrayRef<std::pair<Value, Value>> inPlace) {
  llvm::SmallPtrSet<Operation *, 8> inGroup(ops.begin(), ops.end());
  Operation *last = ops.back();
  llvm::SetVector<Value> inputs;
  SmallVector<Operation *> constants;
  for (Operation *op : ops)
    for (Value v : op->getOperands()) {
      Operation *def = v.getDefiningOp();
      if (def && inGroup.contains(def))
        continue;
      // Kernels clone the constants they read, but an elementwise op reads
      // a splat only (a literal in the generated code), and a gather a
      // table it indexes only as an input: another constant (a table of
      // class ids, of every head's decay slope) is an input, written by a
      // Constant kernel.
      auto constant = llvm::dyn_cast_or_null<arith::ConstantOp>(def);
      auto dense = constant ? llvm::dyn_cast<DenseElementsAttr>(constant.getValue()) : nullptr;
      bool readAsTable = isa<GatherOp>(op) && v == op->getOperand(0);
      bool input = dense && (readAsTable || (isElementwise(op) && !dense.isSplat()));
      if (constant && !input)
        constants.push_back(def);
      else
        inputs.insert(v);
    }
  SmallVector<Value> results;
  for (Operation *op : ops) {
    // An attention kernel writes its output wherever it goes: one nothing
    // reads (a LASP+ chunk run only for its state) still gets a buffer.
    if (isa<AttentionOp, LightningAttentionOp>(op) && op->getResult(0).use_empty())
      results.push_back(op->getResult(0));
    for (Value r : op->getResults())
      for (Operation *user : r.getUsers())
        if (!inGroup.contains(user)) {
          // The kernel sits where `last` is: every outside use must follow it.
          if (user->getBlock() != last->getBlock() || user->isBeforeInBlock(last))
            return failure();
          if (!llvm::is_contained(results, r))
            results.push_back(r);
        }
  }

  rewriter.setInsertionPointAfter(last);
  SmallVector<Type> resultTypes;
  for (Value r : results)
    resultTypes.push_back(r.getType());
  SmallVector<int64_t> inPlaceIndex;
  for (Value r : results) {
    int64_t index = -1;
    for (auto [res, in] : inPlace)
      if (res == r && inputs.contains(in))
        index = std::distance(inputs.begin(), llvm::find(inputs, in));
    // One buffer is updated in place by one result at most.
    if (llvm::is_contained(inPlaceIndex, index))
      index = -1;
    inPlaceIndex.push_back(index);
  }
  bool anyInPlace = llvm::any_of(inPlaceIndex, [](int64_t i) { return i >= 0; });
  auto kernel = KernelOp::create(
      rewriter, last->getLoc(), resultTypes, KernelKindAttr::get(rewriter.getContext(), kind),
      inputs.getArrayRef(),
      anyInPlace ? rewriter.getDenseI64ArrayAttr(inPlaceIndex) : DenseI64ArrayAttr());
  Block *body = rewriter.createBlock(&kernel.getBody());
  IRMapping mapping;
  for (Value in : inputs)
    mapping.map(in, body->addArgument(in.getType(), in.getLoc()));
  rewriter.setInsertionPointToEnd(body);
  for (Operation *c : constants)
    if (!mapping.contains(c->getResult(0)))
      rewriter.clone(*c, mapping);
  for (Operation *op : ops)
    rewriter.clone(*op, mapping);
  SmallVector<Value> yielded;
  for (Value r : results)
    yielded.push_back(mapping.lookup(r));
  YieldOp::create(rewriter, last->getLoc(), yielded);

  for (auto [r, k] : llvm::zip(results, kernel.getResults()))
    rewriter.replaceUsesWithIf(r, k,
                               [&](OpOperand &use) { return !inGroup.contains(use.getOwner()); });
  for (Operation *op : llvm::reverse(ops))
    rewriter.eraseOp(op);
  return kernel;
}

/// Can a kernel read `side` alongside an output of shape `out`?
static bool broadcastable(Value side, RankedTensorType out) {
  auto t = llvm::cast<RankedTensorType>(side.getType());
  if (t.getShape() == out.getShape())
    return true;
  if (t.hasStaticShape() && t.getNumElements() == 1)
    return true;
  return t.getRank() == 1 && out.getRank() >= 1 && !t.isDynamicDim(0) &&
         t.getDimSize(0) == out.getShape().back();
}

SmallVector<Operation *> absorbElementwiseEpilogue(SmallVector<Operation *> group, Value anchor) {
  size_t initial = group.size();
  Value current = anchor;
  auto outType = llvm::cast<RankedTensorType>(anchor.getType());
  while (current.hasOneUse()) {
    Operation *user = *current.getUsers().begin();
    if (!isElementwise(user) || user->getNumResults() != 1 ||
        user->getBlock() != anchor.getParentBlock() ||
        llvm::cast<RankedTensorType>(user->getResult(0).getType()).getShape() != outType.getShape())
      break;
    SmallVector<Operation *> producers;
    bool ok = true;
    for (Value side : user->getOperands()) {
      if (side == current)
        continue;
      Operation *def = side.getDefiningOp();
      if (def && isa<arith::ConstantOp>(def))
        continue;
      // alpha * residual and the like: computed inside the kernel.
      if (def && isElementwise(def) && side.hasOneUse() &&
          llvm::all_of(def->getOperands(),
                       [&](Value v) {
                         Operation *d = v.getDefiningOp();
                         return (d && isa<arith::ConstantOp>(d)) || broadcastable(v, outType);
                       }) &&
          broadcastable(side, outType)) {
        producers.push_back(def);
        continue;
      }
      if (!broadcastable(side, outType)) {
        ok = false;
        break;
      }
    }
    if (!ok)
      break;
    group.append(producers.begin(), producers.end());
    group.push_back(user);
    current = user->getResult(0);
  }
  // The anchor ops lead the kernel (its generators read them first); a side
  // producer computes from kernel inputs only, so it may follow them even
  // when it stands before them in the block (a norm's scaling before a
  // gate's GEMM under tensor parallelism).
  auto inBlockOrder = [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); };
  llvm::sort(group.begin(), group.begin() + initial, inBlockOrder);
  llvm::sort(group.begin() + initial, group.end(), inBlockOrder);
  return group;
}

} // namespace mm
