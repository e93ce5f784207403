//===- ReferenceBackend.cpp -----------------------------------------------===//
#include "reference/ReferenceBackend.h"
#include "ir/InitDialects.h"
#include "models/MiniMaxBuilder.h"
#include "runtime/engine/MiniMaxAbi.h"

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
  state_.clear();
  for (const Shape &shape : minimaxStateShapes(config_, batch, capacity, parallelism_.tp))
    state_.push_back(Tensor::zeros(graph_->executor->options().precision, shape));
}

Tensor ReferenceBackend::step(const Tensor &ids, const Tensor &positions,
                              const Tensor &cachePositions, const Tensor &lengths) {
  if (state_.empty() && !minimaxStateShapes(config_, 1, 1).empty())
    throw makeError("ReferenceBackend::step before reset");
  std::vector<Tensor> inputs{ids, positions, cachePositions, lengths};
  for (Tensor &t : state_)
    inputs.push_back(std::move(t)); // handed over: updated in place
  if (imageTokenId_) {
    DType precision = graph_->executor->options().precision;
    inputs.push_back(imageFeatures_.numel() ? imageFeatures_.to(precision)
                                            : Tensor::zeros(precision, {0, config_.hiddenSize}));
    imageFeatures_ = Tensor();
  }
  std::vector<Tensor> out = graph_->executor->run(std::move(inputs));
  state_.assign(out.begin() + 1, out.end());
  return out[0];
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
