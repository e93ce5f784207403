//===- mm-aot-runner.cpp - the runtime of AOT binaries --------------------===//
//
// mm-compile copies this program and appends a compiled executable to it. At
// start it reads the executable back from its own file. Compiled from a .mlir
// file, it runs the function on .npy inputs like `mm-run eval`. Compiled from
// a MiniMax model, it opens the model folder (the one it was compiled from,
// or --model DIR), checks that the folder's config is the compiled one, and
// generates like `mm-run generate`. It links no MLIR or LLVM.
//
//===----------------------------------------------------------------------===//
#include "frontends/ModelFolder.h"
#include "runtime/Error.h"
#include "runtime/compiled/CudaBackend.h"
#include "runtime/compiled/HostBackend.h"
#include "tools/common/ParallelInference.h"
#include "tools/common/RankZeroLogits.h"
#include "tools/common/ThreadsOption.h"
#include "runtime/dist/MpiCollectives.h"
#include "runtime/executable/ExecutableFile.h"
#include "tools/common/EvalCommand.h"
#include "tools/common/GenerateCommand.h"

#include <filesystem>
#include <iostream>
#include <map>

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

namespace {
/// `--parallel` text of a tensor-parallel group.
std::string layoutText(int64_t tp, int64_t ep, int64_t etp) {
  return "tp=" + std::to_string(tp) + ",ep=" + std::to_string(ep) +
         (etp > 1 ? ",etp=" + std::to_string(etp) : "");
}
/// The group `e` was partitioned for (1 where a field is unset).
std::string layoutText(const exe::Executable &e) {
  return layoutText(std::max<uint32_t>(1, e.tensor_parallel()),
                    std::max<uint32_t>(1, e.expert_parallel()),
                    std::max<uint32_t>(1, e.expert_tensor_parallel()));
}

void printInfo(const exe::Executable &e) {
  std::cout << "target " << (e.target() == exe::TARGET_CPU ? "cpu" : "cuda") << ", @"
            << e.function_name() << ", " << e.kernels_size() << " kernels, arena "
            << e.arena_bytes() << " bytes, " << e.weights_size() << " weights";
  std::map<std::string, int> stored; // weights by storage type
  for (const exe::Weight &w : e.weights())
    ++stored[w.dtype() == exe::DTYPE_I8_ROWS ? "int8"
             : w.dtype() == exe::DTYPE_BF16  ? "bf16"
             : w.dtype() == exe::DTYPE_I64   ? "int64"
                                             : "f32"];
  for (const auto &[type, count] : stored)
    std::cout << (type == stored.begin()->first ? " (" : ", ") << count << " " << type;
  if (!stored.empty())
    std::cout << ")";
  if (!e.config_json().empty())
    std::cout << ", model " << (e.model_dir().empty() ? "(give --model DIR)" : e.model_dir());
  if (e.tensor_parallel() > 1)
    std::cout << ", tensor parallel over " << e.tensor_parallel() << " ranks, experts over "
              << std::max<uint32_t>(1, e.expert_parallel()) << ", each expert's width over "
              << std::max<uint32_t>(1, e.expert_tensor_parallel()) << " (mpirun -np "
              << e.tensor_parallel() << " ... --parallel " << layoutText(e) << ")";
  std::cout << "\n";
  if (e.target() == exe::TARGET_CUDA)
    std::cout << "  cuda " << (e.cuda_arch().empty() ? "jit" : e.cuda_arch()) << ", "
              << e.code_object().size() << " bytes of CUBIN\n";
  auto describe = [&](const char *what, uint32_t id) {
    const exe::Buffer &b = e.buffers(id);
    std::cout << "  " << what << " " << b.name() << " " << exe::DType_Name(b.dtype()) << " [";
    for (int i = 0; i < b.shape_size(); ++i) {
      const exe::Dim &d = b.shape(i);
      std::string dim = d.coefficient() == 1 ? "" : std::to_string(d.coefficient());
      for (int s = 0; s < d.exponents_size(); ++s)
        for (uint32_t k = 0; k < d.exponents(s); ++k)
          dim += (dim.empty() ? "" : "*") + e.symbols(s).name();
      std::cout << (i ? ", " : "") << (dim.empty() ? "1" : dim);
    }
    std::cout << "]" << (b.storage() == exe::Buffer::STORAGE_STATE ? " (state, in place)" : "")
              << "\n";
  };
  for (uint32_t id : e.argument_buffers())
    describe("argument", id);
  for (uint32_t id : e.result_buffers())
    describe("result", id);
  if (e.has_generation_step()) {
    const exe::GenerationStep &g = e.generation_step();
    std::cout << "  generation step: inputs";
    for (int i = 0; i < g.inputs_size(); ++i)
      std::cout << (i ? ", " : " ") << e.buffers(e.input_buffers(i)).name() << " = "
                << exe::GenerationStep::Input_Name(g.inputs(i));
    std::cout << "; batch " << g.batch_symbol() << ", tokens " << g.tokens_symbol();
    if (!g.capacity_symbol().empty())
      std::cout << ", capacity " << g.capacity_symbol();
    if (!g.image_tokens_symbol().empty())
      std::cout << ", image tokens " << g.image_tokens_symbol();
    std::cout << "; logits " << e.buffers(g.logits_buffer()).name()
              << (g.all_logits() ? " (every position)" : " (last real token)") << "\n";
  }
  for (const exe::Kernel &k : e.kernels())
    std::cout << "  " << k.name() << " " << k.kind() << " at " << k.location()
              << (e.target() == exe::TARGET_CUDA
                      ? ": " + std::to_string(k.registers()) + " registers, " +
                            std::to_string(k.spill_bytes()) + " spill bytes"
                      : std::string())
              << "\n";
  for (const exe::Symbol &s : e.symbols())
    std::cout << "  max " << s.name() << " = " << s.max() << "\n";
  for (const exe::Weight &w : e.weights()) {
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
}

/// A function compiled from a .mlir file: .npy in, .npy out.
int runEval(const exe::Executable &executable, int argc, char **argv) {
  CLI::App app{"mmc ahead-of-time binary of @" + executable.function_name() +
               ": runs it on .npy inputs"};
  EvalArgs args;
  bool info = false;
  addEvalOptions(app, args);
  int threads = 0;
  addThreadsOption(app, threads);
  app.add_flag("--info", info, "print what this binary holds and exit");
  double collectiveTimeout = 60;
  app.add_option("--collective-timeout", collectiveTimeout,
                 "under mpirun: seconds a rank waits in a collective before it exits naming it");
  CLI11_PARSE(app, argc, argv);
  if (info) {
    printInfo(executable);
    return 0;
  }
  // A program partitioned over a shard.grid runs on that many mpirun ranks.
  if (dist::launchedByMpi())
    dist::initializeMpi(&argc, &argv, collectiveTimeout);
  useThreads(threads);
  std::vector<Tensor> inputs = readEvalInputs(args);
  if (executable.target() == exe::TARGET_CUDA) {
    if (dist::launchedByMpi())
      throw makeError("a CUDA executable runs on one GPU; collectives run on the CPU target");
    CudaBackend backend(executable, paramsBinder(args.params, executable.function_name()));
    writeEvalOutputs(args, callAndTime(args, [&] { return backend.call(inputs); }), DType::F32);
    return 0;
  }
  HostBackend backend(executable, paramsBinder(args.params, executable.function_name()));
  writeEvalOutputs(args, callAndTime(args, [&] { return backend.call(inputs); }), DType::F32);
  dist::finalizeMpi();
  return 0;
}
} // namespace

int main(int argc, char **argv) {
  try {
    std::optional<exe::Executable> executable = readEmbeddedExecutable();
    if (!executable)
      throw makeError("this runner has no executable appended; build one with mm-compile");
    if (executable->config_json().empty())
      return runEval(*executable, argc, argv);
    CLI::App app{"mmc ahead-of-time inference binary (MiniMax-Text-01 family)"};
    std::string model;
    bool info = false;
    GenerateArgs args;
    std::string parallel;
    double collectiveTimeout = 60;
    app.add_option("--model", model, "model folder (default: the one compiled from)");
    app.add_option("--parallel", parallel,
                   "under mpirun: tp=N[,ep=M], the split this binary was compiled for");
    app.add_option("--collective-timeout", collectiveTimeout,
                   "under mpirun: seconds a rank waits in a collective before it exits naming it");
    app.add_flag("--info", info, "print what this binary holds and exit");
    int threads = 0;
    addThreadsOption(app, threads);
    addGenerateOptions(app, args);
    CLI11_PARSE(app, argc, argv);
    MiniMaxConfig compiled = parseMiniMaxConfig(executable->config_json(), "the compiled config");
    if (info) {
      printInfo(*executable);
      return 0;
    }
    if (model.empty() && executable->model_dir().empty())
      throw makeError("this binary was compiled from a config alone; give --model DIR");
    if (dist::launchedByMpi()) {
      dist::initializeMpi(&argc, &argv, collectiveTimeout);
      printOnRankZeroOnly();
    }
    auto folder = ModelFolder::open(model.empty() ? executable->model_dir() : model);
    checkSameModel(compiled, folder->config);
    auto [tp, ep, etp] = inferenceParallelism(parallel, folder->config);
    std::string compiledLayout = layoutText(*executable);
    if (layoutText(tp, ep, etp) != compiledLayout)
      throw makeError("this binary was compiled for ", compiledLayout, " (mpirun -np ",
                      std::max<uint32_t>(1, executable->tensor_parallel()), " ... --parallel ",
                      compiledLayout, "); asked for ", layoutText(tp, ep, etp));
    bool cuda = executable->target() == exe::TARGET_CUDA;
    // int8 weights quantized at compile time, unless the checkpoint changed.
    std::unique_ptr<Int8WeightFile> int8File;
    if (executable->has_int8_weight_file()) {
      std::string whyNot;
      int8File = Int8WeightFile::open(
          *executable, std::filesystem::read_symlink("/proc/self/exe").parent_path().string(),
          folder->checkpoint.files(), &whyNot);
      if (!int8File)
        std::cerr << "note: quantizing the int8 weights from the checkpoint: " << whyNot << "\n";
    }
    int code = runGenerate(
        *folder, args,
        [&](ModelFolder &f, int64_t, int64_t, int64_t) -> std::unique_ptr<ForwardBackend> {
          std::unique_ptr<ForwardBackend> backend;
          const Int8WeightViews *int8 = int8File ? &int8File->weights() : nullptr;
          if (cuda)
            backend = std::make_unique<CudaBackend>(*executable, f.weights->binder(), int8);
          else
            backend = std::make_unique<HostBackend>(*executable, f.weights->binder(), int8);
          if (tp > 1)
            return std::make_unique<RankZeroLogits>(std::move(backend));
          return backend;
        },
        {{"precision", "f32"},
         {"backend", cuda ? "cuda" : "cpu"},
         {"threads", useThreads(threads)}}); // (the host's: sampling, and the kernels on cpu)
    dist::finalizeMpi();
    return code;
  } catch (const std::exception &e) {
    std::cerr << "error: "
              << (dist::world().size() > 1 ? "rank " + std::to_string(dist::world().rank()) + ": "
                                            : "")
              << e.what() << "\n";
    dist::abortRun(1); // a failing rank must not wait for the others
  }
}
