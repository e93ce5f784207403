//===- Pipelines.h - named mm pass pipelines --------------------*- C++ -*-===//
#ifndef MM_PASSES_PIPELINES_H
#define MM_PASSES_PIPELINES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace mm {

/// Phases of the inference pipeline, in order. `stop-after` ends the pipeline
/// after the named phase; `--mlir-print-ir-after-all` dumps each pass.
enum class InferencePhase { Cleanup, Fusion, MemoryPlan };

struct InferencePipelineOptions : mlir::PassPipelineOptions<InferencePipelineOptions> {
  Option<std::string> stopAfter{*this, "stop-after",
                                llvm::cl::desc("last phase to run: cleanup, fusion or memory-plan"),
                                llvm::cl::init("memory-plan")};
  Option<int64_t> maxBatch{*this, "max-batch", llvm::cl::desc("largest batch"), llvm::cl::init(1)};
  Option<int64_t> maxTokens{*this, "max-tokens", llvm::cl::desc("largest step in tokens"),
                            llvm::cl::init(512)};
  Option<int64_t> maxContext{*this, "max-context", llvm::cl::desc("largest KV-cache capacity"),
                             llvm::cl::init(4096)};
  ListOption<std::string> symbolMax{
      *this, "symbol-max",
      llvm::cl::desc("NAME=VALUE: the largest value of a shape symbol (any name)")};
};

/// Adds the inference pipeline to `pm`; reports bad options to `errorHandler`.
llvm::LogicalResult
buildInferencePipeline(mlir::OpPassManager &pm, const InferencePipelineOptions &options,
                       llvm::function_ref<llvm::LogicalResult(const llvm::Twine &)> errorHandler);

/// Adds mm-partition-pipeline: sharding propagation and partition into the
/// per-rank (SPMD) program with its collectives.
void buildPartitionPipeline(mlir::OpPassManager &pm);

/// A model's split over one group of `tp` ranks: attention heads and
/// projections over all of them, experts over `ep` of them and each
/// expert's FFN width over `etp` (ep x etp divides tp; the rest, edp, hold
/// replicas: MiniMax-01's decoupled MoE layout on the same ranks).
struct ModelParallelism {
  int64_t tp = 1, ep = 1, etp = 1;
  int64_t cp = 1; // context parallel: the sequence of tagged inputs (mm.cp_dim) split
};

/// Adds -mm-model-parallel, then the partition pipeline: a model whose
/// params say how tensor and expert parallelism cut them becomes each
/// rank's program. Nothing for tp = 1.
void buildModelParallelPipeline(mlir::OpPassManager &pm, ModelParallelism parallelism);

/// Runs buildModelParallelPipeline on `module`; on failure `errors` holds
/// the diagnostics (op locations included).
llvm::LogicalResult partitionForModelParallelism(mlir::ModuleOp module,
                                                 ModelParallelism parallelism,
                                                 std::string &errors);

void registerPipelines();

} // namespace mm

#endif // MM_PASSES_PIPELINES_H
