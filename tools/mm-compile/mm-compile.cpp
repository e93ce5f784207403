//===- mm-compile.cpp - ahead-of-time compiler for MiniMax models ---------===//
//
//   mm-compile (--model DIR | --config FILE) --target cpu|cuda -o PATH
//              [--emit-kernels KDIR] [--max-batch N] [--max-tokens N]
//              [--max-context N] [--weight-dtype auto|f32|bf16]
//              [--cuda-arch sm_90|jit] [--emit-ir FILE] [--executable FILE]
//
// Writes a standalone binary at PATH: the MLIR-free runtime (mm-aot-runner)
// with the compiled executable appended. `PATH --ids 1,2,3 --max-new-tokens N
// --greedy --json` prints what `mm-run generate` prints; the weights are
// memory-mapped from the model folder at run time (the one compiled from, or
// --model DIR). --config compiles from a config.json alone (no weights read):
// the binary then needs --model DIR when it runs.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compile.h"
#include "frontends/ModelFolder.h"
#include "runtime/Error.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace mm;
namespace fs = std::filesystem;

/// mm-aot-runner sits next to mm-compile in the build tree and the install.
static std::string runnerPath() {
  fs::path self = fs::read_symlink("/proc/self/exe");
  fs::path runner = self.parent_path() / "mm-aot-runner";
  if (!fs::exists(runner))
    throw makeError(runner.string(), ": the AOT runtime is missing (build the mm-aot-runner target)");
  return runner.string();
}

int main(int argc, char **argv) {
  CLI::App app{"mm-compile: compile a MiniMax model folder into a standalone inference binary"};
  std::string model, configPath, output, target = "cpu", emitKernels, emitIr, executablePath;
  CompileOptions options;
  auto *modelOpt = app.add_option("--model", model, "model folder (config.json, safetensors)");
  auto *configOpt = app.add_option("--config", configPath,
                                   "compile from config.json alone; the binary takes --model");
  modelOpt->excludes(configOpt);
  configOpt->excludes(modelOpt);
  app.add_option("--target", target, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("-o", output, "the binary to write")->required();
  app.add_option("--emit-kernels", emitKernels, "also write every generated kernel's source here");
  app.add_option("--emit-ir", emitIr, "also write the mm IR after the pipeline here");
  app.add_option("--executable", executablePath, "also write the executable alone (.mmx)");
  app.add_option("--max-batch", options.maxBatch, "largest batch the binary accepts")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  app.add_option("--max-tokens", options.maxTokens, "largest prefill in tokens")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  app.add_option("--max-context", options.maxContext, "largest prompt + generation in tokens")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  app.add_option("--weight-dtype", options.weightDType, "weight storage: auto, f32 or bf16")
      ->check(CLI::IsMember({"auto", "f32", "bf16"}));
  app.add_option("--cuda-arch", options.cudaArch,
                 "cuda: NVRTC target compiled ahead of time (sm_80, sm_90, ...) or jit");
  CLI11_PARSE(app, argc, argv);
  if (model.empty() && configPath.empty()) {
    std::cerr << "mm-compile: error: give --model DIR or --config FILE\n";
    return 2;
  }
  try {
    if (options.maxTokens > options.maxContext)
      throw makeError("--max-tokens (", options.maxTokens, ") exceeds --max-context (",
                      options.maxContext, ")");
    options.target = target == "cuda" ? CompileOptions::Target::CUDA : CompileOptions::Target::CPU;
    std::unique_ptr<ModelFolder> folder;
    MiniMaxConfig config;
    std::string configFile = configPath;
    if (!model.empty()) {
      folder = ModelFolder::open(model);
      config = folder->config;
      configFile = (fs::path(model) / "config.json").string();
    } else {
      config = loadMiniMaxConfig(configPath);
    }
    std::ifstream in(configFile);
    std::stringstream json;
    json << in.rdbuf();
    CompileResult r = compileMiniMax(config, json.str(),
                                     model.empty() ? "" : fs::absolute(model).string(),
                                     folder ? &folder->checkpoint : nullptr, options);
    if (!emitKernels.empty()) {
      fs::create_directories(emitKernels);
      for (const CompiledKernelSource &k : r.kernelSources)
        std::ofstream(fs::path(emitKernels) / k.fileName) << k.source;
    }
    if (!emitIr.empty())
      std::ofstream(emitIr) << r.finalIR;
    if (!executablePath.empty())
      writeExecutable(r.executable, executablePath);
    writeAotBinary(r.executable, runnerPath(), output);
    std::cout << "wrote " << output << ": " << r.executable.kernels_size() << " " << target
              << " kernels, arena " << r.executable.arena_bytes() << " bytes (batch <= "
              << options.maxBatch << ", step <= " << options.maxTokens << " tokens, context <= "
              << options.maxContext << "), weights from "
              << (model.empty() ? "--model DIR at run time" : r.executable.model_dir()) << "\n";
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "mm-compile: error: " << e.what() << "\n";
    return 1;
  }
}
