//===- CompileMiniMax.cpp - MiniMax config to an executable ---------------===//
//
// One client of compileFunction: build @forward from the config, compile it
// with the batch / step / context maxima as B / T / S, and record what the
// engine and AOT binaries need to load the model (config, folder, where each
// weight comes from).
//
//===----------------------------------------------------------------------===//
#include "codegen/Compile.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/ParallelLayout.h"
#include "ir/InitDialects.h"
#include "models/MiniMaxBuilder.h"
#include "passes/Pipelines.h"
#include "runtime/Error.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"

#include <algorithm>
#include <optional>

using namespace mlir;

namespace mm {

namespace {
bool checkpointIsBF16(const Checkpoint *checkpoint) {
  if (!checkpoint)
    return false;
  for (const std::string &name : checkpoint->names()) {
    StDType d = checkpoint->find(name)->dtype;
    if (d != StDType::BF16 && (d == StDType::F32 || d == StDType::F16 || d == StDType::F64))
      return false;
  }
  return true;
}
} // namespace

CompileResult compileMiniMax(const MiniMaxConfig &config, const std::string &configJson,
                             const std::string &modelDir, const Checkpoint *checkpoint,
                             const CompileOptions &options) {
  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext context(registry);
  MiniMaxGraphOptions graphOptions;
  graphOptions.allLogits = options.allLogits;
  graphOptions.imageTokenId = options.imageTokenId;
  graphOptions.kvHeadReplicas = minimaxKvHeadReplicas(config, options.parallelism.tp);
  OwningOpRef<ModuleOp> module = buildMiniMaxModule(context, config, graphOptions);
  int64_t tp = options.parallelism.tp, ep = options.parallelism.ep, etp = options.parallelism.etp;
  if (options.parallelism.cp != 1)
    throw makeError(config.source, ": inference splits tp, ep and etp only so far (cp=",
                    options.parallelism.cp, ")");
  if (std::string why = modelParallelMismatch(config, tp, ep, etp); !why.empty())
    throw makeError(config.source, ": ", why);
  if (std::string errors;
      failed(partitionForModelParallelism(*module, options.parallelism, errors)))
    throw makeError(config.source, ": partitioning for tp=", tp, " ep=", ep, " etp=", etp,
                    " failed:\n", errors);
  CompileOptions planned = options;
  if (options.imageTokenId)
    planned.symbolMax.emplace("I", std::max<int64_t>(1, options.maxImageTokens));

  std::optional<minimax::WeightLoader> loader;
  if (checkpoint)
    loader.emplace(config, *checkpoint);
  auto sources = [&](const std::string &name) {
    return loader ? loader->sources(name) : std::vector<std::string>{};
  };
  CompileResult result;
  try {
    result =
        compileFunction(*module, kForwardFunction, planned, sources, checkpointIsBF16(checkpoint));
  } catch (const Error &e) { // say which model
    throw makeError(config.source, ": ", e.what());
  }
  if (options.stopAt != CompilePhase::End)
    return result; // IR or sources only: no executable to describe
  exe::Executable &e = result.executable;
  e.set_config_json(configJson);
  e.set_model_dir(modelDir);
  e.set_tensor_parallel(static_cast<uint32_t>(tp));
  e.set_expert_parallel(static_cast<uint32_t>(ep));
  e.set_expert_tensor_parallel(static_cast<uint32_t>(etp));
  if (!e.has_generation_step()) // the builder declares it (models/MiniMaxBuilder.cpp)
    throw makeError(config.source, ": @forward declares no generation step");
  return result;
}

} // namespace mm
