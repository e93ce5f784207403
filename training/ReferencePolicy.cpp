//===- ReferencePolicy.cpp ------------------------------------------------===//
#include "training/ReferencePolicy.h"
#include "codegen/Compile.h"
#include "ir/InitDialects.h"
#include "runtime/Error.h"
#include "runtime/compiled/HostBackend.h"
#include "training/ExecutableCache.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <ostream>

namespace mm::train {

ReferencePolicy::ReferencePolicy(const MiniMaxConfig &config,
                                 MiniMaxGraphOptions::PolicyObjective objective, int64_t batch,
                                 int64_t seqLen, const TensorMap &weights,
                                 const std::string &cacheDir, std::ostream &log) {
  mlir::DialectRegistry registry;
  registerDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  MiniMaxGraphOptions graph;
  graph.training = true;
  graph.allLogits = true;
  objective.klCoef = 0; // its own log-probs only
  graph.policy = objective;
  mlir::OwningOpRef<mlir::ModuleOp> module = buildMiniMaxModule(context, config, graph);
  std::string ir;
  llvm::raw_string_ostream irStream(ir);
  module->print(irStream);
  CompileOptions options;
  options.symbolMax = {{"B", batch}, {"T", seqLen}};
  exe::Executable executable = cachedExecutable(
      cacheDir, "reference_policy",
      ir + "|B=" + std::to_string(batch) + "|T=" + std::to_string(seqLen), [&] {
        log << "mm-train: compiling the reference policy (forward only) for the KL penalty\n";
        return compileFunction(*module, kLossFunction, options).executable;
      });
  // The backend copies the starting weights as it binds them: later updates
  // of the trainer's do not reach it.
  backend_ = std::make_unique<HostBackend>(std::move(executable),
                                           binderOf(weights, "the starting policy"));
}

ReferencePolicy::~ReferencePolicy() = default;

Tensor ReferencePolicy::logprobs(const std::vector<Tensor> &inputs) {
  return backend_->call(inputs).at(1).to(DType::F32);
}

} // namespace mm::train
