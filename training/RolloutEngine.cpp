//===- RolloutEngine.cpp --------------------------------------------------===//
#include "training/RolloutEngine.h"
#include "codegen/Compile.h"
#include "frontends/MiniMaxWeights.h"
#include "runtime/Error.h"
#include "runtime/compiled/CudaBackend.h"
#include "runtime/compiled/HostBackend.h"
#include "training/ExecutableCache.h"

#include <algorithm>
#include <ostream>

namespace mm::train {

RolloutEngine::RolloutEngine(const MiniMaxConfig &config, const std::string &configText,
                             const TensorMap &weights, const RolloutEngineOptions &options,
                             std::ostream &log)
    : config_(config), options_(options) {
  CompileOptions compile;
  compile.maxBatch = options.maxBatch;
  compile.maxTokens = options.maxPromptTokens;
  compile.maxContext = options.maxPromptTokens + options.maxNewTokens;
  compile.weightDType = options.bf16Weights ? "bf16" : "f32";
  if (options.cuda) {
    compile.target = CompileOptions::Target::CUDA;
    compile.cudaArch = "jit"; // compiled for the GPU found, when loaded
  }
  if (options.bf16Weights && options.lmHeadFp32)
    compile.weightDTypeOf = {{minimax::lmHead(), "f32"}};
  std::string key = configText + "|B=" + std::to_string(compile.maxBatch) +
                    "|T=" + std::to_string(compile.maxTokens) +
                    "|S=" + std::to_string(compile.maxContext) + "|w=" + compile.weightDType +
                    "|head32=" + std::to_string(options.lmHeadFp32) + (options.cuda ? "|cuda" : "");
  exe::Executable executable =
      cachedExecutable(options.cacheDir, options.cuda ? "engine_cuda" : "engine", key, [&] {
        log << "mm-train: compiling the rollout engine for " << (options.cuda ? "CUDA" : "the host")
            << " (" << compile.weightDType << " weights"
            << (options.bf16Weights && options.lmHeadFp32 ? ", float32 LM head" : "") << ")\n";
        return compileMiniMax(config, configText, "", nullptr, compile).executable;
      });
  WeightBinder binder = binderOf(weights, "the trainer");
  if (options.cuda)
    backend_ = std::make_unique<CudaBackend>(std::move(executable), binder);
  else
    backend_ = std::make_unique<HostBackend>(std::move(executable), binder);
}

RolloutEngine::~RolloutEngine() = default;

void RolloutEngine::loadWeights(const TensorMap &weights) {
  backend_->rebindWeights(binderOf(weights, "the trainer"));
}

GenerationResult RolloutEngine::generate(const std::vector<std::vector<int64_t>> &prompts,
                                         const GenerationOptions &options) {
  InferenceEngine engine(config_, *backend_);
  GenerationResult all;
  for (size_t start = 0; start < prompts.size(); start += size_t(options_.maxBatch)) {
    size_t end = std::min(prompts.size(), start + size_t(options_.maxBatch));
    std::vector<std::vector<int64_t>> chunk(prompts.begin() + long(start),
                                            prompts.begin() + long(end));
    GenerationOptions o = options;
    o.firstSequence = options.firstSequence + int64_t(start); // the streams of one call
    GenerationResult r = engine.generate(chunk, o);
    for (size_t i = 0; i < chunk.size(); ++i) {
      all.tokens.push_back(std::move(r.tokens[i]));
      all.logprobs.push_back(std::move(r.logprobs[i]));
      all.truncated.push_back(r.truncated[i]);
    }
    all.promptTokens += r.promptTokens;
    all.generatedTokens += r.generatedTokens;
    all.prefillSeconds += r.prefillSeconds;
    all.decodeSeconds += r.decodeSeconds;
    all.decodeSteps += r.decodeSteps;
  }
  return all;
}

} // namespace mm::train
