//===- mm-aot-runner.cpp - the runtime of AOT binaries --------------------===//
//
// mm-compile copies this program and appends a compiled executable to it. At
// start it reads the executable back from its own file, opens the model folder
// (the one it was compiled from, or --model DIR), checks that the folder's
// config is the compiled one, and generates like `mm-run generate`. It links
// no MLIR or LLVM.
//
//===----------------------------------------------------------------------===//
#include "frontends/ModelFolder.h"
#include "runtime/Error.h"
#include "runtime/compiled/CudaBackend.h"
#include "runtime/compiled/HostBackend.h"
#include "runtime/executable/ExecutableFile.h"
#include "tools/common/GenerateCommand.h"

#include <iostream>

using namespace mm;

/// The folder must hold the model the executable was compiled for.
static void checkSameModel(const MiniMaxConfig &compiled, const MiniMaxConfig &found) {
  auto same = [&](const char *field, int64_t a, int64_t b) {
    if (a != b)
      throw makeError(found.source, ": ", field, " is ", b, " but the binary was compiled for ", a);
  };
  same("vocab_size", compiled.vocabSize, found.vocabSize);
  same("hidden_size", compiled.hiddenSize, found.hiddenSize);
  same("num_hidden_layers", compiled.numLayers, found.numLayers);
  same("num_attention_heads", compiled.numHeads, found.numHeads);
  same("num_key_value_heads", compiled.numKvHeads, found.numKvHeads);
  same("head_dim", compiled.headDim, found.headDim);
  same("intermediate_size", compiled.intermediateSize, found.intermediateSize);
  same("num_local_experts", compiled.numExperts, found.numExperts);
  same("num_experts_per_tok", compiled.topK, found.topK);
  same("rotary_dim", compiled.rotaryDim, found.rotaryDim);
  if (compiled.layerKinds != found.layerKinds)
    throw makeError(found.source, ": the layer kinds differ from the compiled model's");
}

int main(int argc, char **argv) {
  CLI::App app{"mmc ahead-of-time inference binary (MiniMax-Text-01 family)"};
  std::string model;
  bool info = false;
  GenerateArgs args;
  app.add_option("--model", model, "model folder (default: the one compiled from)");
  app.add_flag("--info", info, "print what this binary holds and exit");
  addGenerateOptions(app, args);
  CLI11_PARSE(app, argc, argv);
  try {
    std::optional<exe::Executable> executable = readEmbeddedExecutable();
    if (!executable)
      throw makeError("this runner has no executable appended; build one with mm-compile");
    MiniMaxConfig compiled = parseMiniMaxConfig(executable->config_json(), "the compiled config");
    if (info) {
      std::cout << "target " << (executable->target() == exe::TARGET_CPU ? "cpu" : "cuda")
                << ", " << executable->kernels_size() << " kernels, arena "
                << executable->arena_bytes() << " bytes, " << executable->weights_size()
                << " weights, model "
                << (executable->model_dir().empty() ? "(give --model DIR)" : executable->model_dir())
                << "\n";
      if (executable->target() == exe::TARGET_CUDA)
        std::cout << "  cuda " << (executable->cuda_arch().empty() ? "jit" : executable->cuda_arch())
                  << ", " << executable->code_object().size() << " bytes of CUBIN\n";
      for (const exe::Kernel &k : executable->kernels())
        std::cout << "  " << k.name() << " " << k.kind() << " at " << k.location()
                  << (executable->target() == exe::TARGET_CUDA
                          ? ": " + std::to_string(k.registers()) + " registers, " +
                                std::to_string(k.spill_bytes()) + " spill bytes"
                          : std::string())
                  << "\n";
      for (const exe::Symbol &s : executable->symbols())
        std::cout << "  max " << s.name() << " = " << s.max() << "\n";
      for (const exe::Weight &w : executable->weights()) {
        std::cout << "  weight " << w.name() << " [";
        for (int i = 0; i < w.shape_size(); ++i)
          std::cout << (i ? ", " : "") << w.shape(i);
        std::cout << "] " << exe::DType_Name(w.dtype());
        if (w.source_tensors_size() == 1 && w.source_tensors(0) != w.name())
          std::cout << " from " << w.source_tensors(0);
        else if (w.source_tensors_size() > 1)
          std::cout << " from " << w.source_tensors(0) << " .. (" << w.source_tensors_size()
                    << " tensors)";
        std::cout << "\n";
      }
      return 0;
    }
    if (model.empty() && executable->model_dir().empty())
      throw makeError("this binary was compiled from a config alone; give --model DIR");
    auto folder = ModelFolder::open(model.empty() ? executable->model_dir() : model);
    checkSameModel(compiled, folder->config);
    bool cuda = executable->target() == exe::TARGET_CUDA;
    return runGenerate(*folder, args,
                       [&](ModelFolder &f, int64_t, int64_t, int64_t)
                           -> std::unique_ptr<ForwardBackend> {
                         if (cuda)
                           return std::make_unique<CudaBackend>(*executable, *f.weights);
                         return std::make_unique<HostBackend>(*executable, *f.weights);
                       },
                       {{"precision", "f32"}, {"backend", cuda ? "cuda" : "cpu"}});
  } catch (const std::exception &e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
