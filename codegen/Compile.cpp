//===- Compile.cpp --------------------------------------------------------===//
#include "codegen/Compile.h"
#include "codegen/CudaCodegen.h"
#include "codegen/host/HostCodegen.h"
#include "codegen/host/HostCompiler.h"
#include "frontends/MiniMaxWeights.h"
#include "ir/InitDialects.h"
#include "ir/MMOps.h"
#include "models/MiniMaxBuilder.h"
#include "passes/Pipelines.h"
#include "passes/SymbolicShapes.h"
#include "runtime/Error.h"
#include "runtime/cuda/Nvrtc.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <optional>
#include <fstream>

using namespace mlir;

namespace mm {

namespace {
exe::DType dtypeOf(Type t, bool weight, bool bf16Weights) {
  if (llvm::isa<IntegerType>(t))
    return exe::DTYPE_I64;
  return weight && bf16Weights ? exe::DTYPE_BF16 : exe::DTYPE_F32;
}

void setShape(exe::Buffer &b, ArrayRef<SymbolicDim> dims) {
  for (const SymbolicDim &d : dims) {
    exe::Dim *pd = b.add_shape();
    pd->set_coefficient(d.coefficient);
    for (unsigned e : d.exponents)
      pd->add_exponents(e);
  }
}

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
/// NVRTC-compiles the whole program for `arch` ("jit": leave it to the
/// runtime) and records each kernel's registers and spills.
void compileCudaObject(exe::Executable &e, const std::string &source, const std::string &arch) {
  e.set_cuda_source(source);
  if (arch == "jit")
    return;
  if (arch.rfind("sm_", 0) != 0)
    throw makeError("--cuda-arch '", arch, "': expected sm_XX (e.g. sm_90) or jit");
  std::string whyNot;
  auto nvrtc = cuda::Nvrtc::load(&whyNot);
  if (!nvrtc)
    throw makeError("the CUDA target compiles with NVRTC, which is not available: ", whyNot,
                    " (or compile with --cuda-arch jit to compile on the GPU machine)");
  cuda::CompiledKernel image = nvrtc->compile(source, "mm-model.cu", arch);
  e.set_cuda_arch(arch);
  e.set_code_object(std::string(image.image.begin(), image.image.end()));
  for (exe::Kernel &k : *e.mutable_kernels()) {
    int registers = 0, spills = 0;
    for (const auto &[name, r] : image.resources)
      if (name.rfind(k.name() + "_", 0) == 0) {
        registers = std::max(registers, r.registers);
        spills += r.spillStoreBytes + r.spillLoadBytes;
      }
    k.set_registers(registers);
    k.set_spill_bytes(spills);
  }
}
} // namespace

CompileResult compileMiniMax(const MiniMaxConfig &config, const std::string &configJson,
                             const std::string &modelDir, const Checkpoint *checkpoint,
                             const CompileOptions &options) {
  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext context(registry);
  context.disableMultithreading();
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error) {
      d.getLocation().print(diagStream);
      diagStream << ": " << d << "\n";
    }
    return success();
  });
  auto fail = [&](const std::string &stage) {
    return makeError("compiling ", config.source, " failed during ", stage, ":\n", diagnostics);
  };

  MiniMaxGraphOptions graphOptions;
  graphOptions.allLogits = options.allLogits;
  OwningOpRef<ModuleOp> module = buildMiniMaxModule(context, config, graphOptions);
  PassManager pm(&context);
  InferencePipelineOptions pipeline;
  pipeline.maxBatch = options.maxBatch;
  pipeline.maxTokens = options.maxTokens;
  pipeline.maxContext = options.maxContext;
  if (failed(buildInferencePipeline(pm, pipeline, [&](const Twine &m) {
        diagStream << m << "\n";
        return failure();
      })) ||
      failed(pm.run(*module)))
    throw fail("mm-inference-pipeline");
  auto fn = module->lookupSymbol<func::FuncOp>(kForwardFunction);
  auto shapes = SymbolicShapes::infer(fn);
  if (failed(shapes))
    throw fail("shape analysis");

  bool cuda = options.target == CompileOptions::Target::CUDA;
  if (options.weightDType != "auto" && options.weightDType != "f32" &&
      options.weightDType != "bf16")
    throw makeError("unknown weight type '", options.weightDType, "' (auto, f32 or bf16)");
  if (cuda && options.weightDType == "bf16")
    throw makeError("--weight-dtype bf16: the CUDA target keeps weights in float32 (bf16 "
                    "checkpoints are widened when loaded)");
  bool bf16 = !cuda && (options.weightDType == "bf16" ||
                        (options.weightDType == "auto" && checkpointIsBF16(checkpoint)));

  // What each target generates, in the order of the mm.kernel ops.
  struct Generated {
    std::string name, kind, location, code, plan;
  };
  std::vector<Generated> generated;
  std::vector<std::string> kernelFiles;
  std::string programSource;
  if (cuda) {
    auto program = generateCudaProgram(fn, *shapes);
    if (failed(program))
      throw fail("CUDA code generation");
    for (size_t i = 0; i < program->kernels.size(); ++i) {
      const CudaKernelPlan &k = program->kernels[i];
      generated.push_back({k.symbol, k.kind, k.location, k.code, k.planJson});
      kernelFiles.push_back(program->kernelSource(i));
    }
    programSource = program->source();
  } else {
    WeightTypes weightTypes;
    fn.walk([&](ParamOp p) { weightTypes[p.getName()] = bf16 ? "bf16" : "f32"; });
    auto program = generateHostProgram(fn, *shapes, weightTypes);
    if (failed(program))
      throw fail("code generation");
    for (size_t i = 0; i < program->kernels.size(); ++i) {
      const GeneratedKernel &k = program->kernels[i];
      generated.push_back({k.name, k.kind, k.location, k.code, ""});
      kernelFiles.push_back(program->kernelSource(i));
    }
    programSource = program->source();
  }

  CompileResult result;
  exe::Executable &e = result.executable;
  e.set_format_version(kExecutableFormatVersion);
  e.set_target(cuda ? exe::TARGET_CUDA : exe::TARGET_CPU);
  e.set_config_json(configJson);
  e.set_model_dir(modelDir);
  e.set_all_logits(options.allLogits);
  for (const std::string &s : shapes->symbols()) {
    exe::Symbol *sym = e.add_symbols();
    sym->set_name(s);
    sym->set_max(s == "B" ? options.maxBatch : s == "T" ? options.maxTokens : options.maxContext);
  }

  // Buffers: arguments, weights, kernel results (arena offsets from
  // mm-plan-memory); views and in-place results reuse their input's.
  llvm::DenseMap<Value, uint32_t> bufferOf;
  auto newBuffer = [&](Value v, exe::Buffer::Storage storage, uint64_t offset,
                       const std::string &name, bool weight) {
    exe::Buffer *b = e.add_buffers();
    b->set_id(e.buffers_size() - 1);
    b->set_storage(storage);
    b->set_offset(offset);
    b->set_name(name);
    b->set_dtype(dtypeOf(llvm::cast<RankedTensorType>(v.getType()).getElementType(), weight, bf16));
    setShape(*b, shapes->dims(v));
    bufferOf[v] = b->id();
    return b->id();
  };
  Block &body = fn.getBody().front();
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    auto name = fn.getArgAttrOfType<StringAttr>(i, "mm.name");
    std::string n = name ? name.str() : "arg" + std::to_string(i);
    uint32_t id = newBuffer(arg, i < 4 ? exe::Buffer::STORAGE_INPUT : exe::Buffer::STORAGE_STATE,
                            0, n, false);
    (i < 4 ? e.add_input_buffers(id) : e.add_state_buffers(id));
  }
  std::optional<minimax::WeightLoader> loader;
  if (checkpoint)
    loader.emplace(config, *checkpoint);
  size_t kernelIndex = 0;
  for (Operation &op : body) {
    if (auto p = dyn_cast<ParamOp>(op)) {
      exe::Weight *w = e.add_weights();
      w->set_name(p.getName().str());
      for (int64_t d : p.getType().getShape())
        w->add_shape(d);
      w->set_dtype(dtypeOf(p.getType().getElementType(), true, bf16));
      if (loader)
        for (const std::string &source : loader->sources(p.getName().str()))
          w->add_source_tensors(source);
      newBuffer(p, exe::Buffer::STORAGE_WEIGHT, e.weights_size() - 1, p.getName().str(), true);
    } else if (auto r = dyn_cast<ReshapeOp>(op)) {
      bufferOf[r.getResult()] = bufferOf.lookup(r.getInput());
    } else if (auto k = dyn_cast<KernelOp>(op)) {
      auto offsets = k->getAttrOfType<DenseI64ArrayAttr>("mm.offsets");
      if (!offsets)
        throw makeError("kernel without a memory plan (mm-plan-memory did not run)");
      exe::Launch *launch = e.add_schedule();
      launch->set_kernel(kernelIndex);
      for (Value in : k.getInputs()) {
        if (!bufferOf.count(in))
          throw makeError("a kernel input has no buffer");
        launch->add_operands(bufferOf.lookup(in));
      }
      for (auto [r, result] : llvm::enumerate(k.getResults())) {
        int64_t offset = offsets[r];
        uint32_t id = offset >= 0
                          ? newBuffer(result, exe::Buffer::STORAGE_ARENA, offset,
                                      k.getKind().str() + "." + std::to_string(kernelIndex), false)
                          : bufferOf.lookup(k.getInputs()[(*k.getInPlace())[r]]);
        bufferOf[result] = id;
        launch->add_operands(id);
      }
      const Generated &g = generated[kernelIndex];
      exe::Kernel *kernel = e.add_kernels();
      kernel->set_name(g.name);
      kernel->set_kind(g.kind);
      kernel->set_location(g.location);
      kernel->set_source(g.code);
      kernel->set_launch_plan(g.plan);
      result.kernelSources.push_back(
          {llvm::formatv("k{0:3}_{1}.{2}", kernelIndex, g.kind, cuda ? "cu" : "cpp").str(),
           kernelFiles[kernelIndex]});
      ++kernelIndex;
    }
  }
  auto ret = body.getTerminator();
  e.set_logits_buffer(bufferOf.lookup(ret->getOperand(0)));
  for (unsigned i = 1; i < ret->getNumOperands(); ++i)
    if (bufferOf.lookup(ret->getOperand(i)) != e.state_buffers(i - 1))
      throw makeError("state result ", i, " is not updated in place; the runtime keeps the "
                      "model's state in place");
  if (auto arena = fn->getAttrOfType<IntegerAttr>("mm.arena_bytes"))
    e.set_arena_bytes(arena.getInt());
  if (const char *dump = std::getenv("MM_DUMP_SOURCE"))
    std::ofstream(dump) << programSource;
  if (const char *dump = std::getenv("MM_DUMP_EXE"))
    writeExecutable(e, dump);
  if (cuda)
    compileCudaObject(e, programSource, options.cudaArch);
  else
    e.set_code_object(compileHostObject(programSource));
  llvm::raw_string_ostream ir(result.finalIR);
  module->print(ir);
  return result;
}

} // namespace mm
