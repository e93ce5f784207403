//===- ChildPrograms.cpp --------------------------------------------------===//
#include "training/amer/ChildPrograms.h"
#include "codegen/Compile.h"
#include "ir/MMOps.h"
#include "passes/Passes.h"
#include "runtime/Error.h"
#include "training/ExecutableCache.h"
#include "training/StepProgram.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cmath>
#include <random>

namespace mm::amer {

// ---- weights ----

static uint64_t nameHash(const std::string &s, uint64_t h) {
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

static bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Tensor &WeightStore::weight(const std::string &name, const Shape &shape) {
  auto it = w.find(name);
  if (it != w.end()) {
    if (it->second.shape() != shape)
      throw makeError("AMER weight '", name, "' is ", formatShape(it->second.shape()),
                      " but a child reads it as ", formatShape(shape));
    return it->second;
  }
  m[name] = Tensor::zeros(DType::F32, shape);
  v[name] = Tensor::zeros(DType::F32, shape);
  stepCount[name] = 0;
  Tensor t = Tensor::zeros(DType::F32, shape);
  float *p = t.data<float>();
  int64_t n = t.numel(), fanIn = 1;
  for (size_t d = 1; d < shape.size(); ++d)
    fanIn *= shape[d];
  double bound =
      name.find("emb") != std::string::npos ? embeddingBound : 1.0 / std::sqrt(double(fanIn));
  // mt19937_64 is specified exactly; the uniform is formed by hand (the
  // standard distributions' algorithms are the library's).
  std::mt19937_64 rng(nameHash(name, 1469598103934665603ull ^ seed));
  for (int64_t i = 0; i < n; ++i) {
    if (endsWith(name, ".gain"))
      p[i] = 1.0f;
    else if (!endsWith(name, ".bias"))
      p[i] = float(bound * (2.0 * double(rng() >> 11) * 0x1.0p-53 - 1.0));
  }
  return w[name] = std::move(t);
}

double WeightStore::embeddingBoundFor(const std::string &baseline, double requestedStd) {
  if (requestedStd > 0)
    return requestedStd * kUnitVarianceBound;
  return (baseline == "deepfm" ? 1e-4 : 0.02) * kUnitVarianceBound;
}

// ---- compiled children ----

ChildPrograms::ChildPrograms(mlir::MLIRContext &context, const train::OptimizerOptions &optimizer,
                             int64_t batch, int64_t evalBatch, std::string cacheDir,
                             size_t capacity)
    : context(context), optimizer(optimizer), batch(batch), evalBatch(evalBatch),
      cacheDir(std::move(cacheDir)), capacity(capacity) {}

ChildPrograms::~ChildPrograms() = default;

static std::string printed(mlir::Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->print(os);
  return s;
}

Child &ChildPrograms::get(const std::string &key, const ChildBuilder &build) {
  ++requests_;
  for (auto it = recent.begin(); it != recent.end(); ++it)
    if (it->first == key) {
      recent.splice(recent.begin(), recent, it);
      return *recent.front().second;
    }
  auto child = std::make_unique<Child>();
  child->key = key;
  child->build = build;
  recent.emplace_front(key, std::move(child));
  if (recent.size() > capacity)
    recent.pop_back();
  return *recent.front().second;
}

/// Collects the diagnostics of a pass pipeline for its error message.
struct Diagnostics {
  explicit Diagnostics(mlir::MLIRContext &context)
      : stream(text), handler(&context, [this](mlir::Diagnostic &d) {
          stream << d.getLocation() << ": " << d.str() << "\n";
          return mlir::success();
        }) {}
  std::string text;
  llvm::raw_string_ostream stream;
  mlir::ScopedDiagnosticHandler handler;
};

exe::Executable ChildPrograms::compile(Child &child, mlir::ModuleOp module, const std::string &fn,
                                       int64_t maxBatch, const char *what) {
  CompileOptions options;
  options.symbolMax = {{"B", maxBatch}};
  std::string ir = printed(module.lookupSymbol(fn)) + "|B=" + std::to_string(maxBatch);
  auto start = std::chrono::steady_clock::now();
  bool compiledNow = false;
  exe::Executable e = train::cachedExecutable(cacheDir, what, ir, [&] {
    compiledNow = true;
    try {
      return compileFunction(module, fn, options).executable;
    } catch (const std::exception &err) {
      throw makeError("AMER child ", child.key, ": compiling @", fn, " failed: ", err.what());
    }
  });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (compiledNow) {
    ++compiled_;
    child.compileSeconds += seconds;
    compileSeconds_ += seconds;
  } else {
    ++diskHits_;
  }
  return e;
}

void ChildPrograms::compileStep(Child &child) {
  Diagnostics diagnostics(context);
  mlir::OwningOpRef<mlir::ModuleOp> loss = child.build(Program::Loss);
  mlir::PassManager pm(&context);
  AutoDiffOptions autodiff;
  autodiff.function = kLossFunction;
  TrainingStepOptions update = train::trainingStepOptions(optimizer, kLossFunction);
  update.perWeightStep = true;
  pm.addPass(createAutoDiff(autodiff));
  pm.addPass(createTrainingStep(update));
  if (failed(pm.run(*loss)))
    throw makeError("AMER child ", child.key, ": deriving the training step failed:\n",
                    diagnostics.text);
  std::string stepName = std::string(kLossFunction) + "_train_step";
  auto stepFn = loss->lookupSymbol<mlir::func::FuncOp>(stepName);
  // Arguments: @loss's, then weights, first and second moments, lr, steps.
  unsigned inputs = loss->lookupSymbol<mlir::func::FuncOp>(kLossFunction).getNumArguments();
  unsigned weights = (stepFn.getNumArguments() - inputs - 1) / 4;
  child.weightNames.clear();
  child.weightShapes.clear();
  child.parameters = 0;
  for (unsigned i = 0; i < weights; ++i) {
    child.weightNames.push_back(stepFn.getArgAttrOfType<mlir::StringAttr>(inputs + i, "mm.name").str());
    auto type = llvm::cast<mlir::RankedTensorType>(stepFn.getArgumentTypes()[inputs + i]);
    child.weightShapes.push_back(Shape(type.getShape().begin(), type.getShape().end()));
    child.parameters += type.getNumElements();
  }
  WeightBinder none = [](const std::string &name, const Shape &, DType) -> Tensor {
    throw makeError("the AMER training step reads weight '", name, "' as an argument");
  };
  child.step = std::make_unique<HostBackend>(compile(child, *loss, stepName, batch, "amer-step"), none);
}

void ChildPrograms::compileScore(Child &child) {
  mlir::OwningOpRef<mlir::ModuleOp> score = child.build(Program::Score);
  // Count the weights the score reads once dead code is gone: the builders
  // embed every input, and a model that ignores the fields (SASRec) would
  // otherwise count the field table.
  mlir::PassManager pm(&context);
  pm.addPass(mlir::createCanonicalizerPass());
  if (failed(pm.run(*score)))
    throw makeError("AMER child ", child.key, ": canonicalising @score failed");
  std::map<std::string, int64_t> sizes; // each weight once, however often it is read
  score->walk([&](ParamOp p) { sizes[p.getName().str()] = p.getType().getNumElements(); });
  child.parameters = 0;
  for (const auto &[name, n] : sizes)
    child.parameters += n;
  // Weights are bound as zeros here and rebound from the store before each use.
  WeightBinder zeros = [](const std::string &, const Shape &shape, DType) {
    return Tensor::zeros(DType::F32, shape);
  };
  child.score = std::make_unique<HostBackend>(
      compile(child, *score, kScoreFunction, evalBatch, "amer-score"), zeros);
}

double ChildPrograms::train(Child &child, WeightStore &store, std::vector<Tensor> args, double lr) {
  if (!child.step)
    compileStep(child);
  for (size_t i = 0; i < child.weightNames.size(); ++i)
    args.push_back(store.weight(child.weightNames[i], child.weightShapes[i]));
  for (const std::string &name : child.weightNames)
    args.push_back(store.firstMoment(name));
  for (const std::string &name : child.weightNames)
    args.push_back(store.secondMoment(name));
  args.push_back(Tensor::fromVector<float>({}, {float(lr)}));
  for (const std::string &name : child.weightNames)
    args.push_back(Tensor::fromVector<float>({}, {float(store.steps(name) + 1)}));
  std::vector<Tensor> out = child.step->call(std::move(args));
  double loss = out[0].data<float>()[0], norm = out[1].data<float>()[0];
  if (!std::isfinite(loss) || !std::isfinite(norm))
    return loss;
  size_t n = child.weightNames.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string &name = child.weightNames[i];
    store.weight(name, child.weightShapes[i]) = std::move(out[2 + i]);
    store.firstMoment(name) = std::move(out[2 + n + i]);
    store.secondMoment(name) = std::move(out[2 + 2 * n + i]);
    ++store.steps(name);
  }
  return loss;
}

std::vector<float> ChildPrograms::score(Child &child, WeightStore &store, const Rows &rows) {
  if (!child.score)
    compileScore(child);
  child.score->rebindWeights([&](const std::string &name, const Shape &shape, DType) {
    return store.weight(name, shape);
  });
  std::vector<float> logits;
  logits.reserve(rows.count);
  for (int64_t begin = 0; begin < rows.count; begin += evalBatch) {
    int64_t end = std::min(rows.count, begin + evalBatch);
    std::vector<Tensor> out = child.score->call(rows.batch(begin, end, false));
    const float *p = out[0].data<float>();
    logits.insert(logits.end(), p, p + (end - begin));
  }
  return logits;
}

} // namespace mm::amer
