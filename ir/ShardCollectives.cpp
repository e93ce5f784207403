//===- ShardCollectives.cpp -----------------------------------------------===//
#include "ir/ShardCollectives.h"

#include "mlir/IR/SymbolTable.h"

using namespace mlir;

namespace mm {

llvm::Expected<dist::CollectivePlan> allReducePlan(shard::AllReduceOp op) {
  auto error = [](const Twine &message) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
  };
  auto grid = SymbolTable::lookupNearestSymbolFrom<shard::GridOp>(op, op.getGridAttr());
  if (!grid || grid.getRank() == 0 || ShapedType::isDynamicShape(grid.getShape()))
    return error("the grid @" + op.getGrid() + " is not a shard.grid of static shape");
  if (llvm::cast<ShapedType>(op.getInput().getType()).getElementType() !=
      llvm::cast<ShapedType>(op.getType()).getElementType())
    return error("an all_reduce that converts its element type is not supported");
  dist::CollectivePlan plan;
  switch (op.getReduction()) {
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
    return error("reduction " + shard::stringifyReductionKind(op.getReduction()) +
                 " is not one of sum, max, min, product");
  }
  plan.gridShape.assign(grid.getShape().begin(), grid.getShape().end());
  for (auto axis : op.getGridAxes())
    plan.axes.push_back(axis);
  return plan;
}

} // namespace mm
