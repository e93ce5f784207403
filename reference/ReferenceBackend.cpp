//===- ReferenceBackend.cpp -----------------------------------------------===//
#include "reference/ReferenceBackend.h"
#include "ir/InitDialects.h"
#include "models/MiniMaxBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

namespace mm {

struct ReferenceBackend::Graph {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::unique_ptr<ReferenceExecutor> executor;
};

ReferenceBackend::ReferenceBackend(const MiniMaxConfig &config,
                                   const minimax::WeightLoader &loader,
                                   ExecutorOptions options, bool allLogits)
    : graph_(new Graph), allLogits_(allLogits) {
  mlir::DialectRegistry registry;
  registerDialects(registry);
  graph_->context.appendDialectRegistry(registry);
  graph_->context.disableMultithreading();
  MiniMaxGraphOptions graphOptions;
  graphOptions.allLogits = allLogits;
  graph_->module = buildMiniMaxModule(graph_->context, config, graphOptions);
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

std::vector<Tensor> ReferenceBackend::forward(std::vector<Tensor> inputs) {
  return graph_->executor->run(std::move(inputs));
}

DType ReferenceBackend::precision() const { return graph_->executor->options().precision; }

} // namespace mm
