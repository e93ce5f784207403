//===- ChildPrograms.h - compiled children of an AMER supernet, cached -*- C++ -*-===//
//
// A child architecture runs as two compiled programs: its training step
// (-mm-autodiff, then -mm-training-step with one step count per weight, so
// the weights a path skips keep theirs, as PyTorch's Adam does) and its
// scoring forward. Children are cached by their choice vector in memory (the
// most recent `capacity`), and their executables on disk by a hash of their
// IR, so a child seen before never compiles again. The weights live in a
// WeightStore shared by every child: weight sharing by name.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_AMER_CHILDPROGRAMS_H
#define MM_TRAINING_AMER_CHILDPROGRAMS_H

#include "models/AmerBuilder.h"
#include "training/amer/AmerData.h"
#include "runtime/Tensor.h"
#include "runtime/compiled/HostBackend.h"
#include "training/StepProgram.h"

#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mlir {
class MLIRContext;
}

namespace mm::amer {

/// AdamW as PyTorch's, CHOICE: no weight decay, clipping at global norm 5.
inline train::OptimizerOptions amerOptimizer() {
  train::OptimizerOptions o;
  o.weightDecay = 0.0;
  o.maxGradNorm = 5.0;
  return o;
}

/// Weights with their AdamW moments and per-weight step counts. A weight is
/// initialised the first time a child uses it, from (seed, its name): the
/// values do not depend on the order children are met.
/// CHOICE: embeddings U(+-embeddingBound) (below); matrices and convolutions
/// PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)); biases 0; norm gains 1.
class WeightStore {
public:
  /// Embeddings start U(+-embeddingBound), the bound a model asks for
  /// (embeddingBoundFor); sqrt(3), unit variance, when none is given.
  explicit WeightStore(uint64_t seed, double embeddingBound = kUnitVarianceBound)
      : seed(seed), embeddingBound(embeddingBound) {}
  static constexpr double kUnitVarianceBound = 1.7320508075688772; // sqrt(3)
  /// The embedding bound a model starts from: `requestedStd * sqrt 3` when
  /// given (> 0, `--embedding-std`), else the model's own. Peer libraries
  /// start embeddings small, and so does mmc: std 0.02, RecBole's N(0, 0.02)
  /// (its SASRec; Kang & McAuley's code uses Glorot's, std 0.034 on
  /// ML-100K), for every model, the searched one included; DeepFM at std
  /// 1e-4, as DeepCTR and FuxiCTR, since its FM term squares sums of
  /// embeddings. At unit variance (nn.Embedding's N(0, 1)) an MLP fitted
  /// MovieLens-100K ctr to test AUC 0.737 against 0.794; at 1e-4 the short
  /// planted stage-1 search no longer found the order-aware conv3
  /// (docs/amer.md, Weights).
  static double embeddingBoundFor(const std::string &baseline, double requestedStd = 0);
  /// The weight `name` of `shape`, created if new. A name met again with
  /// another shape is an error (the builders keep shapes per name).
  Tensor &weight(const std::string &name, const Shape &shape);
  Tensor &firstMoment(const std::string &name) { return m.at(name); }
  Tensor &secondMoment(const std::string &name) { return v.at(name); }
  int64_t &steps(const std::string &name) { return stepCount.at(name); }
  bool has(const std::string &name) const { return w.count(name) != 0; }
  const std::map<std::string, Tensor> &weights() const { return w; }

private:
  uint64_t seed;
  double embeddingBound;
  std::map<std::string, Tensor> w, m, v;
  std::map<std::string, int64_t> stepCount;
};

/// Builds a child's module for a program (specialised, selectors dropped).
using ChildBuilder = std::function<mlir::OwningOpRef<mlir::ModuleOp>(Program)>;

/// One child; each of its programs is compiled the first time it is used.
struct Child {
  std::string key;
  ChildBuilder build;
  std::unique_ptr<HostBackend> step, score;
  std::vector<std::string> weightNames; // the step's weights, in order
  std::vector<Shape> weightShapes;
  int64_t parameters = 0;
  double compileSeconds = 0; // spent compiling (0 when both came from the disk cache)
};

class ChildPrograms {
public:
  ChildPrograms(mlir::MLIRContext &context, const train::OptimizerOptions &optimizer, int64_t batch,
                int64_t evalBatch, std::string cacheDir, size_t capacity = 48);
  ~ChildPrograms();

  /// The child for `key` (its choice vector); `build` makes its modules
  /// when a program is first needed.
  Child &get(const std::string &key, const ChildBuilder &build);

  /// One AdamW step of `child` on `inputs` (the @loss arguments); returns the
  /// loss. Updates only the child's weights. A NaN loss leaves them as they were.
  double train(Child &child, WeightStore &store, std::vector<Tensor> inputs, double lr);
  /// The logit of every row, in batches of at most evalBatch.
  std::vector<float> score(Child &child, WeightStore &store, const Rows &rows);

  /// Children asked for; programs compiled and loaded from the disk cache.
  int64_t requests() const { return requests_; }
  int64_t compiled() const { return compiled_; }
  int64_t diskHits() const { return diskHits_; }
  double compileSeconds() const { return compileSeconds_; }

private:
  void compileStep(Child &child);
  void compileScore(Child &child);
  exe::Executable compile(Child &child, mlir::ModuleOp module, const std::string &fn,
                          int64_t maxBatch, const char *what);

  mlir::MLIRContext &context;
  train::OptimizerOptions optimizer;
  int64_t batch, evalBatch;
  std::string cacheDir;
  size_t capacity;
  std::list<std::pair<std::string, std::unique_ptr<Child>>> recent; // most recent first
  int64_t requests_ = 0, compiled_ = 0, diskHits_ = 0;
  double compileSeconds_ = 0;
};

} // namespace mm::amer

#endif // MM_TRAINING_AMER_CHILDPROGRAMS_H
