//===- SymbolicShapes.cpp -------------------------------------------------===//
#include "passes/SymbolicShapes.h"
#include "ir/MMOps.h"

#include "ir/ShardCollectives.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

using namespace mlir;

namespace mm {

bool SymbolicDim::isStatic() const {
  return llvm::all_of(exponents, [](unsigned e) { return e == 0; });
}

int64_t SymbolicDim::evaluate(ArrayRef<int64_t> values) const {
  int64_t v = coefficient;
  for (auto [e, s] : llvm::zip(exponents, values))
    for (unsigned i = 0; i < e; ++i)
      v *= s;
  return v;
}

std::string SymbolicDim::format(ArrayRef<std::string> symbols) const {
  std::string s;
  for (auto [e, name] : llvm::zip(exponents, symbols))
    for (unsigned i = 0; i < e; ++i)
      s += name + "*";
  return s + std::to_string(coefficient);
}

int64_t elementBytes(Type type) {
  // Generated code keeps every integer (i1 masks included) as int64.
  if (llvm::isa<IntegerType>(type))
    return 8;
  return std::max<int64_t>(1, (type.getIntOrFloatBitWidth() + 7) / 8);
}

namespace {
/// Recomputes the result types of `op` from its operands' (already
/// specialised) types with the op's own shape function.
LogicalResult reinfer(Operation *op) {
  if (isa<ParamOp, arith::ConstantOp>(op) || op->getNumResults() == 0)
    return success();
  if (auto kernel = dyn_cast<KernelOp>(op)) {
    Block &body = kernel.getBodyBlock();
    for (auto [arg, in] : llvm::zip(body.getArguments(), kernel.getInputs()))
      arg.setType(in.getType());
    for (Operation &inner : body)
      if (failed(reinfer(&inner)))
        return failure();
    for (auto [r, y] : llvm::zip(kernel.getResults(), body.getTerminator()->getOperands()))
      r.setType(y.getType());
    return success();
  }
  // Collectives: all_reduce keeps the shape; all_gather multiplies its axis
  // by the group's size, all_slice and reduce_scatter divide it.
  if (isExecutableCollective(op)) {
    auto in = llvm::cast<RankedTensorType>(op->getOperand(0).getType());
    SmallVector<int64_t> shape(in.getShape());
    if (!isa<shard::AllReduceOp>(op)) {
      llvm::Expected<dist::CollectivePlan> plan = collectivePlan(op);
      if (!plan)
        return op->emitOpError(llvm::toString(plan.takeError()));
      int64_t members = 1;
      for (int64_t a : plan->axes)
        members *= plan->gridShape[a];
      int64_t &d = shape[plan->axis];
      if (!ShapedType::isDynamic(d))
        d = isa<shard::AllGatherOp>(op) ? d * members : d / members;
    }
    op->getResult(0).setType(RankedTensorType::get(shape, in.getElementType()));
    return success();
  }
  if (auto cast = dyn_cast<CastOp>(op)) {
    auto in = llvm::cast<RankedTensorType>(cast.getInput().getType());
    cast.getResult().setType(RankedTensorType::get(in.getShape(), cast.getType().getElementType()));
    return success();
  }
  auto infer = dyn_cast<InferTypeOpInterface>(op);
  if (!infer)
    return op->emitOpError("has no shape function to specialise its result types");
  SmallVector<Type> types;
  if (failed(infer.inferReturnTypes(op->getContext(), op->getLoc(), op->getOperands(),
                                    op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
                                    op->getRegions(), types)))
    return failure();
  for (auto [r, t] : llvm::zip(op->getResults(), types))
    r.setType(t);
  return success();
}

/// The static shapes of every top-level value of a copy of `fn` whose
/// argument dims take `values` (by symbol).
FailureOr<SmallVector<SmallVector<int64_t>>> probe(func::FuncOp fn, ArrayRef<std::string> symbols,
                                                   ArrayRef<SmallVector<int, 4>> argSymbols,
                                                   ArrayRef<int64_t> values) {
  OpBuilder b(fn.getContext());
  OwningOpRef<ModuleOp> scratch = ModuleOp::create(fn.getLoc());
  b.setInsertionPointToEnd(scratch->getBody());
  // The device grids the collectives name come along.
  if (auto module = fn->getParentOfType<ModuleOp>())
    for (auto grid : module.getOps<shard::GridOp>())
      b.clone(*grid);
  auto copy = llvm::cast<func::FuncOp>(b.clone(*fn));
  Block &body = copy.getBody().front();
  for (auto [arg, syms] : llvm::zip(body.getArguments(), argSymbols)) {
    auto t = llvm::cast<RankedTensorType>(arg.getType());
    SmallVector<int64_t> shape(t.getShape());
    for (auto [d, s] : llvm::enumerate(syms))
      if (s >= 0)
        shape[d] = values[s];
    arg.setType(RankedTensorType::get(shape, t.getElementType()));
  }
  SmallVector<SmallVector<int64_t>> shapes;
  for (BlockArgument arg : body.getArguments())
    shapes.emplace_back(llvm::cast<RankedTensorType>(arg.getType()).getShape());
  for (Operation &op : body) {
    if (failed(reinfer(&op)))
      return failure();
    for (Value r : op.getResults())
      shapes.emplace_back(llvm::cast<RankedTensorType>(r.getType()).getShape());
  }
  return shapes;
}
} // namespace

FailureOr<SymbolicShapes> SymbolicShapes::infer(func::FuncOp fn) {
  SymbolicShapes result;
  Block &body = fn.getBody().front();
  SmallVector<SmallVector<int, 4>> argSymbols;
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    auto t = llvm::dyn_cast<RankedTensorType>(arg.getType());
    if (!t)
      return fn.emitError("argument ") << i << " is not a ranked tensor";
    auto names = fn.getArgAttrOfType<ArrayAttr>(i, "mm.dims");
    SmallVector<int, 4> syms(t.getRank(), -1);
    for (int64_t d = 0; d < t.getRank(); ++d) {
      StringRef name;
      if (names && d < static_cast<int64_t>(names.size()))
        if (auto s = llvm::dyn_cast<StringAttr>(names[d]))
          name = s.getValue();
      if (!t.isDynamicDim(d))
        continue;
      if (name.empty())
        return fn.emitError("dynamic dim ")
               << d << " of argument " << i << " has no symbol in its mm.dims attribute";
      auto it = llvm::find(result.symbols_, name.str());
      if (it == result.symbols_.end()) {
        result.symbols_.push_back(name.str());
        it = result.symbols_.end() - 1;
      }
      syms[d] = static_cast<int>(it - result.symbols_.begin());
    }
    argSymbols.push_back(syms);
  }
  size_t n = result.symbols_.size();
  // Probes must be valid inputs: a step cannot write more tokens (T) than
  // the cache holds (S). Symbols appear in argument order (B, T, then S),
  // so a base of 16^i orders them, probe i doubles symbol i, and the last
  // probe multiplies the base by distinct odd primes to check the monomials.
  static const int64_t primes[] = {3, 5, 7, 11, 13, 17};
  if (n > std::size(primes))
    return fn.emitError("too many shape symbols");
  SmallVector<int64_t> base;
  for (size_t i = 0; i < n; ++i)
    base.push_back(int64_t(1) << (4 * i));
  SmallVector<SmallVector<int64_t>> probes{base};
  for (size_t i = 0; i < n; ++i) {
    probes.push_back(base);
    probes.back()[i] *= 2;
  }
  probes.push_back(base);
  for (size_t i = 0; i < n; ++i)
    probes.back()[i] *= primes[i];
  SmallVector<SmallVector<SmallVector<int64_t>>> shapes;
  for (auto &values : probes) {
    auto s = probe(fn, result.symbols_, argSymbols, values);
    if (failed(s))
      return fn.emitError("shape inference failed while specialising the run-time sizes");
    shapes.push_back(std::move(*s));
  }
  SmallVector<Value> values(body.getArguments().begin(), body.getArguments().end());
  for (Operation &op : body)
    values.append(op.result_begin(), op.result_end());
  for (auto [v, value] : llvm::enumerate(values)) {
    SmallVector<SymbolicDim, 4> dims;
    for (size_t d = 0; d < shapes[0][v].size(); ++d) {
      SymbolicDim dim;
      int64_t atBase = shapes[0][v][d], divisor = 1;
      for (size_t s = 0; s < n; ++s) {
        int64_t doubled = shapes[1 + s][v][d];
        unsigned e = 0;
        if (atBase > 0 && doubled % atBase == 0)
          for (int64_t ratio = doubled / atBase; ratio > 1 && ratio % 2 == 0; ratio /= 2)
            ++e;
        dim.exponents.push_back(e);
        for (unsigned k = 0; k < e; ++k)
          divisor *= base[s];
      }
      dim.coefficient = atBase % divisor == 0 ? atBase / divisor : -1;
      if (dim.evaluate(probes.back()) != shapes.back()[v][d]) {
        InFlightDiagnostic diag =
            value.getDefiningOp() ? value.getDefiningOp()->emitError() : fn.emitError();
        return diag << "dim " << d << " is not a product of the run-time sizes ("
                    << llvm::join(result.symbols_, ", ") << ") and constants";
      }
      dims.push_back(dim);
    }
    result.dims_[value] = std::move(dims);
  }
  return result;
}

ArrayRef<SymbolicDim> SymbolicShapes::dims(Value v) const {
  auto it = dims_.find(v);
  assert(it != dims_.end() && "not a top-level value of the function");
  return it->second;
}

int64_t SymbolicShapes::bytes(Value v, ArrayRef<int64_t> values) const {
  int64_t n = elementBytes(llvm::cast<RankedTensorType>(v.getType()).getElementType());
  for (const SymbolicDim &d : dims(v))
    n *= d.evaluate(values);
  return n;
}

} // namespace mm
