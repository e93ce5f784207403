//===- FusedKernel.cpp ----------------------------------------------------===//
#include "codegen/FusedKernel.h"
#include "mlir/IR/Matchers.h"
#include "passes/KernelOutlining.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;

namespace mm {

Location knownLocation(Operation *op) {
  // Constants merged by the canonicalizer lose their location: name a user's.
  if (isa<UnknownLoc>(op->getLoc()))
    for (Operation *user : op->getUsers())
      if (!isa<UnknownLoc>(user->getLoc()))
        return user->getLoc();
  return op->getLoc();
}

std::string locationOf(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  knownLocation(op).print(os);
  return s;
}

bool isInteger(Value v) {
  return llvm::isa<IntegerType>(llvm::cast<RankedTensorType>(v.getType()).getElementType());
}

ParamOp paramOf(Value kernelInput) {
  while (auto view = kernelInput.getDefiningOp<ReshapeOp>())
    kernelInput = view.getInput();
  return kernelInput.getDefiningOp<ParamOp>();
}

SmallVector<Operation *> bodyOps(KernelOp k) {
  SmallVector<Operation *> ops;
  for (Operation &op : k.getBodyBlock().without_terminator())
    if (!isa<arith::ConstantOp>(op))
      ops.push_back(&op);
  return ops;
}

LogicalResult FusedKernelEmitter::fail(const Twine &why) {
  mlir::emitError(knownLocation(kernel), "cannot generate ")
      << targetName << " for this '" << stringifyKernelKind(kernel.getKind())
      << "' kernel: " << why;
  return failure();
}

Value FusedKernelEmitter::topLevel(Value bodyValue) const {
  auto arg = llvm::dyn_cast<BlockArgument>(bodyValue);
  return arg ? kernel.getInputs()[arg.getArgNumber()] : Value();
}

std::optional<unsigned> FusedKernelEmitter::resultIndexOf(Value bodyValue) const {
  for (auto [i, v] : llvm::enumerate(kernel.getBodyBlock().getTerminator()->getOperands()))
    if (v == bodyValue)
      return i;
  return std::nullopt;
}

FailureOr<std::string> FusedKernelEmitter::operand(Value v, Value iteration, StringRef index,
                                                   StringRef lastIndex, std::string &code) {
  auto it = names.find(v);
  if (it != names.end())
    return it->second;
  if (auto c = v.getDefiningOp<arith::ConstantOp>()) {
    auto dense = llvm::dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense || !dense.isSplat())
      return (void)fail("only splat constants can be fused"), FailureOr<std::string>();
    return names[v] = isInteger(v) ? integerLiteral(dense.getSplatValue<APInt>().getSExtValue())
                                   : floatLiteral(dense.getSplatValue<APFloat>().convertToDouble());
  }
  Value top = topLevel(v);
  if (!top)
    return (void)fail("a fused value is used before it is computed"), FailureOr<std::string>();
  auto t = llvm::cast<RankedTensorType>(top.getType());
  auto out = llvm::cast<RankedTensorType>(iteration.getType());
  // Same static shape is not enough: [B, T] and [T, B] both read [?, ?].
  auto symbolic = [&](Value x) {
    std::string s;
    for (const SymbolicDim &d : shapes.dims(x))
      s += d.format(shapes.symbols()) + ",";
    return s;
  };
  std::string at;
  if (t.getShape() == out.getShape() && symbolic(top) == symbolic(iteration))
    at = index.str();
  else if (t.hasStaticShape() && t.getNumElements() == 1)
    at = "0";
  else if (t.getRank() == 1 && !t.isDynamicDim(0) && out.getRank() >= 1 &&
           t.getDimSize(0) == out.getShape().back())
    at = lastIndex.str();
  else if (auto general = broadcastIndex(top, iteration, index))
    at = *general;
  else
    return (void)fail("an operand broadcasts in a way kernels do not read"),
           FailureOr<std::string>();
  std::string var = "v" + std::to_string(temps++);
  code += indent + "const " + elementType(v) + " " + var + " = " + load(v, at) + ";\n";
  return names[v] = var;
}

std::optional<std::string> FusedKernelEmitter::broadcastIndex(Value operand, Value iteration,
                                                              StringRef index) const {
  ArrayRef<SymbolicDim> in = shapes.dims(operand), out = shapes.dims(iteration);
  if (in.size() > out.size())
    return std::nullopt;
  auto expr = [&](ArrayRef<SymbolicDim> dims) -> std::optional<std::string> {
    std::string s = "1";
    for (const SymbolicDim &d : dims) {
      if (!d.isStatic() && !symbolsInScope())
        return std::nullopt;
      readsSymbols = readsSymbols || !d.isStatic();
      s += " * " + d.format(shapes.symbols());
    }
    return "(" + s + ")";
  };
  // NumPy broadcasting, dims right-aligned: operand dim j reads the result's
  // coordinate on axis k, or 0 where the operand has a static 1.
  size_t shift = out.size() - in.size();
  std::string at = "0";
  for (size_t j = 0; j < in.size(); ++j) {
    size_t k = j + shift;
    bool ones = in[j].isStatic() && in[j].coefficient == 1;
    if (ones && !(out[k].isStatic() && out[k].coefficient == 1))
      continue;
    if (in[j].coefficient != out[k].coefficient || in[j].exponents != out[k].exponents)
      return std::nullopt;
    auto outer = expr(out.drop_front(k + 1)), size = expr(out.slice(k, 1)),
         stride = expr(in.drop_front(j + 1));
    if (!outer || !size || !stride)
      return std::nullopt;
    // The index runs over the result's elements, so on the outermost axis
    // index / outer is already below the size: no modulo. (That modulo was a
    // division by a runtime batch size per element, the larger part of a
    // broadcasting kernel's time on the host.)
    std::string coordinate = index.str() + " / " + *outer;
    if (k != 0)
      coordinate += " % " + *size;
    at += " + (" + coordinate + ") * " + *stride;
  }
  return "(" + at + ")";
}

LogicalResult FusedKernelEmitter::emitElementwise(ArrayRef<Operation *> ops, Value iteration,
                                                  StringRef index, StringRef lastIndex,
                                                  std::string &code) {
  for (Operation *op : ops) {
    SmallVector<std::string> in;
    for (Value v : op->getOperands()) {
      auto e = operand(v, iteration, index, lastIndex, code);
      if (failed(e))
        return failure();
      in.push_back(*e);
    }
    std::string expr = elementwiseExpr(op, in, target);
    if (expr.empty())
      return fail(Twine("'") + op->getName().getStringRef() +
                  "' has no elementwise generator for the " + targetName + " target");
    Value result = op->getResult(0);
    std::string var = "v" + std::to_string(temps++);
    code += indent + "const " + elementType(result) + " " + var + " = " + expr + ";\n";
    names[result] = var;
  }
  return success();
}

LogicalResult FusedKernelEmitter::storeResults(std::string &code, StringRef index) {
  for (auto [i, v] : llvm::enumerate(kernel.getBodyBlock().getTerminator()->getOperands())) {
    auto it = names.find(v);
    if (it == names.end())
      return fail("a result is not computed by the fused code");
    code += indent + "out" + std::to_string(i) + "[" + index.str() + "] = " + it->second + ";\n";
  }
  return success();
}

namespace {
int64_t lastDim(Value v) { return llvm::cast<RankedTensorType>(v.getType()).getShape().back(); }
} // namespace

FailureOr<FusedKernelEmitter::GemmParts> FusedKernelEmitter::gemmParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto linear = ops.empty() ? LinearOp() : llvm::dyn_cast<LinearOp>(ops.front());
  if (!linear || !topLevel(linear.getInput()) || !topLevel(linear.getWeight()) ||
      (linear.getBias() && !topLevel(linear.getBias())))
    return (void)fail("expected a linear layer of kernel inputs first"), FailureOr<GemmParts>();
  if (llvm::cast<RankedTensorType>(kernel.getResult(0).getType()).getShape() !=
      linear.getType().getShape())
    return (void)fail("the epilogue changes the shape"), FailureOr<GemmParts>();
  Value w = topLevel(linear.getWeight());
  return GemmParts{linear, staticDim(w, 1), staticDim(w, 0),
                   SmallVector<Operation *>(ops.begin() + 1, ops.end())};
}

FailureOr<FusedKernelEmitter::NormParts> FusedKernelEmitter::normParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto it = llvm::find_if(ops, [](Operation *op) { return isa<RmsNormOp>(op); });
  if (it == ops.end())
    return (void)fail("expected an RMSNorm"), FailureOr<NormParts>();
  auto norm = llvm::cast<RmsNormOp>(*it);
  if (!topLevel(norm.getWeight()))
    return (void)fail("the norm weight must be a kernel input"), FailureOr<NormParts>();
  return NormParts{norm, lastDim(norm.getResult()), SmallVector<Operation *>(ops.begin(), it),
                   SmallVector<Operation *>(it + 1, ops.end())};
}

FailureOr<FusedKernelEmitter::SoftmaxParts> FusedKernelEmitter::softmaxParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  Operation *op = ops.size() == 1 ? ops.front() : nullptr;
  if (!op || !isa<SoftmaxOp, LogSoftmaxOp>(op) || !topLevel(op->getOperand(0)))
    return (void)fail("expected one mm.softmax or mm.log_softmax of a kernel input"),
           FailureOr<SoftmaxParts>();
  Value in = topLevel(op->getOperand(0));
  int64_t rank = llvm::cast<RankedTensorType>(in.getType()).getRank();
  int64_t dim = isa<SoftmaxOp>(op) ? static_cast<int64_t>(cast<SoftmaxOp>(op).getDim())
                                   : static_cast<int64_t>(cast<LogSoftmaxOp>(op).getDim());
  if (dim < 0)
    dim += rank;
  return SoftmaxParts{op, in, dim, rank, isa<LogSoftmaxOp>(op)};
}

FailureOr<FusedKernelEmitter::EmbeddingParts> FusedKernelEmitter::embeddingParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto e = ops.size() == 1 ? llvm::dyn_cast<EmbeddingOp>(ops.front()) : EmbeddingOp();
  if (!e || !topLevel(e.getTable()) || !topLevel(e.getIds()) ||
      (e.getRowsFrom() && !topLevel(e.getRowsFrom())))
    return (void)fail("expected one mm.embedding of kernel inputs"), FailureOr<EmbeddingParts>();
  Value table = topLevel(e.getTable());
  return EmbeddingParts{e, staticDim(table, 0), staticDim(table, 1)};
}

FailureOr<FusedKernelEmitter::GatherParts> FusedKernelEmitter::gatherParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto g = ops.size() == 1 ? llvm::dyn_cast<GatherOp>(ops.front()) : GatherOp();
  if (!g || !topLevel(g.getInput()) || !topLevel(g.getIndices()))
    return (void)fail("expected one mm.gather of kernel inputs"), FailureOr<GatherParts>();
  auto input = llvm::cast<RankedTensorType>(g.getInput().getType());
  bool rows = g.getDim() == 1 && g.getBatchDims() == 1 && input.getRank() == 3 &&
              llvm::cast<RankedTensorType>(g.getIndices().getType()).getRank() == 1;
  return GatherParts{g, rows, rows ? staticDim(topLevel(g.getInput()), 2) : 0};
}

FailureOr<FusedKernelEmitter::RouterParts> FusedKernelEmitter::routerParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto r = ops.size() == 1 ? llvm::dyn_cast<MoeRouterOp>(ops.front()) : MoeRouterOp();
  if (!r || !topLevel(r.getLogits()) || resultIndexOf(r.getWeights()) != 0u ||
      resultIndexOf(r.getIndices()) != 1u)
    return (void)fail("expected one mm.moe_router"), FailureOr<RouterParts>();
  return RouterParts{r, lastDim(topLevel(r.getLogits()))};
}

FailureOr<FusedKernelEmitter::DispatchParts> FusedKernelEmitter::dispatchParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto d = ops.size() == 1 ? llvm::dyn_cast<MoeDispatchOp>(ops.front()) : MoeDispatchOp();
  if (!d || kernel.getNumResults() != 3 || !topLevel(d.getInput()) ||
      !topLevel(d.getExpertIndices()))
    return (void)fail("expected one mm.moe_dispatch with all three results"),
           FailureOr<DispatchParts>();
  return DispatchParts{d, lastDim(topLevel(d.getInput())), lastDim(topLevel(d.getExpertIndices())),
                       static_cast<int64_t>(d.getNumExperts())};
}

FailureOr<FusedKernelEmitter::GroupedGemmParts> FusedKernelEmitter::groupedGemmParts() {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto g = ops.empty() ? GroupedMatmulOp() : llvm::dyn_cast<GroupedMatmulOp>(ops.front());
  if (!g || !topLevel(g.getInput()) || !topLevel(g.getWeight()) || !topLevel(g.getGroupOffsets()))
    return (void)fail("expected a grouped matmul of kernel inputs first"),
           FailureOr<GroupedGemmParts>();
  Value w = topLevel(g.getWeight());
  return GroupedGemmParts{g, staticDim(w, 0), staticDim(w, 1), staticDim(w, 2),
                          SmallVector<Operation *>(ops.begin() + 1, ops.end())};
}

FailureOr<FusedKernelEmitter::GroupedSwigluParts> FusedKernelEmitter::groupedSwigluParts() {
  SwigluOp s;
  for (Operation *op : bodyOps(kernel))
    if (auto sw = dyn_cast<SwigluOp>(op))
      s = sw;
  auto gate = s ? s.getGate().getDefiningOp<GroupedMatmulOp>() : GroupedMatmulOp();
  auto up = s ? s.getUp().getDefiningOp<GroupedMatmulOp>() : GroupedMatmulOp();
  if (!gate || !up || bodyOps(kernel).size() != 3 || gate.getInput() != up.getInput() ||
      gate.getGroupOffsets() != up.getGroupOffsets() || !topLevel(gate.getInput()) ||
      !topLevel(gate.getWeight()) || !topLevel(up.getWeight()) || !topLevel(gate.getGroupOffsets()))
    return (void)fail("expected swiglu of two grouped matmuls of one input"),
           FailureOr<GroupedSwigluParts>();
  Value w = topLevel(gate.getWeight());
  return GroupedSwigluParts{gate, up, staticDim(w, 0), staticDim(w, 1), staticDim(w, 2)};
}

/// The kernel's one `Anchor` op and every other op in body order: the
/// elementwise epilogue, including side terms an epilogue fusion placed
/// before the anchor (they read kernel inputs only, so they evaluate per
/// output element like the rest).
template <typename Anchor>
static std::pair<Anchor, SmallVector<Operation *>> anchorAndEpilogue(ArrayRef<Operation *> ops) {
  Anchor anchor;
  SmallVector<Operation *> rest;
  for (Operation *op : ops) {
    if (auto a = llvm::dyn_cast<Anchor>(op); a && !anchor)
      anchor = a;
    else if (isElementwise(op))
      rest.push_back(op);
    else
      return {Anchor(), {}};
  }
  return {anchor, rest};
}

FailureOr<FusedKernelEmitter::CombineParts> FusedKernelEmitter::combineParts() {
  auto [anchor, epilogue] = anchorAndEpilogue<MoeCombineOp>(bodyOps(kernel));
  MoeCombineOp c = anchor;
  if (!c || !topLevel(c.getExpertOutput()) || !topLevel(c.getTokenOrder()) ||
      !topLevel(c.getWeights()))
    return (void)fail("expected mm.moe_combine of kernel inputs"), FailureOr<CombineParts>();
  return CombineParts{c, lastDim(topLevel(c.getWeights())), lastDim(c.getResult()), epilogue};
}

FusedKernelEmitter::HadamardGroups FusedKernelEmitter::hadamardGroups(HadamardInteractionOp op) {
  HadamardGroups g;
  g.starts.push_back(0);
  for (Attribute group : op.getGroups()) {
    for (int64_t m : llvm::cast<DenseI64ArrayAttr>(group).asArrayRef())
      g.members.push_back(m);
    g.starts.push_back(int64_t(g.members.size()));
  }
  return g;
}

AttentionOp FusedKernelEmitter::attentionWithoutCache() const {
  SmallVector<Operation *> ops = bodyOps(kernel);
  auto plain = ops.size() == 1 ? dyn_cast<AttentionOp>(ops.front()) : AttentionOp();
  return plain && !plain.hasCache() ? plain : AttentionOp();
}

FailureOr<FusedKernelEmitter::QueryStart> FusedKernelEmitter::queryStart(Value start) {
  QueryStart where;
  if (start && topLevel(start)) {
    where.pointer = pointer(start);
  } else if (start) {
    DenseElementsAttr value;
    if (!matchPattern(start, m_Constant(&value)) || value.getNumElements() != 1)
      return (void)fail("query_start must be a kernel input or a constant"),
             FailureOr<QueryStart>();
    where.value = value.getSplatValue<APInt>().getSExtValue();
  }
  return where;
}

FailureOr<std::string> FusedKernelEmitter::keyMaskPointer(Value mask) {
  if (!mask)
    return std::string("nullptr");
  if (!topLevel(mask))
    return (void)fail("key_mask must be a kernel input"), FailureOr<std::string>();
  return pointer(mask);
}

FailureOr<FusedKernelEmitter::AttentionParts> FusedKernelEmitter::attentionParts() {
  AttentionParts p;
  for (Operation *op : bodyOps(kernel))
    if (auto a = dyn_cast<AttentionOp>(op))
      p.op = a;
    else if (!isa<RopeOp>(op))
      return (void)fail("unexpected op in an attention kernel"), FailureOr<AttentionParts>();
  AttentionOp att = p.op;
  if (!att || !att.hasCache())
    return (void)fail("the " + targetName + " templates need mm.attention with a KV cache"),
           FailureOr<AttentionParts>();
  auto unrope = [](Value v, RopeOp &rope) -> Value {
    if (auto r = v.getDefiningOp<RopeOp>()) {
      rope = r;
      return r.getInput();
    }
    return v;
  };
  RopeOp kRope;
  p.q = unrope(att.getQuery(), p.rope);
  p.k = unrope(att.getKey(), kRope);
  RopeOp q = p.rope;
  if (bool(q) != bool(kRope) ||
      (q && (q.getRotaryDim() != kRope.getRotaryDim() || q.getTheta() != kRope.getTheta() ||
             q.getPositions() != kRope.getPositions())))
    return (void)fail("query and key must take the same RoPE"), FailureOr<AttentionParts>();
  for (Value v : SmallVector<Value>{p.q, p.k, att.getValue(), att.getKeyCache(),
                                    att.getValueCache(), att.getCachePositions()})
    if (!topLevel(v))
      return (void)fail("attention operands must be kernel inputs"), FailureOr<AttentionParts>();
  if (topLevel(att.getKeyCache()) == topLevel(att.getValueCache()))
    return (void)fail("the key and value caches must be distinct tensors (the kernels update "
                      "both in place)"),
           FailureOr<AttentionParts>();
  auto inPlace = kernel.getInPlace();
  auto kcOut = resultIndexOf(att.getUpdatedCache()[0]);
  auto vcOut = resultIndexOf(att.getUpdatedCache()[1]);
  if (!inPlace || !kcOut || !vcOut || (*inPlace)[*kcOut] != int64_t(argIndex(att.getKeyCache())) ||
      (*inPlace)[*vcOut] != int64_t(argIndex(att.getValueCache())))
    return (void)fail("the updated KV caches must be results written in place"),
           FailureOr<AttentionParts>();
  auto out = resultIndexOf(att.getOutput());
  if (!out)
    return (void)fail("the attention output must be a result"), FailureOr<AttentionParts>();
  p.out = *out;
  p.keyCacheOut = *kcOut;
  p.valueCacheOut = *vcOut;
  Value qTop = topLevel(p.q);
  p.queryHeads = staticDim(qTop, 2);
  p.kvHeads = staticDim(topLevel(p.k), 2);
  p.headDim = staticDim(qTop, 3);
  p.rotaryDim = q ? static_cast<int64_t>(q.getRotaryDim()) : 0;
  p.theta = q ? q.getTheta().convertToDouble() : 0.0;
  p.scale = att.getScaleOrDefault(); // head_dim is static here (staticDim above)
  return p;
}

FailureOr<FusedKernelEmitter::LightningParts> FusedKernelEmitter::lightningParts() {
  LightningParts p;
  for (Operation *op : bodyOps(kernel))
    if (auto l = dyn_cast<LightningAttentionOp>(op))
      p.op = l;
    else if (!isa<SliceOp>(op))
      return (void)fail("unexpected op in a lightning kernel"), FailureOr<LightningParts>();
  LightningAttentionOp la = p.op;
  if (!la)
    return (void)fail("expected mm.lightning_attention"), FailureOr<LightningParts>();
  p.freshState = !la.getInitialState();
  auto qType = llvm::cast<RankedTensorType>(la.getQuery().getType());
  p.heads = qType.getDimSize(2);
  p.headDim = qType.getDimSize(3);
  p.blockSize = static_cast<int64_t>(la.getBlockSize());
  p.width = p.headDim;
  // The op allows a value head dim of its own (S is d x dv); the kernels of
  // both targets hold square states, as the reference does.
  if (int64_t dv = llvm::cast<RankedTensorType>(la.getValue().getType()).getDimSize(3);
      dv != p.headDim)
    return (void)fail(llvm::formatv("mm.lightning_attention with value head dim {0} and key head "
                                    "dim {1}: the {2} kernels need them equal",
                                    dv, p.headDim, targetName)
                          .str()),
           FailureOr<LightningParts>();
  Value qkv[] = {la.getQuery(), la.getKey(), la.getValue()};
  auto first = qkv[0].getDefiningOp<SliceOp>();
  for (auto [i, v] : llvm::enumerate(qkv)) {
    auto slice = v.getDefiningOp<SliceOp>();
    if (bool(slice) != bool(first))
      return (void)fail("q, k and v must all be slices of one input, or all inputs"),
             FailureOr<LightningParts>();
    Value from = slice ? slice.getInput() : v;
    if (!topLevel(from))
      return (void)fail("q/k/v must come from kernel inputs"), FailureOr<LightningParts>();
    if (slice) {
      auto in = llvm::cast<RankedTensorType>(from.getType());
      if (from != first.getInput() || static_cast<int64_t>(slice.getDim()) != in.getRank() - 1 ||
          slice.getStep() != 1)
        return (void)fail("q/k/v slices must be contiguous ranges of one input's last dim"),
               FailureOr<LightningParts>();
      p.width = in.getShape().back();
    }
    p.offset[i] = slice ? static_cast<int64_t>(slice.getStart()) : 0;
    p.base[i] = pointer(from) + " + " + std::to_string(p.offset[i]);
  }
  auto inPlace = kernel.getInPlace();
  auto stateOut = resultIndexOf(la.getFinalState());
  auto out = resultIndexOf(la.getOutput());
  if (!out)
    return (void)fail("the attention output must be a result"), FailureOr<LightningParts>();
  p.out = *out;
  p.stateOut = stateOut;
  p.stateInPlace = !p.freshState && stateOut && inPlace &&
                   (*inPlace)[*stateOut] == int64_t(argIndex(la.getInitialState()));
  return p;
}

} // namespace mm
