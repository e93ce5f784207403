//===- Pipelines.cpp - the named mm pass pipelines, in one place ----------===//
//
// Every pipeline mmc runs is built here, phase by phase, so the whole path
// from graph to kernels reads top to bottom in one file.
//
//   mm-inference-pipeline
//     cleanup:      canonicalize (mm folds and patterns), cse
//     fusion:       mm-fuse-attention, mm-fuse-moe, mm-fuse-epilogues,
//                   mm-fuse-elementwise, mm-form-kernels, canonicalize
//     memory-plan:  mm-plan-memory
//   Code generation (codegen/) consumes the result: kernels, views, weights.
//
//   mm-partition-pipeline (before it, for a graph with shard.shard
//   annotations on a shard.grid): upstream sharding-propagation (forward,
//   then backward), mm-whole-returns (unsharded returned values whole) and
//   propagation again, then
//   shard-partition (one SPMD program per rank, with its collectives), then
//   canonicalize. mm ops take part through ir/ShardingModels.cpp.
//
//   Model parallelism of a model (buildModelParallelPipeline, which
//   mm-run --parallel tp=N,ep=M runs): mm-model-parallel annotates the
//   params the model tags with mm.tp_dim / mm.ep_dim, then
//   mm-partition-pipeline.
//
//===----------------------------------------------------------------------===//
#include "passes/Pipelines.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/ADT/StringSwitch.h"

using namespace mlir;

namespace mm {

static std::optional<InferencePhase> parsePhase(StringRef name) {
  return llvm::StringSwitch<std::optional<InferencePhase>>(name)
      .Case("cleanup", InferencePhase::Cleanup)
      .Case("fusion", InferencePhase::Fusion)
      .Case("memory-plan", InferencePhase::MemoryPlan)
      .Default(std::nullopt);
}

LogicalResult buildInferencePipeline(OpPassManager &pm, const InferencePipelineOptions &options,
                                     function_ref<LogicalResult(const Twine &)> errorHandler) {
  std::optional<InferencePhase> last = parsePhase(options.stopAfter);
  if (!last)
    return errorHandler("mm-inference-pipeline: unknown phase '" + options.stopAfter +
                        "' (phases: cleanup, fusion, memory-plan)");
  // Phase: cleanup.
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (*last == InferencePhase::Cleanup)
    return success();

  // Phase: fusion. Specific patterns first, so that the generic ones only
  // see what is left.
  OpPassManager &fn = pm.nest<func::FuncOp>();
  fn.addPass(createFuseAttention());
  fn.addPass(createFuseMoE());
  fn.addPass(createFuseEpilogues());
  fn.addPass(createFuseElementwise());
  fn.addPass(createFormKernels());
  pm.addPass(createCanonicalizerPass());
  if (*last == InferencePhase::Fusion)
    return success();

  // Phase: memory-plan.
  PlanMemoryOptions plan;
  plan.maxBatch = options.maxBatch;
  plan.maxTokens = options.maxTokens;
  plan.maxContext = options.maxContext;
  plan.symbolMax.assign(options.symbolMax.begin(), options.symbolMax.end());
  pm.nest<func::FuncOp>().addPass(createPlanMemory(plan));
  return success();
}

void buildPartitionPipeline(OpPassManager &pm) {
  OpPassManager &fn = pm.nest<func::FuncOp>();
  // Forward first, as GSPMD: a split an operand carries reaches its users
  // before a replicated result annotation pulls it back (a norm over a split
  // dim then stays split instead of gathering its input).
  shard::ShardingPropagationOptions propagation;
  propagation.traversal = shard::TraversalOrder::ForwardBackward;
  fn.addPass(shard::createShardingPropagation(propagation));
  // Values returned unsharded become whole; propagating again carries that
  // back to their producers, so every op the partition meets has shardings.
  fn.addPass(createWholeReturns());
  fn.addPass(shard::createShardingPropagation(propagation));
  // What no neighbour gave a sharding runs whole.
  fn.addPass(createWholeUnannotated());
  // shard-partition reshards one grid axis at a time.
  fn.addPass(createStepwiseReshards());
  fn.addPass(shard::createPartition());
  fn.addPass(createCanonicalizerPass());
}

void buildModelParallelPipeline(OpPassManager &pm, ModelParallelism parallelism) {
  if (parallelism.tp == 1)
    return;
  ModelParallelOptions options;
  options.tp = parallelism.tp;
  options.ep = parallelism.ep;
  options.etp = parallelism.etp;
  pm.addPass(createModelParallel(options));
  buildPartitionPipeline(pm);
}

LogicalResult partitionForModelParallelism(ModuleOp module, ModelParallelism parallelism,
                                           std::string &errors) {
  if (parallelism.tp == 1)
    return success();
  llvm::raw_string_ostream os(errors);
  ScopedDiagnosticHandler handler(module.getContext(), [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error)
      os << d.getLocation() << ": " << d << "\n";
    return success();
  });
  PassManager pm(module.getContext());
  buildModelParallelPipeline(pm, parallelism);
  return pm.run(module);
}

/// Registers a pipeline whose builder can reject its options with a message.
template <typename Options>
static void
registerCheckedPipeline(StringRef name, StringRef description,
                        LogicalResult (*build)(OpPassManager &, const Options &,
                                               function_ref<LogicalResult(const Twine &)>)) {
  registerPassPipeline(
      name, description,
      [build](OpPassManager &pm, StringRef text,
              function_ref<LogicalResult(const Twine &)> errorHandler) {
        Options options;
        if (failed(options.parseFromString(text)))
          return failure();
        return build(pm, options, errorHandler);
      },
      [](function_ref<void(const detail::PassOptions &)> optHandler) { optHandler(Options()); });
}

void registerPipelines() {
  registerCheckedPipeline<InferencePipelineOptions>(
      "mm-inference-pipeline",
      "Compile an mm inference graph: cleanup, fusion into kernels, memory planning",
      buildInferencePipeline);
  PassPipelineRegistration<>(
      "mm-partition-pipeline",
      "Partition an mm graph annotated with shard.shard over a shard.grid into the program each "
      "rank runs: sharding-propagation, mm-whole-returns, sharding-propagation, "
      "mm-stepwise-reshards, shard-partition, canonicalize",
      buildPartitionPipeline);
}

void registerAllPassesAndPipelines() {
  registerMMPasses();
  registerPipelines();
}

} // namespace mm
