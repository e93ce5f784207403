//===- MMDialect.cpp - registration of the mm dialect ---------------------===//
#include "ir/MMDialect.h"
#include "ir/GenerationStep.h"
#include "ir/MMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Shard/IR/ShardDialect.h"
#include "mlir/Dialect/Shard/Interfaces/ShardingInterface.h"

using namespace mlir;

#include "ir/MMDialect.cpp.inc"

void mm::MMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/MMOps.cpp.inc"
      >();
}

// The discardable attributes the passes and code generation rely on; an
// unknown `mm.` attribute is an error too, so a misspelt one cannot be
// silently ignored.
LogicalResult mm::MMDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == "mm.offsets") {
    auto kernel = dyn_cast<KernelOp>(op);
    auto offsets = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
    if (!kernel || !offsets)
      return op->emitError("mm.offsets must be an array<i64> on an mm.kernel");
    if (offsets.size() != static_cast<int64_t>(kernel.getNumResults()))
      return op->emitError("mm.offsets has ")
             << offsets.size() << " entries for " << kernel.getNumResults() << " results";
    for (int64_t o : offsets.asArrayRef())
      if (o < -1)
        return op->emitError("mm.offsets entry ") << o << " is negative (only -1 aliases)";
    return success();
  }
  if (name == "mm.recomputed") {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError("mm.recomputed must be a unit attribute");
    return success();
  }
  if (name == "mm.arena_bytes") {
    auto bytes = dyn_cast<IntegerAttr>(attr.getValue());
    if (!bytes || bytes.getInt() < 0)
      return op->emitError("mm.arena_bytes must be a non-negative integer");
    return success();
  }
  // How an engine drives a model function step by step (ir/GenerationStep.h).
  if (name == "mm.generation_step") {
    auto fn = dyn_cast<func::FuncOp>(op);
    if (!fn)
      return op->emitError("mm.generation_step belongs on a func.func");
    return failed(readGenerationStep(fn)) ? failure() : success();
  }
  if (name == "mm.symbol_max") {
    auto maxima = dyn_cast<DictionaryAttr>(attr.getValue());
    if (!maxima)
      return op->emitError("mm.symbol_max must be a dictionary of symbol maxima");
    for (NamedAttribute m : maxima) {
      auto v = dyn_cast<IntegerAttr>(m.getValue());
      if (!v || v.getInt() < 1)
        return op->emitError("mm.symbol_max entry '")
               << m.getName().getValue() << "' must be an integer >= 1";
    }
    return success();
  }
  // A partitioned program's split weight (ir/ShardCollectives.h): the
  // grid, and the grid axes of each dim of the param's (part) type.
  if (name == "mm.grid" || name == "mm.split_axes") {
    auto param = dyn_cast<ParamOp>(op);
    if (!param)
      return op->emitError(name) << " belongs on an mm.param";
    if (name == "mm.grid")
      return isa<FlatSymbolRefAttr>(attr.getValue())
                 ? success()
                 : op->emitError("mm.grid must name a shard.grid (@NAME)");
    auto perDim = dyn_cast<ArrayAttr>(attr.getValue());
    if (!perDim || perDim.size() != static_cast<size_t>(param.getType().getRank()) ||
        !llvm::all_of(perDim, [](Attribute a) { return isa<DenseI16ArrayAttr>(a); }))
      return op->emitError("mm.split_axes must hold one array<i16> of grid axes per dim of ")
             << param.getType();
    if (!op->hasAttr("mm.grid"))
      return op->emitError("mm.split_axes needs mm.grid");
    return success();
  }
  // The model's tensor- / expert- / expert-tensor- / vocab-parallel split of a weight or of
  // a constant (a head map) (-mm-model-parallel).
  if (name == "mm.tp_dim" || name == "mm.ep_dim" || name == "mm.etp_dim" ||
      name == "mm.vocab_dim") {
    auto dim = dyn_cast<IntegerAttr>(attr.getValue());
    if (!isa<ParamOp, arith::ConstantOp>(op) || !dim)
      return op->emitError(name) << " must be an integer on an mm.param or arith.constant";
    // A split constant stays whole where it is made (constants have no
    // sharding model): only a head map read as indices, by gathers, which
    // slice it, and by their gradients' scatter_adds, which take it whole.
    // (Ops with no sharding model, as kernels, and the shard collectives
    // the partition makes of it may hold it later.)
    if (isa<arith::ConstantOp>(op) &&
        (name != "mm.tp_dim" || llvm::any_of(op->getResult(0).getUses(), [](OpOperand &use) {
          Operation *user = use.getOwner();
          return isa<shard::ShardingInterface>(user) &&
                 !isa<shard::ShardDialect>(user->getDialect()) &&
                 !(isa<GatherOp, ScatterAddOp>(user) && use.getOperandNumber() == 1);
        })))
      return op->emitError(name) << " on an arith.constant is for a head map read as "
                                    "mm.gather / mm.scatter_add indices only";
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || dim.getInt() < 0 || dim.getInt() >= type.getRank())
      return op->emitError(name) << " " << dim.getInt() << " is not a dim of "
                                 << op->getResult(0).getType();
    return success();
  }
  return op->emitError("unknown mm attribute '") << name << "'";
}

LogicalResult mm::MMDialect::verifyRegionArgAttribute(Operation *op, unsigned region,
                                                      unsigned argIndex, NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  Block &entry = op->getRegion(region).front();
  if (argIndex >= entry.getNumArguments())
    return success(); // external declarations carry no block arguments
  auto type = dyn_cast<RankedTensorType>(entry.getArgument(argIndex).getType());
  if (name == "mm.name") {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitError("mm.name of argument ") << argIndex << " must be a string";
    return success();
  }
  if (name == "mm.step_input") {
    auto role = dyn_cast<StringAttr>(attr.getValue());
    if (!role || !parseStepInput(role.getValue()))
      return op->emitError("mm.step_input of argument ")
             << argIndex
             << " must be one of \"token_ids\", \"positions\", \"cache_positions\", "
                "\"lengths\", \"image_features\"";
    return success();
  }
  if (name == "mm.dims") {
    auto dims = dyn_cast<ArrayAttr>(attr.getValue());
    if (!dims || !type || dims.size() != static_cast<size_t>(type.getRank()))
      return op->emitError("mm.dims of argument ")
             << argIndex << " must list one name per dim of a ranked tensor";
    for (auto [d, a] : llvm::enumerate(dims)) {
      auto s = dyn_cast<StringAttr>(a);
      if (!s)
        return op->emitError("mm.dims of argument ") << argIndex << " has a non-string entry";
      if (type.isDynamicDim(d) && s.getValue().empty())
        return op->emitError("mm.dims of argument ")
               << argIndex << ": dynamic dim " << d << " names no symbol";
      if (!type.isDynamicDim(d) && !s.getValue().empty())
        return op->emitError("mm.dims of argument ")
               << argIndex << ": static dim " << d << " names symbol '" << s.getValue()
               << "' (static dims are \"\")";
    }
    return success();
  }
  // A trained weight's split, carried from its mm.param to the training
  // step's argument (and its moments'), or the tokens' dim a context-
  // parallel step splits: -mm-model-parallel reads it there.
  if (name == "mm.tp_dim" || name == "mm.ep_dim" || name == "mm.etp_dim" ||
      name == "mm.vocab_dim" || name == "mm.cp_dim") {
    auto dim = dyn_cast<IntegerAttr>(attr.getValue());
    if (!dim || !type || dim.getInt() < 0 || dim.getInt() >= type.getRank())
      return op->emitError(name) << " of argument " << argIndex
                                 << " must be an integer dim of a ranked tensor";
    return success();
  }
  if (name == "mm.selector") { // a supernet's choice selector (models/AmerBuilder.h)
    if (!isa<UnitAttr>(attr.getValue()) || !type || type.getRank() != 0 ||
        !type.getElementType().isInteger(64))
      return op->emitError("mm.selector of argument ") << argIndex << " must mark a tensor<i64>";
    return success();
  }
  return op->emitError("unknown mm argument attribute '") << name << "'";
}

LogicalResult mm::MMDialect::verifyRegionResultAttribute(Operation *op, unsigned,
                                                         unsigned resultIndex,
                                                         NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  if (name == "mm.gradient_of" || name == "mm.update_of") {
    if (!isa<StringAttr>(attr.getValue()))
      return op->emitError(name) << " of result " << resultIndex << " must be a string";
    return success();
  }
  // Every rank of a partitioned program returns this result whole.
  if (name == "mm.replicated") {
    if (!isa<UnitAttr>(attr.getValue()))
      return op->emitError("mm.replicated of result ") << resultIndex << " must be a unit attribute";
    return success();
  }
  return op->emitError("unknown mm result attribute '") << attr.getName().getValue() << "'";
}

// Folds that produce a constant (a reshaped constant) materialise it as the
// arith.constant that kernels inline.
Operation *mm::MMDialect::materializeConstant(OpBuilder &builder, Attribute value, Type type,
                                              Location loc) {
  auto typed = dyn_cast<TypedAttr>(value);
  if (!typed || typed.getType() != type || !arith::ConstantOp::isBuildableWith(typed, type))
    return nullptr;
  return arith::ConstantOp::create(builder, loc, type, typed);
}
