//===- StepProgram.cpp ----------------------------------------------------===//
#include "training/StepProgram.h"
#include "codegen/Compile.h"
#include "ir/InitDialects.h"
#include "models/MiniMaxBuilder.h"
#include "passes/ModelParallelGrid.h"
#include "passes/Passes.h"
#include "reference/Executor.h"
#include "runtime/Error.h"
#include "runtime/compiled/CudaBackend.h"
#include "runtime/compiled/HostBackend.h"
#include "runtime/dist/Collectives.h"
#include "runtime/dist/WeightShard.h"
#include "runtime/executable/ExecutableFile.h"
#include "training/AtomicFile.h"
#include "training/ExecutableCache.h"
#include "training/TrainingLayout.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Shard/IR/ShardOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <cstring>
#include <ostream>
#include <map>
#include <set>

namespace mm::train {

TrainingStepOptions trainingStepOptions(const OptimizerOptions &optimizer,
                                        const std::string &function) {
  TrainingStepOptions update;
  update.function = function;
  update.beta1 = optimizer.beta1;
  update.beta2 = optimizer.beta2;
  update.epsilon = optimizer.epsilon;
  update.weightDecay = optimizer.weightDecay;
  update.maxGradNorm = optimizer.maxGradNorm;
  return update;
}

struct StepProgram::Impl {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<std::string> weightOrder; // the step's weight arguments, in order
  std::unique_ptr<HostBackend> host;
  std::unique_ptr<CudaBackend> cuda;
  std::unique_ptr<ReferenceExecutor> reference;
  int64_t batch, seqLen;
  unsigned inputs = 0, aux = 0; // @loss's arguments and its results after the loss
  int64_t ranks = 1;              // data-parallel ranks
  std::optional<double> replicaWeight; // the dp_weight argument, with weighReplicas
  std::set<std::string> slicedState; // ZeRO-1: weights whose moments are rows of this rank
  // Model parallelism: how the split weights (and their moments) are cut.
  std::map<std::string, dist::WeightShard> parts;
  // Context parallelism: the chunks of every sequence, and this rank's.
  int64_t chunks = 1, chunk = 0;
};

namespace {
/// Partitions @loss_train_step for `model` and records how each split weight
/// argument is cut (read off -mm-model-parallel's annotation of it before
/// the partition retypes it to the rank's part).
void partitionStep(mlir::ModuleOp module, mlir::func::FuncOp step, ModelParallelism model,
                   int64_t dataParallel, unsigned inputs, unsigned weights,
                   std::map<std::string, dist::WeightShard> &parts,
                   const std::string &diagnostics) {
  mlir::PassManager annotate(module.getContext());
  ModelParallelOptions options;
  options.tp = model.tp;
  options.ep = model.ep;
  options.etp = model.etp;
  options.dp = dataParallel;
  options.cp = model.cp;
  annotate.addPass(createModelParallel(options));
  if (failed(annotate.run(module)))
    throw makeError("splitting the training step for tp=", model.tp, " ep=", model.ep, " etp=",
                    model.etp, " cp=", model.cp, " failed:\n", diagnostics);
  // The weights' arguments (their moments' are cut alike).
  for (unsigned i = inputs; i < inputs + weights; ++i) {
    auto name = step.getArgAttrOfType<mlir::StringAttr>(i, "mm.name");
    for (mlir::Operation *user : step.getArgument(i).getUsers()) {
      auto annotated = llvm::dyn_cast<mlir::shard::ShardOp>(user);
      if (!annotated || annotated.getAnnotateForUsers() || !name)
        continue;
      auto sharding = annotated.getSharding().getDefiningOp<mlir::shard::ShardingOp>();
      auto grid = mlir::SymbolTable::lookupNearestSymbolFrom<mlir::shard::GridOp>(
          step, sharding.getGridAttr());
      dist::WeightShard shard;
      shard.gridShape.assign(grid.getShape().begin(), grid.getShape().end());
      shard.splitAxes.resize(
          llvm::cast<mlir::RankedTensorType>(step.getArgument(i).getType()).getRank());
      bool split = false;
      for (auto [d, axes] : llvm::enumerate(sharding.getSplitAxes().getAxes())) {
        shard.splitAxes[d].assign(axes.asArrayRef().begin(), axes.asArrayRef().end());
        split |= !axes.empty();
      }
      if (split) // (a whole weight is every rank's already)
        parts[name.str()] = shard;
    }
  }
  mlir::PassManager partition(module.getContext());
  buildPartitionPipeline(partition);
  if (failed(partition.run(module)))
    throw makeError("partitioning the training step for tp=", model.tp, " ep=", model.ep,
                    " etp=", model.etp, " cp=", model.cp, " failed:\n", diagnostics);
}
} // namespace

StepProgram::StepProgram(const MiniMaxConfig &config, const OptimizerOptions &optimizer,
                         StepBackend backend, int64_t batch, int64_t seqLen,
                         const std::string &cacheDir, std::ostream &log,
                         const std::string &emitIR,
                         const std::optional<MiniMaxGraphOptions::PolicyObjective> &policy,
                         int64_t dataParallel, bool zero1, ModelParallelism model,
                         bool weighReplicas)
    : impl(std::make_unique<Impl>()) {
  bool tensorParallel = model.tp > 1 || model.ep > 1 || model.etp > 1;
  bool modelParallel = tensorParallel || model.cp > 1;
  if (model.cp < 1 || (tensorParallel && (model.tp < 2 || model.ep < 1 || model.etp < 1 ||
                                          model.tp % (model.ep * model.etp) != 0)))
    throw makeError("tp=", model.tp, " ep=", model.ep, " etp=", model.etp,
                    ": the experts split inside the tensor-parallel group (ep x etp divides tp, "
                    "tp above 1)");
  impl->batch = batch;
  impl->seqLen = seqLen;
  mlir::DialectRegistry registry;
  registerDialects(registry);
  impl->context.appendDialectRegistry(registry);
  impl->context.loadAllAvailableDialects();
  MiniMaxGraphOptions graph;
  graph.training = true;
  graph.allLogits = true;
  graph.policy = policy;
  graph.kvHeadReplicas = minimaxKvHeadReplicas(config, model.tp);
  impl->module = buildMiniMaxModule(impl->context, config, graph);
  TrainingStepOptions update = trainingStepOptions(optimizer, kLossFunction);
  if (dataParallel > 1) {
    // The step averages over the data-parallel ranks: a 1-d grid of them,
    // or the leading axis of the model-parallel grid (dp replicas of the
    // tp group), which -mm-model-parallel then splits the weights over.
    mlir::OpBuilder b(&impl->context);
    b.setInsertionPointToStart(impl->module->getBody());
    llvm::SmallVector<int64_t> shape{dataParallel};
    std::string grid = "dp";
    if (modelParallel) {
      shape = modelParallelGrid(dataParallel, model.tp, model.ep, model.etp, model.cp).shape;
      grid = kModelParallelGrid.str();
    }
    mlir::shard::GridOp::create(b, impl->module->getLoc(), grid, shape);
    update.dpGrid = grid;
    update.dpAxis = 0;
    update.zero1 = zero1;
    update.dpWeight = weighReplicas;
    if (weighReplicas)
      impl->replicaWeight = 1.0 / double(dataParallel);
    // (The tags that split: ZeRO-1 leaves their dim-0 parts' moments whole.)
    if (model.tp > 1)
      update.splitTags = {"mm.tp_dim", "mm.vocab_dim"};
    if (model.ep > 1)
      update.splitTags.push_back("mm.ep_dim");
    if (model.etp > 1)
      update.splitTags.push_back("mm.etp_dim");
  }
  impl->ranks = dataParallel;
  impl->chunks = model.cp;
  // (Ranks in order tp fastest, then cp, then dp: ParallelLayout::dense.)
  impl->chunk = (dist::world().rank() / model.tp) % model.cp;

  std::string diagnostics;
  llvm::raw_string_ostream diagStream(diagnostics);
  mlir::ScopedDiagnosticHandler handler(&impl->context, [&](mlir::Diagnostic &d) {
    diagStream << d.getLocation() << ": " << d.str() << "\n";
    return mlir::success();
  });
  mlir::PassManager pm(&impl->context);
  AutoDiffOptions autodiff;
  autodiff.function = kLossFunction;
  if (optimizer.recompute)
    autodiff.recomputePrefix = "layers";
  pm.addPass(createAutoDiff(autodiff));
  pm.addPass(createTrainingStep(update));
  if (failed(pm.run(*impl->module)))
    throw makeError("deriving the training step failed:\n", diagnostics);
  auto step = impl->module->lookupSymbol<mlir::func::FuncOp>("loss_train_step");
  // Arguments: @loss's inputs, weights, first and second moments, lr, step.
  auto loss = impl->module->lookupSymbol<mlir::func::FuncOp>(kLossFunction);
  impl->inputs = loss.getNumArguments();
  impl->aux = loss.getNumResults() - 1;
  unsigned weights = (step.getNumArguments() - impl->inputs - 2) / 3;
  if (modelParallel) {
    // Only the step runs; @loss and @loss_grad need no partition.
    for (llvm::StringRef name : {"loss_grad", "loss"})
      impl->module->lookupSymbol<mlir::func::FuncOp>(name).erase();
    partitionStep(*impl->module, step, model, dataParallel, impl->inputs, weights, impl->parts,
                  diagnostics);
  }
  if (!emitIR.empty()) {
    std::string text;
    llvm::raw_string_ostream os(text);
    impl->module->print(os);
    writeFileAtomically(emitIR, text);
  }
  for (unsigned i = 0; i < weights; ++i) {
    impl->weightOrder.push_back(
        step.getArgAttrOfType<mlir::StringAttr>(impl->inputs + i, "mm.name").str());
    // A first moment narrower than its weight holds this rank's rows.
    if (step.getArgumentTypes()[impl->inputs + weights + i] !=
        step.getArgumentTypes()[impl->inputs + i])
      impl->slicedState.insert(impl->weightOrder.back());
    // (ZeRO-1 rows are rows of a part split along another dim; the split
    // tags given -mm-training-step keep it so. keepOwnState relies on it.)
    auto part = impl->parts.find(impl->weightOrder.back());
    if (impl->slicedState.count(impl->weightOrder.back()) && part != impl->parts.end() &&
        !part->second.splitAxes.front().empty())
      throw makeError("internal: the ZeRO-1 moments of '", impl->weightOrder.back(),
                      "' are rows of a weight split along its rows too");
  }

  WeightBinder none = [](const std::string &name, const Shape &, DType) -> Tensor {
    throw makeError("the training step reads weight '", name, "' as an argument, not a binding");
  };
  if (backend == StepBackend::Reference) {
    impl->reference = std::make_unique<ReferenceExecutor>(
        step, none, ExecutorOptions{DType::F32, ref::LightningMode::Blockwise});
    return;
  }
  CompileOptions options;
  options.symbolMax = {{"B", batch}, {"T", seqLen}};
  const bool gpu = backend == StepBackend::CUDA;
  if (gpu) {
    options.target = CompileOptions::Target::CUDA;
    options.cudaArch = "jit"; // compiled for the GPU found, when loaded
  }
  // The compiled step is cached by a hash of its IR, sizes and target.
  std::string ir;
  llvm::raw_string_ostream irStream(ir);
  step.print(irStream);
  std::string key =
      ir + "|B=" + std::to_string(batch) + "|T=" + std::to_string(seqLen) + (gpu ? "|cuda" : "");
  exe::Executable executable =
      cachedExecutable(cacheDir, gpu ? "train_step_cuda" : "train_step", key, [&] {
        log << "mm-train: compiling the training step (forward, backward and AdamW) for "
            << (gpu ? "CUDA" : "the host") << "\n";
        try {
          return compileFunction(*impl->module, "loss_train_step", options).executable;
        } catch (const std::exception &e) {
          throw makeError("compiling the training step failed: ", e.what(), "\n", diagnostics);
        }
      });
  if (gpu)
    impl->cuda = std::make_unique<CudaBackend>(std::move(executable), none);
  else
    impl->host = std::make_unique<HostBackend>(std::move(executable), none);
}

StepProgram::~StepProgram() = default;

Tensor columns(const Tensor &whole, int64_t begin, int64_t count) {
  if (whole.rank() != 2 || begin < 0 || begin + count > whole.dim(1))
    throw makeError("columns [", begin, ", ", begin + count, ") of a ",
                    formatShape(whole.shape()), " tensor");
  Tensor part = Tensor::empty(whole.dtype(), {whole.dim(0), count});
  size_t element = dtypeSize(whole.dtype());
  for (int64_t r = 0; r < whole.dim(0); ++r)
    std::memcpy(static_cast<char *>(part.raw()) + r * count * element,
                static_cast<const char *>(whole.raw()) + (r * whole.dim(1) + begin) * element,
                count * element);
  return part;
}

Tensor leadingRows(const Tensor &whole, int64_t begin, int64_t count) {
  Shape shape = whole.shape();
  shape[0] = count;
  Tensor part = Tensor::empty(whole.dtype(), shape);
  std::memcpy(part.raw(), static_cast<const char *>(whole.raw()) + begin * (part.nbytes() / count),
              part.nbytes());
  return part;
}

void StepProgram::keepOwnState(TrainingState &state) const {
  for (const auto &[name, shard] : impl->parts)
    for (TensorMap *group : {&state.weights, &state.firstMoments, &state.secondMoments})
      (*group)[name] = shard.partOf(group->at(name), dist::world().rank());
  // Then the dp rows (of the part, under model parallelism).
  int64_t dpIndex = replicaOf(impl->ranks);
  for (const std::string &name : impl->slicedState)
    for (TensorMap *moments : {&state.firstMoments, &state.secondMoments}) {
      const Tensor &whole = moments->at(name);
      int64_t rows = whole.dim(0) / impl->ranks;
      (*moments)[name] = leadingRows(whole, dpIndex * rows, rows);
    }
}

TrainingState StepProgram::wholeState(const TrainingState &state) const {
  TrainingState whole = state;
  std::vector<int> replicas;
  if (!impl->slicedState.empty())
    replicas = dist::gridGroup({impl->ranks, dist::world().size() / impl->ranks}, {0},
                               dist::world().rank(), dist::world().size());
  for (const std::string &name : impl->slicedState)
    for (TensorMap *moments : {&whole.firstMoments, &whole.secondMoments}) {
      const Tensor &mine = moments->at(name);
      Shape shape = mine.shape();
      shape[0] *= impl->ranks;
      Tensor all = Tensor::empty(mine.dtype(), shape);
      dist::world().allGather(mine.raw(), all.raw(), mine.numel(), mine.dtype(), replicas,
                              "gathering the AdamW moments of '" + name + "' for a checkpoint");
      (*moments)[name] = all;
    }
  // A weight's moments are cut as the weight is.
  for (TensorMap *group : {&whole.weights, &whole.firstMoments, &whole.secondMoments})
    *group = wholeWeights(*group);
  return whole;
}

TensorMap StepProgram::wholeWeights(const TensorMap &weights) const {
  TensorMap whole = weights;
  for (const auto &[name, shard] : impl->parts)
    whole[name] = shard.wholeOf(weights.at(name), dist::world(),
                                "gathering the parts of '" + name + "' from the ranks");
  return whole;
}

bool StepProgram::splitsState() const {
  return !impl->parts.empty() || !impl->slicedState.empty();
}

uint64_t StepProgram::weightBytes(const TrainingState &state) {
  uint64_t bytes = 0;
  for (const auto &[name, t] : state.weights)
    bytes += t.nbytes();
  return bytes;
}

uint64_t StepProgram::optimizerStateBytes(const TrainingState &state) const {
  uint64_t bytes = 0;
  for (const TensorMap *moments : {&state.firstMoments, &state.secondMoments})
    for (const auto &[name, t] : *moments)
      bytes += t.nbytes();
  return bytes;
}

uint64_t StepProgram::arenaBytes() const { return impl->host ? impl->host->arenaBytes() : 0; }

const std::vector<std::string> &StepProgram::weightNames() const { return impl->weightOrder; }

void StepProgram::setReplicaWeight(double weight) {
  if (!impl->replicaWeight)
    throw makeError("the training step has no replica weight (built without weighReplicas)");
  impl->replicaWeight = weight;
}

StepProgram::Result StepProgram::run(const Tensor &ids, const Tensor &labels, TrainingState &state,
                                     double lr, int64_t step) {
  Tensor positions = Tensor::empty(DType::I64, ids.shape());
  int64_t *p = positions.data<int64_t>();
  for (int64_t b = 0; b < ids.dim(0); ++b)
    for (int64_t t = 0; t < ids.dim(1); ++t)
      p[b * ids.dim(1) + t] = t;
  if (impl->chunks == 1)
    return run({ids, labels, positions}, state, lr, step);
  // Context parallel: this rank's chunk of every sequence.
  if (ids.dim(1) % impl->chunks != 0)
    throw makeError("a sequence of ", ids.dim(1), " tokens does not split into cp=", impl->chunks,
                    " equal chunks");
  int64_t width = ids.dim(1) / impl->chunks, first = impl->chunk * width;
  return run({columns(ids, first, width), columns(labels, first, width),
              columns(positions, first, width)},
             state, lr, step);
}

StepProgram::Result StepProgram::run(std::vector<Tensor> args, TrainingState &state, double lr,
                                     int64_t step) {
  if (args.size() != impl->inputs)
    throw makeError("the training step takes ", impl->inputs, " inputs, got ", args.size());
  for (TensorMap *group : {&state.weights, &state.firstMoments, &state.secondMoments})
    for (const std::string &name : impl->weightOrder)
      args.push_back(group->at(name));
  args.push_back(Tensor::fromVector<float>({}, {static_cast<float>(lr)}));
  args.push_back(Tensor::fromVector<float>({}, {static_cast<float>(step)}));
  if (impl->replicaWeight)
    args.push_back(Tensor::fromVector<float>({}, {static_cast<float>(*impl->replicaWeight)}));
  std::vector<Tensor> out = impl->host   ? impl->host->call(std::move(args))
                            : impl->cuda ? impl->cuda->call(std::move(args))
                                         : impl->reference->run(std::move(args));
  auto scalar = [](const Tensor &t) {
    return t.dtype() == DType::F64 ? t.data<double>()[0] : double(t.to(DType::F32).data<float>()[0]);
  };
  Result r{scalar(out[0]), scalar(out[1]), {}};
  for (unsigned i = 0; i < impl->aux; ++i)
    r.aux.push_back(out[2 + i].to(DType::F32));
  if (!std::isfinite(r.loss) || !std::isfinite(r.gradNorm))
    return r;
  size_t i = 2 + impl->aux;
  for (TensorMap *group : {&state.weights, &state.firstMoments, &state.secondMoments})
    for (const std::string &name : impl->weightOrder)
      (*group)[name] = out[i++].to(DType::F32);
  return r;
}

} // namespace mm::train
