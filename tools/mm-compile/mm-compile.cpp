//===- mm-compile.cpp - ahead-of-time compiler for MiniMax models ---------===//
//
//   mm-compile --model DIR --target cpu|cuda -o PATH [--emit-kernels KDIR]
//              [--max-batch N] [--max-tokens N] [--max-context N]
//              [--weight-dtype auto|f32|bf16] [--emit-ir FILE] [--executable FILE]
//
// Writes a standalone binary at PATH: the MLIR-free runtime (mm-aot-runner)
// with the compiled executable appended. `PATH --ids 1,2,3 --max-new-tokens N
// --greedy --json` prints what `mm-run generate` prints; the weights are
// memory-mapped from the model folder at run time (the one compiled from, or
// --model DIR).
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
  std::string model, output, target = "cpu", emitKernels, emitIr, executablePath;
  CompileOptions options;
  app.add_option("--model", model, "model folder (config.json, safetensors)")->required();
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
  CLI11_PARSE(app, argc, argv);
  try {
    if (options.maxTokens > options.maxContext)
      throw makeError("--max-tokens (", options.maxTokens, ") exceeds --max-context (",
                      options.maxContext, ")");
    options.target = target == "cuda" ? CompileOptions::Target::CUDA : CompileOptions::Target::CPU;
    auto folder = ModelFolder::open(model);
    std::ifstream in(fs::path(model) / "config.json");
    std::stringstream json;
    json << in.rdbuf();
    CompileResult r = compileMiniMax(folder->config, json.str(), fs::absolute(model).string(),
                                     &folder->checkpoint, options);
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
              << options.maxContext << "), weights from " << r.executable.model_dir() << "\n";
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "mm-compile: error: " << e.what() << "\n";
    return 1;
  }
}
