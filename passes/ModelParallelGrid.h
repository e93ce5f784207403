//===- ModelParallelGrid.h - the device grid of model parallelism -*- C++ -*-===//
//
// -mm-model-parallel's `shard.grid @tp`: [dp, cp, edp, ep, etp] with the
// factors of 1 left out. The dense splits span every axis after cp; the
// experts split over ep, their FFN width over etp (MiniMax-01's decoupled
// MoE ranks, docs/parallelism.md). cp, when above 1, splits the sequence
// (context parallelism: LASP+ and the all-gathered keys of softmax
// attention). dp, when above 1, is the leading axis: replicas of the whole
// cp x tp group that no value is split over, along which a training step
// averages its gradients (-mm-training-step dp-grid=tp dp-axis=0).
// Row-major device order, so a tp group is consecutive ranks, then cp, then
// dp, as Megatron orders them.
//
//===----------------------------------------------------------------------===//
#ifndef MM_PASSES_MODELPARALLELGRID_H
#define MM_PASSES_MODELPARALLELGRID_H

#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "llvm/ADT/SmallVector.h"

namespace mm {

inline constexpr llvm::StringLiteral kModelParallelGrid = "tp";

struct ModelParallelGrid {
  llvm::SmallVector<int64_t> shape;
  llvm::SmallVector<mlir::shard::GridAxis> denseAxes, expertAxes, widthAxes, sequenceAxes;
};

/// The grid for `dp` replicas of `cp` sequence chunks of `tp` ranks with
/// `ep` x `etp` inside them (ep x etp divides tp; checked by the pass).
inline ModelParallelGrid modelParallelGrid(int64_t dp, int64_t tp, int64_t ep, int64_t etp,
                                           int64_t cp = 1) {
  ModelParallelGrid grid;
  if (dp > 1)
    grid.shape.push_back(dp);
  if (cp > 1) {
    grid.sequenceAxes.push_back(static_cast<mlir::shard::GridAxis>(grid.shape.size()));
    grid.shape.push_back(cp);
  }
  using Axes = llvm::SmallVector<mlir::shard::GridAxis>;
  for (auto [size, axes] : {std::make_pair(tp / (ep * etp), (Axes *)nullptr),
                            std::make_pair(ep, &grid.expertAxes),
                            std::make_pair(etp, &grid.widthAxes)}) {
    if (size == 1)
      continue;
    auto axis = static_cast<mlir::shard::GridAxis>(grid.shape.size());
    if (axes)
      axes->push_back(axis);
    grid.denseAxes.push_back(axis);
    grid.shape.push_back(size);
  }
  return grid;
}

} // namespace mm

#endif // MM_PASSES_MODELPARALLELGRID_H
