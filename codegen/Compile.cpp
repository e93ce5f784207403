//===- Compile.cpp - one function of an mm module to an executable --------===//
//
// Four steps, one function each: run the pipeline, generate the kernels for
// the target, lay out the executable (buffers, schedule, interface), compile
// the code object.
//
//===----------------------------------------------------------------------===//
#include "codegen/Compile.h"
#include "codegen/CudaCodegen.h"
#include "codegen/CudaLaunchBuilder.h"
#include "codegen/FusedKernel.h"
#include "codegen/WeightStorage.h"
#include "codegen/host/HostCodegen.h"
#include "codegen/host/HostCompiler.h"
#include "ir/GenerationStep.h"
#include "ir/MMOps.h"
#include "ir/ShardCollectives.h"
#include "passes/Pipelines.h"
#include "passes/SymbolicShapes.h"
#include "runtime/Error.h"
#include "runtime/cuda/Nvrtc.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <fstream>
#include <set>

using namespace mlir;

namespace mm {

std::optional<CompilePhase> parseCompilePhase(const std::string &name) {
  if (name == "input")
    return CompilePhase::Input;
  if (name == "cleanup")
    return CompilePhase::Cleanup;
  if (name == "fusion")
    return CompilePhase::Fusion;
  if (name == "memory-plan")
    return CompilePhase::MemoryPlan;
  if (name == "sources")
    return CompilePhase::Sources;
  if (name == "end")
    return CompilePhase::End;
  return std::nullopt;
}

std::map<std::string, int64_t> parseSymbolMaxima(const std::vector<std::string> &entries) {
  std::map<std::string, int64_t> out;
  for (const std::string &e : entries) {
    size_t eq = e.find('=');
    int64_t v = 0;
    if (eq != 0 && eq != std::string::npos &&
        !llvm::StringRef(e).substr(eq + 1).getAsInteger(10, v) && v >= 1) {
      out[e.substr(0, eq)] = v;
      continue;
    }
    throw makeError("--max '", e, "': expected NAME=VALUE with VALUE >= 1");
  }
  return out;
}

namespace {

/// What a target generated for one mm.kernel.
struct GeneratedKernelInfo {
  std::string name, kind, location, code, plan, file;
  exe::CudaLaunchPlan cudaLaunch; // cuda: how the runtime launches it
};
struct GeneratedProgram {
  std::vector<GeneratedKernelInfo> kernels; // in the order of the mm.kernel ops
  std::string source;                       // the whole translation unit
  HostProgram host;                         // cpu: the kernels as generated
};

std::string printed(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->print(os);
  return s;
}

/// mm-inference-pipeline up to `options.stopAt`, with the symbol maxima of `options`.
LogicalResult runPipeline(ModuleOp module, const CompileOptions &options,
                          llvm::raw_ostream &errors) {
  CompilePhase stopAt = options.stopAt;
  if (stopAt == CompilePhase::Input)
    return success();
  PassManager pm(module.getContext());
  if (options.passManagerCLOptions) {
    if (failed(applyPassManagerCLOptions(pm)))
      return failure();
    // --mlir-timing: the pass manager owns the timer and reports at its end.
    auto timing = std::make_unique<DefaultTimingManager>();
    applyDefaultTimingManagerCLOptions(*timing);
    if (timing->isEnabled())
      pm.enableTiming(std::move(timing));
  }
  InferencePipelineOptions pipeline;
  pipeline.maxBatch = options.maxBatch;
  pipeline.maxTokens = options.maxTokens;
  pipeline.maxContext = options.maxContext;
  std::vector<std::string> maxima;
  for (const auto &[name, value] : options.symbolMax)
    maxima.push_back(name + "=" + std::to_string(value));
  pipeline.symbolMax = maxima;
  pipeline.stopAfter = stopAt == CompilePhase::Cleanup  ? "cleanup"
                       : stopAt == CompilePhase::Fusion ? "fusion"
                                                        : "memory-plan";
  if (failed(buildInferencePipeline(pm, pipeline, [&](const Twine &m) {
        errors << m << "\n";
        return failure();
      })))
    return failure();
  return pm.run(module);
}

FailureOr<GeneratedProgram> generateKernels(func::FuncOp fn, const SymbolicShapes &shapes,
                                            bool cuda, const WeightStorage &storage) {
  GeneratedProgram out;
  WeightTypes weightTypes = storage.generatorTypes();
  if (cuda) {
    auto program = generateCudaProgram(fn, shapes, weightTypes);
    if (failed(program))
      return failure();
    for (size_t i = 0; i < program->kernels.size(); ++i) {
      const CudaKernelPlan &k = program->kernels[i];
      out.kernels.push_back(
          {k.symbol, k.kind, k.location, k.code, "", program->kernelSource(i), k.launch});
    }
    out.source = program->source();
    return out;
  }
  auto program = generateHostProgram(fn, shapes, weightTypes);
  if (failed(program))
    return failure();
  nameKernelsByContent(*program);
  for (size_t i = 0; i < program->kernels.size(); ++i) {
    const GeneratedKernel &k = program->kernels[i];
    out.kernels.push_back({k.name, k.kind, k.location, k.code, k.plan, program->kernelSource(i)});
  }
  out.source = program->source();
  out.host = std::move(*program);
  return out;
}

/// Lays out the executable of `fn`: symbols, buffers (arguments, weights,
/// arena results, views), kernels and their launches, and the interface.
class ExecutableBuilder {
public:
  ExecutableBuilder(exe::Executable &e, const SymbolicShapes &shapes, const WeightStorage &storage)
      : e(e), shapes(shapes), weightStorage(storage) {}

  void build(func::FuncOp fn, const GeneratedProgram &program,
             const std::function<std::vector<std::string>(const std::string &)> &weightSources);

private:
  uint32_t newBuffer(Value v, exe::Buffer::Storage storage, uint64_t offset,
                     const std::string &name, bool weight);
  void addArguments(func::FuncOp fn);
  void addKernel(KernelOp k, size_t index, const GeneratedKernelInfo &g);
  void addInterface(func::FuncOp fn);
  void addGenerationStep(func::FuncOp fn);

  exe::Executable &e;
  const SymbolicShapes &shapes;
  const WeightStorage &weightStorage;
  llvm::DenseMap<Value, uint32_t> bufferOf;
  /// Argument buffers that a kernel updates in place.
  llvm::DenseSet<uint32_t> updatedInPlace;
};

uint32_t ExecutableBuilder::newBuffer(Value v, exe::Buffer::Storage storage, uint64_t offset,
                                      const std::string &name, bool weight) {
  exe::Buffer *b = e.add_buffers();
  b->set_id(e.buffers_size() - 1);
  b->set_storage(storage);
  b->set_offset(offset);
  b->set_name(name);
  Type element = llvm::cast<RankedTensorType>(v.getType()).getElementType();
  b->set_dtype(weight                            ? weightStorage.dtype(element, name)
               : llvm::isa<IntegerType>(element) ? exe::DTYPE_I64
                                                 : exe::DTYPE_F32);
  for (const SymbolicDim &d : shapes.dims(v)) {
    exe::Dim *pd = b->add_shape();
    pd->set_coefficient(d.coefficient);
    for (unsigned x : d.exponents)
      pd->add_exponents(x);
  }
  bufferOf[v] = b->id();
  return b->id();
}

void ExecutableBuilder::addArguments(func::FuncOp fn) {
  for (auto [i, arg] : llvm::enumerate(fn.getBody().front().getArguments())) {
    auto name = fn.getArgAttrOfType<StringAttr>(i, "mm.name");
    e.add_argument_buffers(newBuffer(arg, exe::Buffer::STORAGE_INPUT, 0,
                                     name ? name.str() : "arg" + std::to_string(i), false));
  }
}

void ExecutableBuilder::addKernel(KernelOp k, size_t index, const GeneratedKernelInfo &g) {
  auto offsets = k->getAttrOfType<DenseI64ArrayAttr>("mm.offsets");
  if (!offsets)
    throw makeError("kernel without a memory plan (mm-plan-memory did not run)");
  exe::Launch *launch = e.add_schedule();
  launch->set_kernel(index);
  for (Value in : k.getInputs()) {
    if (!bufferOf.count(in))
      throw makeError(g.location, ": a kernel input has no buffer (a top-level op that is "
                                  "neither a kernel, a weight nor a view)");
    launch->add_operands(bufferOf.lookup(in));
  }
  for (auto [r, result] : llvm::enumerate(k.getResults())) {
    int64_t offset = offsets[r];
    uint32_t id;
    if (offset >= 0) {
      id = newBuffer(result, exe::Buffer::STORAGE_ARENA, offset,
                     stringifyKernelKind(k.getKind()).str() + "." + std::to_string(index), false);
    } else {
      id = bufferOf.lookup(k.getInputs()[(*k.getInPlace())[r]]);
      bufferOf[result] = id;
      updatedInPlace.insert(id);
    }
    launch->add_operands(id);
  }
  exe::Kernel *kernel = e.add_kernels();
  kernel->set_name(g.name);
  kernel->set_kind(g.kind);
  kernel->set_location(g.location);
  kernel->set_source(g.code);
  kernel->set_launch_plan(g.plan);
  if (g.cudaLaunch.steps_size() > 0)
    *kernel->mutable_cuda_launch() = g.cudaLaunch;
}

/// Results in order (a returned view gets a buffer of its own shape), and
/// the arguments split into inputs and in-place state.
void ExecutableBuilder::addInterface(func::FuncOp fn) {
  Operation *ret = fn.getBody().front().getTerminator();
  for (Value v : ret->getOperands()) {
    uint32_t root = bufferOf.lookup(v);
    if (auto view = v.getDefiningOp<ReshapeOp>()) {
      const exe::Buffer rootBuffer = e.buffers(root); // copy: add_buffers may move it
      uint32_t id = newBuffer(v, rootBuffer.storage(), rootBuffer.offset(),
                              rootBuffer.name() + ".view", false);
      e.mutable_buffers(id)->set_dtype(rootBuffer.dtype());
      e.mutable_buffers(id)->set_view_of(root);
      e.add_result_buffers(id);
    } else {
      e.add_result_buffers(root);
    }
  }
  for (uint32_t id : e.argument_buffers()) {
    if (updatedInPlace.contains(id)) {
      e.mutable_buffers(id)->set_storage(exe::Buffer::STORAGE_STATE);
      e.add_state_buffers(id);
    } else {
      e.add_input_buffers(id);
    }
  }
  addGenerationStep(fn);
}

/// The model's declared generation step (ir/GenerationStep.h) in the
/// executable's terms: a role per input buffer, the symbols by role.
void ExecutableBuilder::addGenerationStep(func::FuncOp fn) {
  FailureOr<std::optional<GenerationStepDecl>> decl = readGenerationStep(fn);
  if (failed(decl)) // the verifier accepted it, so this is a pass that broke it
    throw makeError(locationOf(fn), ": @", fn.getName().str(), "'s mm.generation_step is invalid");
  if (!*decl)
    return;
  exe::GenerationStep *g = e.mutable_generation_step();
  for (auto [i, role] : llvm::enumerate((*decl)->argumentRoles)) {
    uint32_t id = e.argument_buffers(i);
    if (role.has_value() == updatedInPlace.contains(id))
      throw makeError(locationOf(fn), ": argument ", i, " ('", e.buffers(id).name(), "') of @",
                      fn.getName().str(),
                      role ? " is a step input, but a kernel updates it in place"
                           : " is the model's state, but no kernel updates it in place (the "
                             "engine keeps the state where the step writes it)");
    if (role)
      g->add_inputs(exe::GenerationStep::Input(int(*role) + 1)); // the enums share an order
  }
  auto symbol = [&](const std::string &name) {
    return llvm::is_contained(shapes.symbols(), name) ? name : std::string();
  };
  g->set_batch_symbol(symbol((*decl)->batch));
  g->set_tokens_symbol(symbol((*decl)->tokens));
  g->set_capacity_symbol(symbol((*decl)->capacity));
  g->set_image_tokens_symbol(symbol((*decl)->imageTokens));
  g->set_logits_buffer(e.result_buffers((*decl)->logitsResult));
  g->set_all_logits((*decl)->allLogits);
}

void ExecutableBuilder::build(
    func::FuncOp fn, const GeneratedProgram &program,
    const std::function<std::vector<std::string>(const std::string &)> &weightSources) {
  e.set_function_name(fn.getName().str());
  auto maxima = fn->getAttrOfType<DictionaryAttr>("mm.symbol_max");
  for (const std::string &s : shapes.symbols()) {
    exe::Symbol *sym = e.add_symbols();
    sym->set_name(s);
    auto max = maxima ? maxima.getAs<IntegerAttr>(s) : IntegerAttr();
    if (!max)
      throw makeError("shape symbol '", s, "' has no planned maximum");
    sym->set_max(max.getInt());
  }
  addArguments(fn);
  size_t kernelIndex = 0;
  for (Operation &op : fn.getBody().front()) {
    if (auto p = dyn_cast<ParamOp>(op)) {
      exe::Weight *w = e.add_weights();
      w->set_name(p.getName().str());
      for (int64_t d : p.getType().getShape())
        w->add_shape(d);
      w->set_dtype(weightStorage.dtype(p.getType().getElementType(), p.getName()));
      if (weightSources)
        for (const std::string &source : weightSources(p.getName().str()))
          w->add_source_tensors(source);
      llvm::Expected<std::optional<dist::WeightShard>> shard = weightShardOf(p);
      if (!shard)
        throw makeError("weight '", p.getName().str(), "': ", llvm::toString(shard.takeError()));
      if (*shard) {
        exe::WeightShard *s = w->mutable_shard();
        for (int64_t g : (*shard)->gridShape)
          s->add_grid_shape(g);
        for (const std::vector<int64_t> &axes : (*shard)->splitAxes) {
          exe::WeightShard::Axes *entry = s->add_split_axes();
          for (int64_t a : axes)
            entry->add_axes(a);
        }
      }
      newBuffer(p, exe::Buffer::STORAGE_WEIGHT, e.weights_size() - 1, p.getName().str(), true);
    } else if (auto r = dyn_cast<ReshapeOp>(op)) {
      bufferOf[r.getResult()] = bufferOf.lookup(r.getInput());
    } else if (auto k = dyn_cast<KernelOp>(op)) {
      addKernel(k, kernelIndex, program.kernels[kernelIndex]);
      ++kernelIndex;
    } else if (!op.hasTrait<OpTrait::IsTerminator>()) {
      std::string loc;
      llvm::raw_string_ostream os(loc);
      op.getLoc().print(os);
      throw makeError(loc, ": '", op.getName().getStringRef().str(),
                      "' is left outside a kernel; the compiled paths run kernels, weights and "
                      "views only");
    }
  }
  addInterface(fn);
  if (auto arena = fn->getAttrOfType<IntegerAttr>("mm.arena_bytes"))
    e.set_arena_bytes(arena.getInt());
}

/// NVRTC-compiles the whole program for `arch` ("jit": leave it to the
/// runtime) and records each kernel's registers and spills.
void compileCudaObject(exe::Executable &e, const std::string &source, const std::string &arch) {
  e.set_cuda_source(source);
  e.set_cuda_scratch_slots(static_cast<uint32_t>(cudagen::ScratchSlot::Count));
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

CompileResult
compileFunction(ModuleOp module, const std::string &function, const CompileOptions &options,
                const std::function<std::vector<std::string>(const std::string &)> &weightSources,
                bool bf16CheckpointWeights) {
  MLIRContext &context = *module.getContext();
  context.disableMultithreading();    // --mlir-print-ir-after-all needs it
  context.printOpOnDiagnostic(false); // locations say where; whole functions would drown them
  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    if (d.getSeverity() == DiagnosticSeverity::Error) {
      d.getLocation().print(diagStream);
      diagStream << ": " << d << "\n";
      for (const Diagnostic &note : d.getNotes()) {
        note.getLocation().print(diagStream);
        diagStream << ": note: " << note << "\n";
      }
    }
    return success();
  });
  auto fail = [&](const std::string &stage) {
    return makeError("compiling @", function, " failed during ", stage, ":\n", diagnostics);
  };

  auto fn = module.lookupSymbol<func::FuncOp>(function);
  if (!fn || fn.isExternal())
    throw makeError("the module has no function @", function, " with a body");
  // Only `function` is compiled: the pipeline must not trip over the others.
  for (auto other : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
    if (other != fn)
      other.erase();

  bool cuda = options.target == CompileOptions::Target::CUDA;

  CompileResult result;
  if (failed(runPipeline(module, options, diagStream)))
    throw fail("mm-inference-pipeline");
  if (options.stopAt < CompilePhase::Sources) {
    result.finalIR = printed(module);
    return result;
  }
  auto shapes = SymbolicShapes::infer(fn);
  if (failed(shapes))
    throw fail("shape analysis");
  WeightStorage storage =
      WeightStorage::resolve(fn, options.weightDType, options.weightDTypeOf, bf16CheckpointWeights);
  auto program = generateKernels(fn, *shapes, cuda, storage);
  if (failed(program))
    throw fail(cuda ? "CUDA code generation" : "code generation");

  exe::Executable &e = result.executable;
  e.set_format_version(kExecutableFormatVersion);
  e.set_target(cuda ? exe::TARGET_CUDA : exe::TARGET_CPU);
  ExecutableBuilder(e, *shapes, storage).build(fn, *program, weightSources);
  for (size_t i = 0; i < program->kernels.size(); ++i)
    result.kernelSources.push_back(
        {llvm::formatv("k{0:3}_{1}.{2}", i, program->kernels[i].kind, cuda ? "cu" : "cpp").str(),
         program->kernels[i].file});
  if (const char *dump = std::getenv("MM_DUMP_SOURCE"))
    std::ofstream(dump) << program->source;
  result.finalIR = printed(module);
  if (options.stopAt == CompilePhase::Sources)
    return result;
  if (const char *dump = std::getenv("MM_DUMP_EXE"))
    writeExecutable(e, dump);
  if (cuda)
    compileCudaObject(e, program->source, options.cudaArch);
  else
    e.set_code_object(compileHostKernels(program->host));
  return result;
}

} // namespace mm
