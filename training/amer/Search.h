//===- Search.h - AMER's three-stage one-shot random search ---*- C++ -*-===//
//
// For each stage in turn, the earlier ones frozen at their winners:
//   1. build the stage's supernet (models/AmerBuilder) from a fresh
//      initialisation;
//   2. train it, one child path sampled uniformly per minibatch, each child
//      a specialised, compiled program (ChildPrograms), weights shared;
//   3. score K sampled children on validation data with the supernet's weights;
//   4. keep the best (optionally retrain the top R from scratch, pick among
//      them by validation), freeze it.
// Stage 2 runs one round per order 2..maxOrder: order-k candidates are the
// chosen order-(k-1) groups grown by one field; a round that adds nothing
// ends the stage. `train()` trains one architecture or baseline from scratch
// with early stopping on validation and reports test metrics.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_AMER_SEARCH_H
#define MM_TRAINING_AMER_SEARCH_H

#include "models/AmerBuilder.h"
#include "training/RecsysMetrics.h"
#include "training/amer/AmerData.h"
#include "training/amer/ChildPrograms.h"

#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace mm::amer {

struct RunOptions {
  Task task = Task::Ctr;
  uint64_t seed = 0;
  int64_t epochs = 2;       // supernet epochs per stage (search), or the most (eval)
  int64_t children = 16;    // K children scored per stage (per round in stage 2)
  int64_t retrainTop = 0;   // R: retrain the best R from scratch before choosing
  int64_t interactionContexts = 4; // stage 2: sets each candidate is scored added to
  int64_t patience = 2;     // eval: epochs without improvement before stopping
  int64_t batch = 256, evalBatch = 1024;
  double lr = 1e-3;
  int64_t embed = 16;
  double embeddingStd = 0; // > 0: embeddings start at this std, else the model's own
  train::OptimizerOptions optimizer = amerOptimizer();
  SearchSpace space;
  std::string cacheDir;     // compiled children (empty: none on disk)
  bool terminal = false;    // progress bars, else plain lines
};

/// Validation or test metrics: ctr auc, logloss; seq hr@10, ndcg@10.
struct Metrics {
  std::map<std::string, double> values;
  double primary = 0; // auc (ctr) or ndcg@10 (seq): higher is better
  // Per-row evidence for paired comparisons (pairedStandardError).
  train::AucComponents auc;      // ctr
  std::vector<double> ndcgTerms; // seq: per target
};
Metrics evaluate(const Data &data, const Rows &rows, const std::vector<float> &logits);

/// One evaluated child of the search (a row of search.csv).
struct Evaluated {
  int stage = 0, round = 0;
  std::string key;
  Architecture arch;
  double validation = 0;
  int64_t parameters = 0;
  double compileSeconds = 0;
  bool retrained = false;
};

/// One stage-2 round's evidence (summary.json): the candidates by name,
/// best mean gain first, and those kept.
struct InteractionRound {
  int64_t order = 0, contexts = 0;
  std::vector<std::pair<std::string, double>> meanGains;
  std::vector<std::string> kept;
};

struct SearchResult {
  Architecture arch;
  std::vector<Evaluated> evaluated;
  std::vector<InteractionRound> interactionRounds;
  double seconds = 0;
  int64_t childRequests = 0, childCompiles = 0, diskHits = 0;
  double compileSeconds = 0;
};

/// Stage 2's decision in one round (CHOICE, docs/amer.md). gains[j][c]:
/// the validation gain of adding candidate c to context set j (NaN where c
/// is part of that set). Candidates are ranked by their mean gain over the
/// contexts that lack them (ties: lower index first); then the prefixes of
/// that ranking, sizes `minimum`..room, are scored as sets by `scoreSet`
/// (size 0: the fixed set by itself). The one-standard-error rule (Breiman
/// et al., CART, 1984) keeps the smallest prefix whose score is within
/// `noise(size, best size)`, the standard error of their paired difference,
/// of the best prefix's: a larger set must beat a smaller one by more than
/// the validation set can resolve. With noise 0 the best prefix is kept
/// (ties keep the smaller).
struct InteractionChoice {
  std::vector<double> meanGain; // [candidate]; -inf when no context lacks it
  std::vector<size_t> ranking;  // candidates, best mean gain first
  std::vector<size_t> kept;     // the kept prefix of `ranking`
};
InteractionChoice
chooseInteractions(const std::vector<std::vector<double>> &gains, int64_t room, int64_t minimum,
                   const std::function<double(const std::vector<size_t> &)> &scoreSet,
                   const std::function<double(int64_t, int64_t)> &noise);

/// The standard error of a.primary - b.primary, two scorers of the same
/// validation rows: DeLong's paired AUC error (ctr) or the paired error of
/// the per-target NDCG@10 terms (seq).
double pairedStandardError(const Metrics &a, const Metrics &b);

SearchResult search(const Data &data, const std::vector<int> &stages, const RunOptions &options,
                    std::ostream &log);

struct TrainResult {
  Metrics validation, test;
  int64_t epochs = 0, parameters = 0;
  double seconds = 0;
};

/// Trains `arch` (or, with `baseline` non-empty, that baseline) from scratch.
TrainResult trainFromScratch(const Data &data, const Architecture &arch,
                             const std::string &baseline, const RunOptions &options,
                             std::ostream &log);

/// The child `arch` of the stage-`spec.stage` supernet: built,
/// specialised by -mm-specialize-choices (every choice assigned),
/// canonicalised, its selectors dropped. Stage 0: `arch` built directly.
mlir::OwningOpRef<mlir::ModuleOp> specialisedChild(mlir::MLIRContext &context,
                                                   const DataShape &shape,
                                                   const SearchSpace &space,
                                                   const SupernetSpec &spec,
                                                   const Architecture &arch, Program program);

/// architecture.json: the choice at every choice point, the chosen
/// interaction sets by field name.
std::string architectureJson(const Architecture &arch, const DataShape &shape,
                             const SearchSpace &space, const std::string &task);
/// Reads it back; errors name the file and the field.
Architecture readArchitecture(const std::string &path, const DataShape &shape,
                              const SearchSpace &space);

/// The readable @score of `arch`.
std::string childIR(const Architecture &arch, const DataShape &shape, const SearchSpace &space);

} // namespace mm::amer

#endif // MM_TRAINING_AMER_SEARCH_H
