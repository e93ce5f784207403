//===- ReferenceBackend.cpp -----------------------------------------------===//
#include "reference/ReferenceBackend.h"
#include "ir/GenerationStep.h"
#include "ir/InitDialects.h"
#include "models/MiniMaxBuilder.h"
#include "runtime/engine/StepInputs.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "passes/Pipelines.h"

namespace mm {

struct ReferenceBackend::Graph {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<ReferenceExecutor> executor;
  // @forward's declared generation step (mm.generation_step): the role of
  // each argument, none for the state; and the state's types and mm.dims.
  GenerationStepDecl step;
  std::vector<mlir::RankedTensorType> argumentTypes;
  std::vector<mlir::ArrayAttr> argumentDims;
};

ReferenceBackend::ReferenceBackend(const MiniMaxConfig &config, const minimax::WeightLoader &loader,
                                   ExecutorOptions options, bool allLogits, bool fused,
                                   std::optional<int64_t> imageTokenId,
                                   ModelParallelism parallelism)
    : graph_(new Graph), config_(config), allLogits_(allLogits), parallelism_(parallelism),
      imageTokenId_(imageTokenId) {
  mlir::DialectRegistry registry;
  registerDialects(registry);
  graph_->context.appendDialectRegistry(registry);
  graph_->context.disableMultithreading();
  MiniMaxGraphOptions graphOptions;
  graphOptions.allLogits = allLogits;
  graphOptions.imageTokenId = imageTokenId;
  graphOptions.kvHeadReplicas = minimaxKvHeadReplicas(config, parallelism.tp);
  graph_->module = buildMiniMaxModule(graph_->context, config, graphOptions);
  if (std::string errors;
      failed(partitionForModelParallelism(*graph_->module, parallelism, errors)))
    throw makeError(config.source, ": partitioning for tp=", parallelism.tp, " ep=",
                    parallelism.ep, " etp=", parallelism.etp, " failed:\n", errors);
  if (fused) {
    mlir::PassManager pm(&graph_->context);
    InferencePipelineOptions pipeline;
    std::string errors;
    llvm::raw_string_ostream os(errors);
    mlir::ScopedDiagnosticHandler handler(&graph_->context, [&](mlir::Diagnostic &d) {
      if (d.getSeverity() == mlir::DiagnosticSeverity::Error)
        os << d << "\n";
      return mlir::success();
    });
    if (failed(buildInferencePipeline(pm, pipeline,
                                      [&](const llvm::Twine &msg) {
                                        os << msg << "\n";
                                        return mlir::failure();
                                      })) ||
        failed(pm.run(*graph_->module)))
      throw makeError("compiling the MiniMax graph failed:\n", errors);
  }
  auto fn = graph_->module->lookupSymbol<mlir::func::FuncOp>(kForwardFunction);
  auto step = readGenerationStep(fn);
  if (failed(step) || !*step)
    throw makeError(config.source, ": @forward declares no generation step");
  graph_->step = std::move(**step);
  for (unsigned i = 0; i < fn.getNumArguments(); ++i) {
    graph_->argumentTypes.push_back(mlir::cast<mlir::RankedTensorType>(fn.getArgumentTypes()[i]));
    graph_->argumentDims.push_back(fn.getArgAttrOfType<mlir::ArrayAttr>(i, "mm.dims"));
  }
  graph_->executor = std::make_unique<ReferenceExecutor>(
      fn,
      [&loader](const std::string &name, const Shape &, DType dtype) {
        return loader.load(name, dtype);
      },
      options);
  graph_->executor->bindAllParams();
}

ReferenceBackend::~ReferenceBackend() = default;

uint64_t ReferenceBackend::weightBytes() const { return graph_->executor->boundWeightBytes(); }

std::vector<Tensor> ReferenceBackend::forward(std::vector<Tensor> inputs) {
  return graph_->executor->run(std::move(inputs));
}

void ReferenceBackend::reset(int64_t batch, int64_t capacity) {
  // Each state argument, its batch and capacity dims at the requested sizes.
  const GenerationStepDecl &step = graph_->step;
  state_.clear();
  for (size_t i = 0; i < step.argumentRoles.size(); ++i) {
    if (step.argumentRoles[i])
      continue;
    Shape shape(graph_->argumentTypes[i].getShape());
    for (size_t d = 0; d < shape.size(); ++d) {
      if (!mlir::ShapedType::isDynamic(shape[d]))
        continue;
      mlir::ArrayAttr dims = graph_->argumentDims[i];
      if (!dims)
        throw makeError("@forward's state argument ", i, " has a dynamic dim but no mm.dims");
      llvm::StringRef symbol = mlir::cast<mlir::StringAttr>(dims[d]).getValue();
      if (symbol != step.batch && symbol != step.capacity)
        throw makeError("@forward's state argument ", i, " has a dim of symbol '", symbol.str(),
                        "', neither the batch nor the capacity");
      shape[d] = symbol == step.batch ? batch : capacity;
    }
    state_.push_back(Tensor::zeros(graph_->executor->options().precision, shape));
  }
  stepped_ = true;
}

Tensor ReferenceBackend::step(const Tensor &ids, const Tensor &positions,
                              const Tensor &cachePositions, const Tensor &lengths) {
  if (!stepped_)
    throw makeError("ReferenceBackend::step before reset");
  DType precision = graph_->executor->options().precision;
  Tensor features = imageFeatures_.numel() ? imageFeatures_.to(precision)
                                           : Tensor::zeros(precision, {0, config_.hiddenSize});
  imageFeatures_ = Tensor();
  // The arguments in @forward's order: each step input by its role, the
  // state handed over (updated in place) in order.
  const StepTensors given{&ids, &positions, &cachePositions, &lengths, &features};
  std::vector<Tensor> inputs;
  size_t nextState = 0;
  for (const std::optional<StepInput> &role : graph_->step.argumentRoles)
    inputs.push_back(role ? *given.of(*role) : std::move(state_[nextState++]));
  std::vector<Tensor> out = graph_->executor->run(std::move(inputs));
  // The results: the logits, then the state in argument order.
  Tensor logits = out[graph_->step.logitsResult];
  out.erase(out.begin() + graph_->step.logitsResult);
  state_ = std::move(out);
  return logits;
}

void ReferenceBackend::setImageFeatures(Tensor features) {
  if (!imageTokenId_)
    throw makeError("this model is text-only: it takes no image features");
  if (features.rank() != 2 || features.dim(1) != config_.hiddenSize)
    throw makeError("image features are ", formatShape(features.shape()), "; expected [tokens, ",
                    config_.hiddenSize, "]");
  imageFeatures_ = std::move(features);
}

} // namespace mm
