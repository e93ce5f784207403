//===- mm-compile.cpp - the ahead-of-time compiler ------------------------===//
//
//   mm-compile FILE.mlir [--function F] --target cpu|cuda -o PATH
//              [--max NAME=VALUE]... [--weight-dtype auto|f32|bf16|int8]
//              [--compile-to PHASE] [--mlir-* flags]
//   mm-compile (--model DIR | --config FILE) --target cpu|cuda -o PATH
//              [--max-batch N] [--max-tokens N] [--max-context N]
//              [--weight-dtype auto|f32|bf16|int8] [--lm-head-dtype f32|bf16|int8]
//              [--cuda-arch sm_90|jit]
//   either form: [--emit-kernels KDIR] [--emit-ir FILE] [--executable FILE]
//
// Writes a standalone binary at PATH: the MLIR-free runtime (mm-aot-runner)
// with the compiled executable appended. Compiled from a .mlir file, `PATH
// --input @a.npy --output @o.npy [--params W.safetensors]` runs the function
// as `mm-run eval` does. Compiled from a MiniMax model, `PATH --ids 1,2,3
// --max-new-tokens N --greedy --json` prints what `mm-run generate` prints;
// the weights are memory-mapped from the model folder at run time (the one
// compiled from, or --model DIR). With --weight-dtype int8 and --model, the
// int8 weights are quantized once and written beside it (PATH.int8.safetensors). --compile-to stops
// after a pipeline phase (input, cleanup, fusion, memory-plan) and prints the IR, as IREE's does;
// `--compile-to sources` stops once the kernels are generated (written by
// --emit-kernels, not compiled).
// MLIR's pass-manager flags (--mlir-print-ir-after-all, --mlir-timing,
// --mlir-pass-pipeline-crash-reproducer=FILE, ...) apply to the pipeline.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compile.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/ModelFolder.h"
#include "frontends/ParallelLayout.h"
#include "ir/InitDialects.h"
#include "ir/ModuleFile.h"
#include "runtime/Error.h"
#include "runtime/compiled/Int8WeightFile.h"
#include "tools/common/WeightDTypeOption.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

using namespace mm;
namespace fs = std::filesystem;

namespace {
/// mm-aot-runner sits next to mm-compile in the build tree and the install.
std::string runnerPath() {
  fs::path self = fs::read_symlink("/proc/self/exe");
  fs::path runner = self.parent_path() / "mm-aot-runner";
  if (!fs::exists(runner))
    throw makeError(runner.string(),
                    ": the AOT runtime is missing (build the mm-aot-runner target)");
  return runner.string();
}

/// Moves the --mlir-* flags out of argv into MLIR's own option parser, so
/// that CLI11 sees the rest. Returns false (with a message) on a bad flag.
bool parseMlirFlags(int &argc, char **argv) {
  std::vector<char *> mlir{argv[0]};
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]).rfind("--mlir-", 0) == 0)
      mlir.push_back(argv[i]);
    else
      argv[kept++] = argv[i];
  }
  argc = kept;
  mlir::registerPassManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  return llvm::cl::ParseCommandLineOptions(static_cast<int>(mlir.size()), mlir.data(), "mm-compile",
                                           &llvm::errs());
}

/// `folder` is set when the weights are at hand (--model).
CompileResult compileModelFolder(const std::string &model, const std::string &configPath,
                                 const CompileOptions &options,
                                 std::unique_ptr<ModelFolder> &folder) {
  if (options.maxTokens > options.maxContext)
    throw makeError("--max-tokens (", options.maxTokens, ") exceeds --max-context (",
                    options.maxContext, ")");
  MiniMaxConfig config;
  std::string configFile = configPath;
  if (!model.empty())
    configFile = (fs::path(model) / "config.json").string();
  std::ifstream in(configFile);
  std::stringstream json;
  json << in.rdbuf();
  // The AOT runner has no vision tower yet: a binary of the language model
  // alone would refuse every prompt of a VL folder.
  if (isVisionLanguageConfig(json.str()))
    throw makeError(configFile, ": MiniMax-VL-01 cannot be compiled ahead of time yet; run it "
                                "compiled in process: mm-run --backend cpu --vision-backend cpu");
  if (!model.empty()) {
    folder = ModelFolder::open(model);
    config = folder->config;
  } else {
    config = loadMiniMaxConfig(configPath);
  }
  return compileMiniMax(config, json.str(), model.empty() ? "" : fs::absolute(model).string(),
                        folder ? &folder->checkpoint : nullptr, options);
}

CompileResult compileMlirFile(const std::string &file, const std::string &function,
                              const CompileOptions &options) {
  mlir::DialectRegistry registry;
  registerDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = loadModuleFile(context, file);
  mlir::func::FuncOp fn = selectFunction(*module, function, file);
  return compileFunction(*module, fn.getName().str(), options);
}
} // namespace

int main(int argc, char **argv) {
  if (!parseMlirFlags(argc, argv))
    return 2;
  CLI::App app{"mm-compile: compile an mm module's function, or a MiniMax model folder, into a "
               "standalone binary"};
  std::string input, function, model, configPath, output, target = "cpu", emitKernels, emitIr,
                                                          executablePath, compileTo = "end";
  std::vector<std::string> maxima;
  CompileOptions options;
  auto *inputOpt = app.add_option("input", input, "the .mlir module to compile");
  app.add_option("--function", function, "the function of the module (default: the only one)");
  auto *modelOpt = app.add_option("--model", model, "model folder (config.json, safetensors)");
  auto *configOpt = app.add_option("--config", configPath,
                                   "compile from config.json alone; the binary takes --model");
  modelOpt->excludes(configOpt)->excludes(inputOpt);
  configOpt->excludes(modelOpt)->excludes(inputOpt);
  app.add_option("--target", target, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("-o", output, "the binary to write");
  app.add_option("--compile-to", compileTo,
                 "stop after a phase and print its IR (input, cleanup, fusion, memory-plan), "
                 "or after generating the kernels (sources: --emit-kernels writes them)")
      ->check(CLI::IsMember({"input", "cleanup", "fusion", "memory-plan", "sources", "end"}));
  app.add_option("--max", maxima,
                 "NAME=VALUE: the largest value of shape symbol NAME (the arguments' mm.dims); "
                 "memory is planned for it");
  app.add_option("--emit-kernels", emitKernels, "also write every generated kernel's source here");
  app.add_option("--emit-ir", emitIr, "also write the mm IR after the pipeline here");
  app.add_option("--executable", executablePath, "also write the executable alone (.mmx)");
  std::string parallel;
  app.add_option("--parallel", parallel,
                 "MiniMax: tp=N[,ep=M][,etp=K], compile each rank's program of tensor "
                 "parallelism over N ranks, experts over M of them, each expert's FFN width "
                 "over K (the binary runs under mpirun -np N)");
  app.add_option("--max-batch", options.maxBatch, "MiniMax: largest batch the binary accepts")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 16));
  app.add_option("--max-tokens", options.maxTokens, "MiniMax: largest prefill in tokens")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  app.add_option("--max-context", options.maxContext,
                 "MiniMax: largest prompt + generation in tokens")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 24));
  WeightDTypeChoice weightDType;
  addWeightDTypeOptions(app, weightDType, /*lmHead=*/true);
  app.add_option("--cuda-arch", options.cudaArch,
                 "cuda: NVRTC target compiled ahead of time (sm_80, sm_90, ...) or jit");
  CLI11_PARSE(app, argc, argv);
  if (input.empty() && model.empty() && configPath.empty()) {
    std::cerr << "mm-compile: error: give FILE.mlir, --model DIR or --config FILE\n";
    return 2;
  }
  options.stopAt = *parseCompilePhase(compileTo);
  if (output.empty() && options.stopAt == CompilePhase::End) {
    std::cerr << "mm-compile: error: give -o PATH (or --compile-to PHASE to print the IR)\n";
    return 2;
  }
  try {
    options.target = target == "cuda" ? CompileOptions::Target::CUDA : CompileOptions::Target::CPU;
    options.symbolMax = parseSymbolMaxima(maxima);
    options.weightDType = weightDType.weights;
    if (!weightDType.lmHead.empty()) {
      if (!input.empty())
        throw makeError("--lm-head-dtype is for --model / --config (a MiniMax LM head)");
      options.weightDTypeOf[minimax::lmHead()] = weightDType.lmHead;
    }
    if (!parallel.empty()) {
      if (!input.empty())
        throw makeError("--parallel is for --model / --config; partition a module with "
                        "mm-opt -mm-partition-pipeline instead");
      ParallelLayout group = parseTensorParallelGroup(parallel); // the binary runs one group
      options.parallelism = {group.tp, group.ep, group.etp};
    }
    options.passManagerCLOptions = true;
    std::unique_ptr<ModelFolder> folder;
    CompileResult r = input.empty() ? compileModelFolder(model, configPath, options, folder)
                                    : compileMlirFile(input, function, options);
    if (!emitKernels.empty()) {
      fs::create_directories(emitKernels);
      for (const CompiledKernelSource &k : r.kernelSources)
        std::ofstream(fs::path(emitKernels) / k.fileName) << k.source;
    }
    if (options.stopAt == CompilePhase::Sources) {
      std::cout << "generated " << r.kernelSources.size() << " kernel sources"
                << (emitKernels.empty() ? " (give --emit-kernels DIR to write them)" : "") << "\n";
      return 0;
    }
    if (options.stopAt != CompilePhase::End) {
      std::cout << r.finalIR << "\n";
      return 0;
    }
    if (!emitIr.empty())
      std::ofstream(emitIr) << r.finalIR;
    // int8 weights quantized now, stored beside the binary (one rank's
    // program: a partitioned one quantizes its parts when loaded).
    std::string int8File;
    int int8Weights = 0;
    for (const exe::Weight &w : r.executable.weights())
      int8Weights += w.dtype() == exe::DTYPE_I8_ROWS;
    if (int8Weights && folder && options.parallelism.tp <= 1) {
      int8File = output + ".int8.safetensors";
      Int8WeightFile::write(r.executable, folder->weights->binder(), int8File,
                            folder->checkpoint.files());
    }
    if (!executablePath.empty())
      writeExecutable(r.executable, executablePath);
    writeAotBinary(r.executable, runnerPath(), output);
    const exe::Executable &e = r.executable;
    std::cout << "wrote " << output << ": @" << e.function_name() << ", " << e.kernels_size() << " "
              << target << " kernels, arena " << e.arena_bytes() << " bytes (";
    for (int i = 0; i < e.symbols_size(); ++i)
      std::cout << (i ? ", " : "") << e.symbols(i).name() << " <= " << e.symbols(i).max();
    std::cout << (e.symbols_size() ? "" : "static shapes") << ")";
    if (input.empty())
      std::cout << ", weights from " << (model.empty() ? "--model DIR at run time" : e.model_dir());
    std::cout << "\n";
    if (!int8File.empty())
      std::cout << "wrote " << int8File << ": " << int8Weights
                << " int8 weights, quantized once (the binary loads them from there)\n";
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "mm-compile: error: " << e.what() << "\n";
    return 1;
  }
}
