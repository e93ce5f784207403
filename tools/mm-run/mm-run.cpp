//===- mm-run.cpp - run a MiniMax model folder ----------------------------===//
//
//   mm-run logits   --model DIR --ids 1,2,3 [--image PATH]... --out logits.npy
//   mpirun -np N mm-run logits|generate ... --parallel tp=N [--collective-timeout S]
//   mm-run generate --model DIR (--ids 1,2,3 | --prompt TEXT)... --max-new-tokens N
//                   [--greedy | --temperature T --top-k K --top-p P --seed S] [--json]
//   (logits and generate, compiled backends: [--weight-dtype auto|f32|bf16|int8]
//    [--lm-head-dtype f32|bf16|int8])
//   mm-run emit-ir  (--model DIR | --config FILE) [--all-logits] [--bf16] [--vision]
//                   [--parallel tp=N[,ep=M][,etp=K]]
//   mm-run eval FILE.mlir [--function F] --input @a.npy ... --output @o.npy ...
//               [--backend reference|cpu|cuda] [--precision f32|f64]
//               [--params W.safetensors] [--max NAME=VALUE]... [--weight-dtype ...]
//
// `eval` runs any function of an mm module, as iree-run-module does. The
// model commands run on the reference executor unless --backend says otherwise. `--ids` /
// `--prompt` may repeat: the prompts then form one batch. With --json the last line of stdout is
// one JSON object: {"ids", "tokens_per_second", ...}. A MiniMax-VL-01 folder takes --image: each
// image token of --ids is expanded to that image's token count, and the image features replace
// those positions' embeddings.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compile.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/ModelFolder.h"
#include "frontends/ParallelLayout.h"
#include "ir/InitDialects.h"
#include "ir/ModuleFile.h"
#include "models/MiniMaxBuilder.h"
#include "models/VisionBuilder.h"
#include "passes/Pipelines.h"
#include "reference/Executor.h"
#include "reference/ReferenceBackend.h"
#include "runtime/Npy.h"
#include "runtime/compiled/CudaBackend.h"
#include "runtime/compiled/HostBackend.h"
#include "runtime/cuda/CudaDriver.h"
#include "runtime/dist/MpiCollectives.h"
#include "runtime/engine/Engine.h"
#include "tools/common/EvalCommand.h"
#include "tools/common/GenerateCommand.h"
#include "tools/common/ImagePrompt.h"
#include "tools/common/ParallelInference.h"
#include "tools/common/RankZeroLogits.h"
#include "tools/common/ThreadsOption.h"
#include "tools/common/WeightDTypeOption.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/raw_ostream.h"

#include <sys/resource.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

using namespace mm;

namespace {
/// Under mpirun, each rank says how many bytes of weights it holds (a
/// partitioned program binds only its parts of split weights) and its peak
/// resident memory so far.
void reportRankWeights(uint64_t bytes) {
  if (dist::world().size() == 1)
    return;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage); // ru_maxrss: KiB on Linux
  // One write, so the ranks' lines do not interleave.
  std::cerr << ("mm-run: rank " + std::to_string(dist::world().rank()) + " of " +
                std::to_string(dist::world().size()) + ": " + std::to_string(bytes) +
                " bytes of weights bound, peak resident " +
                std::to_string(usage.ru_maxrss / 1024) + " MiB\n")
            << std::flush;
}

struct Common {
  std::string model;
  std::string precision = "f32";
  std::string lightning = "blockwise";
  std::string backend = "reference";
  std::string parallel;
  int threads = 0;
  WeightDTypeChoice weightDType;

  void add(CLI::App *cmd) {
    cmd->add_option("--model", model, "model folder (config.json, safetensors, tokenizer.json)")
        ->required();
    cmd->add_option("--precision", precision, "f32 or f64")->check(CLI::IsMember({"f32", "f64"}));
    cmd->add_option("--lightning", lightning, "lightning attention form")
        ->check(CLI::IsMember({"blockwise", "recurrence"}));
    addThreadsOption(*cmd, threads);
    addWeightDTypeOptions(*cmd, weightDType, /*lmHead=*/true);
    cmd->add_option("--backend", backend,
                    "reference (the oracle executor), cpu or cuda (compile, then run the "
                    "generated code)")
        ->check(CLI::IsMember({"reference", "cpu", "cuda"}));
    cmd->add_option("--parallel", parallel,
                    "under mpirun: the layout, tp=N[,ep=M][,etp=K] (attention over the N "
                    "ranks, experts over M of them, each expert's FFN width over K)");
  }

  /// The split --parallel asks on this many ranks; what inference cannot
  /// split yet is refused, naming the factor.
  ModelParallelism modelParallelism(const ModelFolder &folder) const {
    auto [tp, ep, etp] = inferenceParallelism(parallel, folder.config);
    if (tp > 1 && folder.vision)
      throw makeError("--parallel '", parallel, "': MiniMax-VL-01 runs on one rank so far");
    if (tp > 1 && backend == "cuda")
      throw makeError("--parallel '", parallel, "': --backend cuda runs one rank so far (NCCL is "
                      "not wired in); use --backend cpu or reference");
    return {tp, ep, etp};
  }

  /// The backend asked for; `batch`, `tokens` and `context` size a compiled
  /// executable's arena.
  std::unique_ptr<ForwardBackend> makeBackend(ModelFolder &folder, bool allLogits, int64_t batch,
                                              int64_t tokens, int64_t context) const {
    ModelParallelism parallelism = modelParallelism(folder);
    std::unique_ptr<ForwardBackend> made = makeRankBackend(folder, allLogits, batch, tokens,
                                                           context, parallelism);
    if (parallelism.tp == 1)
      return made;
    reportRankWeights(made->weightBytes());
    return std::make_unique<RankZeroLogits>(std::move(made));
  }
  std::unique_ptr<ForwardBackend> makeRankBackend(ModelFolder &folder, bool allLogits,
                                                  int64_t batch, int64_t tokens, int64_t context,
                                                  ModelParallelism parallelism) const {
    ExecutorOptions options = executorOptions();
    if (backend == "reference" && (weightDType.weights != "auto" || !weightDType.lmHead.empty()))
      throw makeError("--weight-dtype and --lm-head-dtype choose a compiled backend's weight "
                      "storage; the reference executor reads the checkpoint as it is (give "
                      "--backend cpu)");
    if (backend == "reference")
      return std::make_unique<ReferenceBackend>(
          folder.config, *folder.weights, options, allLogits, /*fused=*/false,
          folder.vision ? std::optional<int64_t>(folder.vision->imageTokenIndex) : std::nullopt,
          parallelism);
    if (folder.vision && backend == "cuda")
      throw makeError(folder.dir, ": MiniMax-VL-01 runs on --backend reference or cpu so far");
    if (precision != "f32")
      throw makeError("--backend ", backend,
                      " computes in f32; --precision f64 is for the reference");
    std::string whyNot;
    if (backend == "cuda" && !cuda::CudaDriver::get(&whyNot))
      throw makeError("--backend cuda: no usable GPU: ", whyNot);
    CompileOptions compile;
    if (backend == "cuda") {
      compile.target = CompileOptions::Target::CUDA;
      compile.cudaArch = "jit"; // compiled once, for the GPU found, when loaded
    }
    compile.weightDType = weightDType.weights;
    if (!weightDType.lmHead.empty())
      compile.weightDTypeOf[minimax::lmHead()] = weightDType.lmHead;
    compile.maxBatch = batch;
    compile.maxTokens = tokens;
    compile.maxContext = context;
    compile.allLogits = allLogits;
    compile.parallelism = parallelism;
    if (folder.vision) { // every prompt token could be an image token
      compile.imageTokenId = folder.vision->imageTokenIndex;
      compile.maxImageTokens = batch * tokens;
    }
    std::ifstream in(std::filesystem::path(folder.dir) / "config.json");
    std::stringstream json;
    json << in.rdbuf();
    CompileResult compiled =
        compileMiniMax(folder.config, json.str(), folder.dir, &folder.checkpoint, compile);
    if (backend == "cuda")
      return std::make_unique<CudaBackend>(std::move(compiled.executable),
                                           folder.weights->binder());
    return std::make_unique<HostBackend>(std::move(compiled.executable), folder.weights->binder());
  }
  /// The @vision function of a VL folder on the reference executor or
  /// compiled for the host, sized for the tiles of one call.
  VisionEncoder visionEncoder(const ModelFolder &folder, const std::string &which) const {
    if (which != "reference" && precision != "f32")
      throw makeError("--vision-backend ", which,
                      " computes in f32; --precision f64 is for the reference");
    return [&folder, which, this](const Tensor &pixels) -> Tensor {
      auto context = std::make_unique<mlir::MLIRContext>();
      mlir::DialectRegistry registry;
      registerDialects(registry);
      context->appendDialectRegistry(registry);
      auto module = buildVisionModule(*context, *folder.vision);
      auto fn = module->lookupSymbol<mlir::func::FuncOp>(kVisionFunction);
      WeightBinder binder = folder.visionWeights->binder();
      if (which == "reference") {
        ReferenceExecutor executor(fn, binder, executorOptions());
        return executor.run({pixels.to(executorOptions().precision)})[0];
      }
      CompileOptions options;
      options.symbolMax = {{"N", pixels.dim(0)}};
      CompileResult compiled = compileFunction(*module, kVisionFunction, options);
      HostBackend host(std::move(compiled.executable), binder);
      return host.call({pixels})[0];
    };
  }
  ExecutorOptions executorOptions() const {
    useThreads(threads);
    return {precision == "f64" ? DType::F64 : DType::F32, lightning == "recurrence"
                                                              ? ref::LightningMode::Recurrence
                                                              : ref::LightningMode::Blockwise};
  }
};

int runLogits(const Common &common, const std::string &idsText,
              const std::vector<std::string> &images, const std::string &visionBackend,
              const std::string &out) {
  auto folder = ModelFolder::open(common.model);
  std::vector<int64_t> ids = parseIds(idsText);
  std::optional<ImagePrompts> prompt;
  if (folder->vision || !images.empty()) {
    prompt = prepareImagePrompts(*folder, {ids}, images, common.visionEncoder(*folder, visionBackend));
    ids = prompt->ids.front();
  }
  int64_t n = static_cast<int64_t>(ids.size());
  auto backend = common.makeBackend(*folder, true, 1, n, n);
  if (prompt)
    backend->setImageFeatures(prompt->features);
  InferenceEngine engine(folder->config, *backend);
  Tensor logits = engine.scoreAll(ids).to(DType::F32);
  if (dist::world().rank() != 0)
    return 0; // rank 0 writes
  writeNpy(out, logits);
  std::cout << "wrote " << out << " [" << logits.dim(0) << ", " << logits.dim(1) << "]\n";
  return 0;
}

int runEmitIr(const std::string &source, bool allLogits, bool bf16, bool visionSide,
              const std::string &parallel) {
  if (source.empty())
    throw makeError("emit-ir needs --model DIR or --config FILE");
  std::string configPath = std::filesystem::is_directory(source)
                               ? (std::filesystem::path(source) / "config.json").string()
                               : source;
  std::ifstream in(configPath, std::ios::binary);
  if (!in)
    throw makeError(configPath, ": cannot open the model config");
  std::stringstream text;
  text << in.rdbuf();
  std::optional<VisionLanguageConfig> vl;
  if (isVisionLanguageConfig(text.str()))
    vl = parseVisionLanguageConfig(text.str(), configPath);
  if (visionSide && !vl)
    throw makeError(configPath, ": --vision needs a MiniMax-VL-01 config (vision_config)");
  if (visionSide && !parallel.empty())
    throw makeError("--parallel '", parallel, "': the vision tower runs on one rank so far");
  mlir::DialectRegistry registry; // with the sharding models --parallel partitions through
  registerDialects(registry);
  mlir::MLIRContext context(registry);
  if (visionSide) {
    buildVisionModule(context, *vl)->print(llvm::outs());
    llvm::outs() << "\n";
    return 0;
  }
  MiniMaxConfig config = vl ? vl->text : parseMiniMaxConfig(text.str(), configPath);
  MiniMaxGraphOptions options;
  if (vl)
    options.imageTokenId = vl->imageTokenIndex;
  options.allLogits = allLogits;
  if (bf16)
    options.elementType = MiniMaxGraphOptions::ElementType::BF16;
  // The program each rank of a tensor-parallel group runs, collectives placed.
  ModelParallelism group;
  if (!parallel.empty()) {
    if (vl)
      throw makeError(configPath, ": --parallel splits MiniMax-Text-01 / M1 only so far");
    ParallelLayout layout = parseTensorParallelGroup(parallel);
    if (std::string why = modelParallelMismatch(config, layout.tp, layout.ep, layout.etp);
        !why.empty())
      throw makeError("--parallel '", parallel, "': ", configPath, ": ", why);
    group = {layout.tp, layout.ep, layout.etp};
    options.kvHeadReplicas = minimaxKvHeadReplicas(config, layout.tp);
  }
  auto module = buildMiniMaxModule(context, config, options);
  if (std::string errors; failed(partitionForModelParallelism(*module, group, errors)))
    throw makeError(configPath, ": partitioning for --parallel '", parallel, "' failed:\n",
                    errors);
  module->print(llvm::outs());
  llvm::outs() << "\n";
  return 0;
}

struct EvalCommandArgs {
  std::string file, function, backend = "reference", precision = "f32";
  std::vector<std::string> maxima;
  int threads = 0;
  std::string weightDType = "auto";
  EvalArgs io;
};


/// Compiled in process for exactly this call: each shape symbol's maximum is
/// its value in the inputs unless --max gives one.
std::vector<Tensor> evalCompiled(const EvalCommandArgs &a, mlir::ModuleOp module,
                                 mlir::func::FuncOp fn, std::vector<Tensor> inputs,
                                 const WeightBinder &binder) {
  if (a.precision != "f32")
    throw makeError("--backend ", a.backend,
                    " computes in f32; --precision f64 is for the reference");
  CompileOptions options;
  if (a.backend == "cuda") { // compiled by NVRTC for this GPU when the backend loads
    options.target = CompileOptions::Target::CUDA;
    options.cudaArch = "jit";
  }
  options.weightDType = a.weightDType;
  options.symbolMax = parseSymbolMaxima(a.maxima);
  for (auto [i, input] : llvm::enumerate(inputs)) {
    auto names = i < fn.getNumArguments() ? fn.getArgAttrOfType<mlir::ArrayAttr>(i, "mm.dims")
                                          : mlir::ArrayAttr();
    for (int64_t d = 0; names && d < std::min<int64_t>(names.size(), input.rank()); ++d)
      if (auto s = llvm::dyn_cast<mlir::StringAttr>(names[d]); s && !s.getValue().empty())
        options.symbolMax.emplace(s.str(), std::max<int64_t>(1, input.dim(d)));
  }
  CompileResult compiled = compileFunction(module, fn.getName().str(), options);
  if (a.backend == "cuda") {
    CudaBackend backend(std::move(compiled.executable), binder);
    return callAndTime(a.io, [&] { return backend.call(inputs); });
  }
  HostBackend backend(std::move(compiled.executable), binder);
  reportRankWeights(backend.weightBytes());
  return callAndTime(a.io, [&] { return backend.call(inputs); });
}

int runEval(const EvalCommandArgs &a) {
  useThreads(a.threads);
  mlir::DialectRegistry registry;
  registerDialects(registry);
  mlir::MLIRContext context(registry);
  auto module = loadModuleFile(context, a.file);
  mlir::func::FuncOp fn = selectFunction(*module, a.function, a.file);
  std::string name = fn.getName().str();
  std::vector<Tensor> inputs = readEvalInputs(a.io);
  WeightBinder binder = paramsBinder(a.io.params, name);
  DType precision = a.precision == "f64" ? DType::F64 : DType::F32;
  std::vector<Tensor> results;
  if (a.backend == "reference" && a.weightDType != "auto")
    throw makeError("--weight-dtype ", a.weightDType,
                    " chooses a compiled backend's weight "
                    "storage; the reference executor reads the weights as given (--backend cpu)");
  if (a.backend == "reference") {
    ReferenceExecutor executor(fn, binder, {precision, ref::LightningMode::Blockwise});
    executor.bindAllParams(); // weight conversion stays out of --repeat timings
    reportRankWeights(executor.boundWeightBytes());
    results = callAndTime(a.io, [&] { return executor.run(inputs); });
  } else {
    results = evalCompiled(a, *module, fn, std::move(inputs), binder);
  }
  writeEvalOutputs(a.io, results, precision);
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mm-run: run an mm module's functions, or a MiniMax-Text-01 / M1 model folder"};
  app.require_subcommand(1);

  Common logitsCommon, generateCommon;
  std::string idsText, out, visionBackend = "reference";
  std::vector<std::string> images;
  CLI::App *logits = app.add_subcommand("logits", "float32 logits of every position as .npy");
  logitsCommon.add(logits);
  logits->add_option("--ids", idsText, "token ids, e.g. 1,2,3")->required();
  logits->add_option("--image", images,
                     "PNG or JPEG for a MiniMax-VL-01 model, once per image token of --ids, in order");
  logits->add_option("--vision-backend", visionBackend,
                     "where the vision tower runs: reference or cpu (compiled)")
      ->check(CLI::IsMember({"reference", "cpu"}));
  logits->add_option("--out", out, "output .npy file, shape [T, vocab]")->required();

  GenerateArgs gen;
  CLI::App *generate = app.add_subcommand("generate", "prefill + decode with sampling");
  generateCommon.add(generate);
  addGenerateOptions(*generate, gen);
  std::string generateVision = "reference";
  generate->add_option("--vision-backend", generateVision,
                       "where the vision tower runs: reference or cpu (compiled)")
      ->check(CLI::IsMember({"reference", "cpu"}));

  std::string irSource;
  bool irAllLogits = false, irBf16 = false, irVision = false;
  CLI::App *emit = app.add_subcommand("emit-ir", "print the model's mm IR (for mm-opt)");
  auto *emitModel = emit->add_option("--model", irSource, "model folder");
  auto *emitConfig = emit->add_option("--config", irSource, "config.json (no weights needed)");
  emitModel->excludes(emitConfig);
  emit->add_flag("--all-logits", irAllLogits, "logits of every position");
  emit->add_flag("--bf16", irBf16, "bf16 weights and activations");
  emit->add_flag("--vision", irVision, "MiniMax-VL-01: the vision tower and projector (@vision_tower, @vision)");
  std::string irParallel;
  emit->add_option("--parallel", irParallel,
                   "tp=N[,ep=M][,etp=K]: the program each rank runs, partitioned (collectives "
                   "placed)");

  EvalCommandArgs evalArgs;
  CLI::App *eval = app.add_subcommand("eval", "run any function of an mm module on .npy inputs");
  eval->add_option("file", evalArgs.file, "the .mlir module")->required();
  eval->add_option("--function", evalArgs.function, "the function (default: the only one)");
  addEvalOptions(*eval, evalArgs.io);
  eval->add_option("--backend", evalArgs.backend,
                   "reference (the oracle executor), cpu or cuda (compile, then run)")
      ->check(CLI::IsMember({"reference", "cpu", "cuda"}));
  eval->add_option("--precision", evalArgs.precision,
                   "f32, or f64 (reference: computes and writes float results in float64)")
      ->check(CLI::IsMember({"f32", "f64"}));
  eval->add_option("--max", evalArgs.maxima,
                   "NAME=VALUE: compiled backends plan memory for shape symbol NAME up to VALUE "
                   "(default: its value in the inputs)");
  addThreadsOption(*eval, evalArgs.threads);
  WeightDTypeChoice evalWeights;
  addWeightDTypeOptions(*eval, evalWeights, /*lmHead=*/false);
  double collectiveTimeout = 60;
  for (CLI::App *cmd : {eval, logits, generate})
    cmd->add_option("--collective-timeout", collectiveTimeout,
                    "under mpirun: seconds a rank waits in a collective before it exits naming it");

  CLI11_PARSE(app, argc, argv);
  try {
    // Under mpirun each rank runs the function (SPMD): a module partitioned
    // over a shard.grid runs its collectives between the ranks.
    if (dist::launchedByMpi()) {
      dist::initializeMpi(&argc, &argv, collectiveTimeout);
      if (emit->parsed() && dist::world().size() > 1)
        throw makeError("mm-run emit-ir runs on one rank");
      printOnRankZeroOnly();
    }
    if (eval->parsed()) {
      evalArgs.weightDType = evalWeights.weights;
      int code = runEval(evalArgs);
      dist::finalizeMpi();
      return code;
    }
    if (logits->parsed()) {
      int code = runLogits(logitsCommon, idsText, images, visionBackend, out);
      dist::finalizeMpi();
      return code;
    }
    if (emit->parsed())
      return runEmitIr(irSource, irAllLogits, irBf16, irVision, irParallel);
    auto folder = ModelFolder::open(generateCommon.model);
    int code = runGenerate(*folder, gen,
                       [&](ModelFolder &f, int64_t batch, int64_t tokens, int64_t context) {
                         return generateCommon.makeBackend(f, false, batch, tokens, context);
                       },
                       {{"precision", generateCommon.precision},
                        {"threads", useThreads(generateCommon.threads)}},
                       folder->vision ? generateCommon.visionEncoder(*folder, generateVision)
                                      : VisionEncoder());
    dist::finalizeMpi();
    return code;
  } catch (const std::exception &e) {
    std::cerr << "mm-run: error: "
              << (dist::world().size() > 1 ? "rank " + std::to_string(dist::world().rank()) + ": "
                                            : "")
              << e.what() << "\n";
    dist::abortRun(1); // a failing rank must not wait for the others
  }
}
