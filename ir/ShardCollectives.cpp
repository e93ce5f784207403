//===- ShardCollectives.cpp -----------------------------------------------===//
#include "ir/ShardCollectives.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace mm {

llvm::Expected<std::optional<dist::WeightShard>> weightShardOf(Operation *param) {
  auto gridName = param->getAttrOfType<FlatSymbolRefAttr>(kWeightGridAttr);
  auto perDim = param->getAttrOfType<ArrayAttr>(kWeightSplitAxesAttr);
  if (!gridName && !perDim)
    return std::optional<dist::WeightShard>();
  auto error = [](const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  auto grid = gridName ? SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(param, gridName)
                       : shard::GridOp();
  if (!grid || !perDim || ShapedType::isDynamicShape(grid.getShape()))
    return error(Twine(kWeightGridAttr) + " and " + kWeightSplitAxesAttr +
                 " must name a static shard.grid and list the axes of every dim");
  dist::WeightShard shard;
  shard.gridShape.assign(grid.getShape().begin(), grid.getShape().end());
  for (Attribute a : perDim) {
    auto axes = llvm::dyn_cast<DenseI16ArrayAttr>(a);
    if (!axes)
      return error(Twine(kWeightSplitAxesAttr) + " holds one array<i16> of grid axes per dim");
    shard.splitAxes.emplace_back(axes.asArrayRef().begin(), axes.asArrayRef().end());
  }
  return std::optional<dist::WeightShard>(std::move(shard));
}

bool isExecutableCollective(Operation *op) {
  return isa<shard::AllReduceOp, shard::AllGatherOp, shard::AllSliceOp, shard::ReduceScatterOp>(
      op);
}

llvm::Expected<dist::CollectivePlan> collectivePlan(Operation *op) {
  auto error = [](const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  if (!isExecutableCollective(op))
    return error("only shard.all_reduce, all_gather, all_slice and reduce_scatter run so far");
  FlatSymbolRefAttr gridName = op->getAttrOfType<FlatSymbolRefAttr>("grid");
  auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, gridName);
  if (!grid || grid.getRank() == 0 || ShapedType::isDynamicShape(grid.getShape()))
    return error("the grid " + (gridName ? "@" + gridName.getValue() : StringRef("?")) +
                 " is not a shard.grid of static shape");
  if (llvm::cast<ShapedType>(op->getOperand(0).getType()).getElementType() !=
      llvm::cast<ShapedType>(op->getResult(0).getType()).getElementType())
    return error("a collective that converts its element type is not supported");
  dist::CollectivePlan plan;
  plan.gridShape.assign(grid.getShape().begin(), grid.getShape().end());
  for (auto axis : op->getAttrOfType<DenseI16ArrayAttr>("grid_axes").asArrayRef())
    plan.axes.push_back(axis);
  if (auto gather = dyn_cast<shard::AllGatherOp>(op)) {
    plan.kind = "all_gather";
    plan.axis = gather.getGatherAxis().getSExtValue();
    auto in = llvm::cast<ShapedType>(gather.getInput().getType());
    plan.uneven = plan.axis < in.getRank() && in.isDynamicDim(plan.axis);
    return plan;
  }
  if (auto slice = dyn_cast<shard::AllSliceOp>(op)) {
    plan.kind = "all_slice";
    plan.axis = slice.getSliceAxis().getSExtValue();
    return plan;
  }
  shard::ReductionKind reduction;
  if (auto scatter = dyn_cast<shard::ReduceScatterOp>(op)) {
    plan.kind = "reduce_scatter";
    plan.axis = scatter.getScatterAxis().getSExtValue();
    reduction = scatter.getReduction();
  } else {
    plan.kind = "all_reduce";
    reduction = cast<shard::AllReduceOp>(op).getReduction();
  }
  switch (reduction) {
  case shard::ReductionKind::Sum:
    plan.reduction = dist::Reduction::Sum;
    break;
  case shard::ReductionKind::Max:
    plan.reduction = dist::Reduction::Max;
    break;
  case shard::ReductionKind::Min:
    plan.reduction = dist::Reduction::Min;
    break;
  case shard::ReductionKind::Product:
    plan.reduction = dist::Reduction::Product;
    break;
  default:
    return error("reduction " + shard::stringifyReductionKind(reduction) +
                 " is not one of sum, max, min, product");
  }
  return plan;
}

} // namespace mm
