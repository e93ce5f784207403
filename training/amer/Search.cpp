//===- Search.cpp ---------------------------------------------------------===//
#include "training/amer/Search.h"
#include "ir/InitDialects.h"
#include "passes/Passes.h"
#include "runtime/Error.h"
#include "training/RecsysMetrics.h"
#include "training/amer/Random.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/raw_ostream.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

namespace mm::amer {

namespace {

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  registerDialects(registry);
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  context->loadAllAvailableDialects();
  return context;
}

std::string keyOf(const std::map<std::string, int64_t> &choices) {
  std::string key;
  for (const auto &[name, index] : choices)
    key += (key.empty() ? "" : ",") + name + "=" + std::to_string(index);
  return key.empty() ? "child" : key;
}

ChildBuilder childBuilder(mlir::MLIRContext &context, const DataShape &shape,
                          const SearchSpace &space, const SupernetSpec &spec,
                          const Architecture &arch) {
  assignment(shape, space, spec, arch); // refuses an architecture outside the supernet now
  return [&context, shape, space, spec, arch](Program program) {
    return specialisedChild(context, shape, space, spec, arch, program);
  };
}

/// A child of the stage-`spec.stage` supernet, uniformly at random: every
/// choice point independently uniform over its candidates (stage 2: the
/// number of added groups uniform, then the groups).
Architecture sampleChild(const SupernetSpec &spec, const SearchSpace &space, int64_t fields,
                         SplitMix &rng) {
  Architecture a = spec.fixed;
  if (spec.stage == 1) {
    int64_t n = space.minBlocks + int64_t(rng.below(uint64_t(space.maxBlocks - space.minBlocks + 1)));
    a.blocks.assign(n, Block{});
    for (Block &b : a.blocks) {
      b.layerNorm = rng.below(2) == 0;
      b.op = space.ops[rng.below(space.ops.size())];
      b.act = Act(rng.below(kNumActs));
    }
  } else if (spec.stage == 2) {
    std::vector<FieldGroup> pool = spec.candidates;
    // CHOICE: about m = #fields interactions in all; a round adds 1..room
    // (order 2) or 0..room (higher orders, which may add none).
    int64_t room = std::min<int64_t>(int64_t(pool.size()),
                                     std::max<int64_t>(0, fields - int64_t(a.interactions.size())));
    bool first = a.interactions.empty();
    int64_t lo = first ? std::min<int64_t>(1, room) : 0;
    int64_t count = lo + int64_t(rng.below(uint64_t(room - lo + 1)));
    for (int64_t i = 0; i < count; ++i) {
      size_t j = i + size_t(rng.below(pool.size() - i));
      std::swap(pool[i], pool[j]);
      a.interactions.push_back(pool[i]);
    }
    std::sort(a.interactions.begin(), a.interactions.end());
  } else if (spec.stage == 3) {
    for (int64_t &w : a.widths)
      w = space.widths[rng.below(space.widths.size())];
    a.mlpAct = Act(rng.below(kNumActs));
    a.seShortcut = rng.below(2) == 1;
  }
  return a;
}

/// Progress on stderr: a bar on a terminal, a line per tenth otherwise.
class Progress {
public:
  Progress(std::ostream &log, bool terminal, std::string label, int64_t total)
      : log(log), terminal(terminal), label(std::move(label)), total(std::max<int64_t>(1, total)) {}
  void update(int64_t done, const std::string &detail) {
    if (terminal) {
      int filled = int(30 * done / total);
      log << "\r" << label << " [" << std::string(filled, '#') << std::string(30 - filled, '.')
          << "] " << done << "/" << total << " " << detail << "   " << std::flush;
    } else if (done == total || done * 10 / total != (done - 1) * 10 / total) {
      log << label << " " << done << "/" << total << " " << detail << "\n" << std::flush;
    }
  }
  void finish() {
    if (terminal)
      log << "\n";
  }

private:
  std::ostream &log;
  bool terminal;
  std::string label;
  int64_t total;
};

std::string fixed(double v, int digits = 4) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

/// Training steps per epoch. A last partial batch is dropped: every step has
/// the same shape.
int64_t batchesPerEpoch(const Data &data, const RunOptions &o) {
  int64_t rows = data.trainPositives() * (data.task() == Task::Seq ? 2 : 1); // seq: + a negative each
  return std::max<int64_t>(1, rows / o.batch);
}

/// One epoch of `childFor(step)` training steps over the shuffled training rows.
void trainEpoch(const Data &data, int64_t epoch, ChildPrograms &programs, WeightStore &store,
                const RunOptions &o, const std::function<Child &(int64_t)> &childFor,
                Progress &progress, int64_t &stepsDone) {
  Rows rows = data.trainEpoch(epoch);
  double lossSum = 0;
  int64_t count = batchesPerEpoch(data, o);
  for (int64_t k = 0; k < count; ++k) {
    int64_t begin = k * o.batch, end = std::min(rows.count, begin + o.batch);
    Child &child = childFor(stepsDone);
    double loss = programs.train(child, store, rows.batch(begin, end, true), o.lr);
    if (!std::isfinite(loss))
      throw makeError("AMER training: the loss of child ", child.key, " is ", loss,
                      " at step ", stepsDone + 1, " (lower --lr)");
    lossSum += loss;
    ++stepsDone;
    progress.update(stepsDone, "loss " + fixed(lossSum / double(k + 1)) + ", " +
                                   std::to_string(programs.compiled()) + " programs compiled");
  }
}

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> specialisedChild(mlir::MLIRContext &context,
                                                   const DataShape &shape,
                                                   const SearchSpace &space,
                                                   const SupernetSpec &spec,
                                                   const Architecture &arch, Program program) {
  mlir::OwningOpRef<mlir::ModuleOp> module = buildAmer(context, shape, space, spec, program);
  if (spec.stage == 0)
    return module;
  SpecializeChoicesOptions options;
  for (const auto &[name, index] : assignment(shape, space, spec, arch))
    options.choices.push_back(name + "=" + std::to_string(index));
  options.requireAll = true;
  mlir::PassManager pm(&context);
  pm.addPass(createSpecializeChoices(options));
  pm.addPass(mlir::createCanonicalizerPass());
  if (failed(pm.run(*module)))
    throw makeError("AMER: specialising the stage-", spec.stage, " supernet failed");
  dropUnusedSelectors(*module);
  return module;
}

Metrics evaluate(const Data &data, const Rows &rows, const std::vector<float> &logits) {
  Metrics m;
  if (data.task() == Task::Ctr) {
    std::vector<double> scores(logits.begin(), logits.end()), labels(rows.labels.begin(), rows.labels.end()),
        probabilities;
    for (float x : logits)
      probabilities.push_back(1.0 / (1.0 + std::exp(-double(x))));
    m.auc = train::aucComponents(scores, labels);
    m.values["auc"] = m.auc.auc();
    m.values["logloss"] = train::logLoss(probabilities, labels);
    m.primary = m.values["auc"];
    return m;
  }
  int64_t g = data.groupSize();
  std::vector<int64_t> ranks;
  for (int64_t begin = 0; begin + g <= int64_t(logits.size()); begin += g) {
    ranks.push_back(train::targetRank(logits.data() + begin, g, 0));
    m.ndcgTerms.push_back(train::ndcgTerm(ranks.back(), 10));
  }
  m.values["hr@10"] = train::hitRate(ranks, 10);
  m.values["ndcg@10"] = train::ndcg(ranks, 10);
  m.primary = m.values["ndcg@10"];
  return m;
}

InteractionChoice
chooseInteractions(const std::vector<std::vector<double>> &gains, int64_t room, int64_t minimum,
                   const std::function<double(const std::vector<size_t> &)> &scoreSet,
                   const std::function<double(int64_t, int64_t)> &noise) {
  InteractionChoice choice;
  size_t n = gains.empty() ? 0 : gains.front().size();
  for (size_t c = 0; c < n; ++c) {
    double sum = 0;
    int64_t count = 0;
    for (const std::vector<double> &row : gains)
      if (!std::isnan(row.at(c))) {
        sum += row[c];
        ++count;
      }
    choice.meanGain.push_back(count ? sum / double(count) : -INFINITY);
    choice.ranking.push_back(c);
  }
  std::stable_sort(choice.ranking.begin(), choice.ranking.end(),
                   [&](size_t x, size_t y) { return choice.meanGain[x] > choice.meanGain[y]; });
  room = std::min<int64_t>(room, int64_t(n));
  int64_t first = std::min(minimum, room);
  std::vector<double> score; // [size - first]
  int64_t best = first;
  for (int64_t size = first; size <= room; ++size) {
    score.push_back(
        scoreSet(std::vector<size_t>(choice.ranking.begin(), choice.ranking.begin() + size)));
    if (score.back() > score[best - first]) // ties keep the smaller set
      best = size;
  }
  int64_t kept = best;
  for (int64_t size = first; size < best; ++size)
    if (score[size - first] >= score[best - first] - noise(size, best)) {
      kept = size;
      break;
    }
  choice.kept.assign(choice.ranking.begin(), choice.ranking.begin() + kept);
  return choice;
}

double pairedStandardError(const Metrics &a, const Metrics &b) {
  if (!a.ndcgTerms.empty() || !b.ndcgTerms.empty())
    return train::pairedMeanStandardError(a.ndcgTerms, b.ndcgTerms);
  return train::pairedAucStandardError(a.auc, b.auc);
}

SearchResult search(const Data &data, const std::vector<int> &stages, const RunOptions &o,
                    std::ostream &log) {
  auto start = std::chrono::steady_clock::now();
  auto context = makeContext();
  DataShape shape = data.shape(o.embed);
  int64_t F = int64_t(shape.fieldNames.size());
  ChildPrograms programs(*context, o.optimizer, o.batch, o.evalBatch, o.cacheDir);
  SearchResult result;
  SplitMix rng(o.seed * 0x2545f4914f6cdd1dull + 17);

  // Trains the supernet of `spec`, scores K children, returns the best.
  auto runSupernet = [&](const SupernetSpec &spec, int round, const std::string &label) {
    // Every supernet starts from a fresh initialisation, as the spec's
    // "build a supernet, train it": started from the previous supernet's
    // weights, stage 2 ranked the planted pair 3rd to 12th of 28 instead of
    // 1st (docs/amer.md, Supernet training).
    auto store =
        std::make_unique<WeightStore>(o.seed, WeightStore::embeddingBoundFor("", o.embeddingStd));
    int64_t total = o.epochs * batchesPerEpoch(data, o), steps = 0;
    Progress bar(log, o.terminal, label + " supernet", total);
    auto childFor = [&](int64_t) -> Child & {
      Architecture a = sampleChild(spec, o.space, F, rng);
      return programs.get(keyOf(assignment(shape, o.space, spec, a)),
                          childBuilder(*context, shape, o.space, spec, a));
    };
    for (int64_t e = 0; e < o.epochs; ++e)
      trainEpoch(data, e, programs, *store, o, childFor, bar, steps);
    bar.finish();

    // The children to score with the supernet's weights: K distinct random
    // ones (stages 1, 3), or for stage 2 every candidate added to each of a
    // few context sets (CHOICE, docs/amer.md): the fixed set alone and
    // random sets drawn as the supernet's minibatches draw them. Random
    // subsets alone would rarely hold a given pair of a 28-pair pool; one
    // context alone (the fixed set) is a configuration the supernet rarely
    // trained, and its verdicts flipped with the float rounding of the kernels.
    std::vector<Architecture> children;
    std::map<std::string, size_t> indexOf; // key -> children index
    auto consider = [&](const Architecture &a) {
      auto [it, added] =
          indexOf.emplace(keyOf(assignment(shape, o.space, spec, a)), children.size());
      if (added)
        children.push_back(a);
      return it->second;
    };
    std::vector<size_t> contextChild; // [context]
    std::vector<std::vector<int64_t>>
        withCandidate; // [context][candidate]: child, or -1 (in the context)
    if (spec.stage == 2) {
      std::vector<Architecture> contexts{spec.fixed};
      std::set<std::string> contextKeys{keyOf(assignment(shape, o.space, spec, spec.fixed))};
      for (int64_t tries = 0;
           int64_t(contexts.size()) < o.interactionContexts && tries < 50 * o.interactionContexts;
           ++tries) {
        Architecture a = sampleChild(spec, o.space, F, rng);
        if (contextKeys.insert(keyOf(assignment(shape, o.space, spec, a))).second)
          contexts.push_back(a);
      }
      for (const Architecture &c : contexts) {
        contextChild.push_back(consider(c));
        std::vector<int64_t> row;
        for (const FieldGroup &g : spec.candidates) {
          if (std::find(c.interactions.begin(), c.interactions.end(), g) != c.interactions.end()) {
            row.push_back(-1);
            continue;
          }
          Architecture a = c;
          a.interactions.push_back(g);
          std::sort(a.interactions.begin(), a.interactions.end());
          row.push_back(int64_t(consider(a)));
        }
        withCandidate.push_back(std::move(row));
      }
    } else {
      for (int64_t tries = 0; int64_t(children.size()) < o.children && tries < 50 * o.children; ++tries)
        consider(sampleChild(spec, o.space, F, rng));
    }
    std::vector<Evaluated> scored;
    Progress evalBar(log, o.terminal, label + " children", int64_t(children.size()));
    double bestSoFar = -1;
    // The child's validation metrics, with their per-row evidence in `metrics`.
    auto score = [&](const Architecture &a, Metrics *metrics = nullptr) {
      std::string key = keyOf(assignment(shape, o.space, spec, a));
      Child &child = programs.get(key, childBuilder(*context, shape, o.space, spec, a));
      Metrics m = evaluate(data, data.valid(), programs.score(child, *store, data.valid()));
      Evaluated ev;
      ev.stage = spec.stage;
      ev.round = round;
      ev.key = key;
      ev.arch = a;
      ev.validation = m.primary;
      ev.parameters = child.parameters;
      ev.compileSeconds = child.compileSeconds;
      if (metrics)
        *metrics = std::move(m);
      return ev;
    };
    for (const Architecture &a : children) {
      scored.push_back(score(a));
      bestSoFar = std::max(bestSoFar, scored.back().validation);
      evalBar.update(int64_t(scored.size()), "best " + fixed(bestSoFar));
    }
    evalBar.finish();
    std::optional<Evaluated> decided;
    if (spec.stage == 2) {
      // Each candidate's gain in each context it is not part of; rank by
      // the mean gain, then keep the best-scoring prefix of that ranking, up
      // to about m = #fields groups in all (chooseInteractions).
      int64_t room = std::max<int64_t>(0, F - int64_t(spec.fixed.interactions.size()));
      std::vector<std::vector<double>> gains;
      for (size_t j = 0; j < contextChild.size(); ++j) {
        std::vector<double> row;
        for (int64_t child : withCandidate[j])
          row.push_back(child < 0 ? std::nan("")
                                  : scored[child].validation - scored[contextChild[j]].validation);
        gains.push_back(std::move(row));
      }
      auto withGroups = [&](const std::vector<size_t> &candidates) {
        Architecture a = spec.fixed;
        for (size_t c : candidates)
          a.interactions.push_back(spec.candidates[c]);
        std::sort(a.interactions.begin(), a.interactions.end());
        return a;
      };
      Progress setBar(log, o.terminal, label + " sets", std::max<int64_t>(1, room));
      // Each prefix set's metrics by size, kept for the paired comparisons
      // of the one-standard-error rule (only these: a round scores about
      // 30 contexts' worth of children, and the rows may be many).
      std::map<int64_t, Metrics> setMetrics;
      auto scoreSet = [&](const std::vector<size_t> &candidates) {
        Architecture a = withGroups(candidates);
        Metrics &m = setMetrics[int64_t(candidates.size())];
        Evaluated ev = score(a, &m);
        if (indexOf.emplace(keyOf(assignment(shape, o.space, spec, a)), scored.size()).second)
          scored.push_back(ev);
        setBar.update(int64_t(candidates.size()), "last " + fixed(ev.validation));
        return ev.validation;
      };
      auto noise = [&](int64_t x, int64_t y) {
        return pairedStandardError(setMetrics.at(x), setMetrics.at(y));
      };
      // The first round always keeps a set (the supernet never trained
      // without one, and the spec keeps the best set of order 2); later
      // rounds may keep none.
      InteractionChoice choice =
          chooseInteractions(gains, room, spec.fixed.interactions.empty() ? 1 : 0, scoreSet, noise);
      setBar.finish();
      decided =
          scored[indexOf.at(keyOf(assignment(shape, o.space, spec, withGroups(choice.kept))))];
      InteractionRound evidence;
      evidence.order = round;
      evidence.contexts = int64_t(contextChild.size());
      for (size_t c : choice.ranking)
        evidence.meanGains.emplace_back(groupName(shape, spec.candidates[c]).substr(6),
                                        choice.meanGain[c]);
      for (size_t c : choice.kept)
        evidence.kept.push_back(groupName(shape, spec.candidates[c]).substr(6));
      log << label << ": mean gain";
      for (size_t k = 0; k < std::min<size_t>(5, evidence.meanGains.size()); ++k)
        log << " " << evidence.meanGains[k].first << " " << fixed(evidence.meanGains[k].second, 5);
      log << (evidence.meanGains.size() > 5 ? " ...\n" : "\n");
      result.interactionRounds.push_back(std::move(evidence));
    }
    std::stable_sort(scored.begin(), scored.end(),
                     [](const Evaluated &x, const Evaluated &y) { return x.validation > y.validation; });
    Evaluated best = decided ? *decided : scored.front();
    // Optionally retrain the top R from scratch and choose among them.
    if (o.retrainTop > 1 && spec.stage != 2) { // stage 2 decides by set, above
      double bestScore = -1;
      for (int64_t i = 0; i < std::min<int64_t>(o.retrainTop, int64_t(scored.size())); ++i) {
        std::ostringstream quiet;
        TrainResult t = trainFromScratch(data, scored[i].arch, "", o, quiet);
        Evaluated ev = scored[i];
        ev.retrained = true;
        ev.validation = t.validation.primary;
        scored.push_back(ev);
        if (ev.validation > bestScore) {
          bestScore = ev.validation;
          best = ev;
        }
      }
    }
    for (const Evaluated &ev : scored)
      result.evaluated.push_back(ev);
    log << label << ": chose " << best.key << " (validation " << fixed(best.validation) << ")\n";
    return best.arch;
  };

  Architecture arch;
  for (int stage : stages) {
    SupernetSpec spec;
    spec.stage = stage;
    spec.fixed = arch;
    if (stage != 2) {
      arch = runSupernet(spec, 0, "stage " + std::to_string(stage));
      continue;
    }
    // Stage 2, progressively by order.
    std::vector<FieldGroup> survivors;
    for (int64_t order = 2; order <= o.space.maxOrder; ++order) {
      std::set<FieldGroup> candidates;
      if (order == 2) {
        for (int64_t i = 0; i < F; ++i)
          for (int64_t j = i + 1; j < F; ++j)
            candidates.insert({i, j});
      } else {
        for (const FieldGroup &g : survivors)
          for (int64_t f = 0; f < F; ++f)
            if (!std::binary_search(g.begin(), g.end(), f)) {
              FieldGroup grown = g;
              grown.insert(std::upper_bound(grown.begin(), grown.end(), f), f);
              candidates.insert(grown);
            }
        for (const FieldGroup &g : arch.interactions)
          candidates.erase(g);
      }
      if (candidates.empty() || int64_t(arch.interactions.size()) >= F)
        break;
      spec.fixed = arch;
      spec.candidates.assign(candidates.begin(), candidates.end());
      Architecture chosen = runSupernet(spec, int(order),
                                        "stage 2 order " + std::to_string(order));
      survivors.clear();
      for (const FieldGroup &g : chosen.interactions)
        if (int64_t(g.size()) == order)
          survivors.push_back(g);
      arch = chosen;
      if (survivors.empty())
        break; // nothing of this order helped: higher orders would grow from nothing
    }
  }
  result.arch = arch;
  result.seconds = secondsSince(start);
  result.childRequests = programs.requests();
  result.childCompiles = programs.compiled();
  result.diskHits = programs.diskHits();
  result.compileSeconds = programs.compileSeconds();
  return result;
}

TrainResult trainFromScratch(const Data &data, const Architecture &arch,
                             const std::string &baseline, const RunOptions &o, std::ostream &log) {
  auto start = std::chrono::steady_clock::now();
  auto context = makeContext();
  DataShape shape = data.shape(o.embed);
  ChildPrograms programs(*context, o.optimizer, o.batch, o.evalBatch, o.cacheDir);
  WeightStore store(o.seed, WeightStore::embeddingBoundFor(baseline, o.embeddingStd));
  ChildBuilder build = baseline.empty()
                           ? childBuilder(*context, shape, o.space, SupernetSpec{0, arch, {}}, arch)
                           : ChildBuilder([&context, shape, baseline](Program p) {
                               return buildBaseline(*context, shape, baseline, p);
                             });
  Child &child = programs.get(baseline.empty() ? "child" : baseline, build);
  TrainResult result;
  std::map<std::string, Tensor> bestWeights;
  double best = -1;
  int64_t sinceBest = 0, steps = 0;
  Progress bar(log, o.terminal, baseline.empty() ? "train" : baseline,
               o.epochs * batchesPerEpoch(data, o));
  for (int64_t e = 0; e < o.epochs; ++e) {
    trainEpoch(data, e, programs, store, o, [&](int64_t) -> Child & { return child; }, bar, steps);
    Metrics v = evaluate(data, data.valid(), programs.score(child, store, data.valid()));
    result.epochs = e + 1;
    if (v.primary > best) {
      best = v.primary;
      result.validation = v;
      sinceBest = 0;
      bestWeights.clear();
      for (const auto &[name, t] : store.weights())
        bestWeights[name] = t.clone();
    } else if (++sinceBest >= o.patience) {
      break; // early stopping on validation
    }
  }
  bar.finish();
  for (auto &[name, t] : bestWeights)
    store.weight(name, t.shape()) = t;
  result.test = evaluate(data, data.test(), programs.score(child, store, data.test()));
  result.parameters = child.parameters;
  result.seconds = secondsSince(start);
  return result;
}

// ---- architecture.json ----

std::string architectureJson(const Architecture &a, const DataShape &shape,
                             const SearchSpace &space, const std::string &task) {
  nlohmann::ordered_json j;
  j["task"] = task;
  j["embed"] = shape.embed;
  j["max_sequence"] = shape.sequence;
  nlohmann::ordered_json blocks = nlohmann::ordered_json::array();
  for (const Block &b : a.blocks)
    blocks.push_back({{"norm", b.layerNorm ? "layer_norm" : "none"},
                      {"op", name(b.op)},
                      {"activation", name(b.act)}});
  j["behaviour"] = {{"blocks", blocks}, {"pooling", "target_attention"}};
  nlohmann::ordered_json inter = nlohmann::ordered_json::array();
  for (const FieldGroup &g : a.interactions) {
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (int64_t f : g)
      names.push_back(shape.fieldNames.at(f));
    inter.push_back(names);
  }
  j["interactions"] = inter;
  j["mlp"] = {{"widths", a.widths}, {"activation", name(a.mlpAct)}, {"se_shortcut", a.seShortcut}};
  // Every choice point of the three supernets, by name.
  nlohmann::ordered_json choices;
  std::map<std::string, int64_t> stage1 = assignment(shape, space, SupernetSpec{1, a, {}}, a);
  for (const auto &[n, i] : stage1)
    choices[n] = i;
  for (const auto &[n, i] : assignment(shape, space, SupernetSpec{3, a, {}}, a))
    choices[n] = i;
  j["choices"] = choices;
  return j.dump(2) + "\n";
}

Architecture readArchitecture(const std::string &path, const DataShape &shape,
                              const SearchSpace &space) {
  std::ifstream in(path);
  if (!in)
    throw makeError(path, ": cannot read the architecture");
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception &e) {
    throw makeError(path, ": not JSON: ", e.what());
  }
  auto field = [&](const nlohmann::json &obj, const char *key, const std::string &where) {
    if (!obj.is_object() || !obj.contains(key))
      throw makeError(path, ": field '", where.empty() ? key : where + "." + key, "' is missing");
    return obj.at(key);
  };
  auto text = [&](const nlohmann::json &v, const std::string &where) {
    if (!v.is_string())
      throw makeError(path, ": field '", where, "' must be a string");
    return v.get<std::string>();
  };
  Architecture a;
  try {
    if (j.contains("embed") && j["embed"] != shape.embed)
      throw makeError(path, ": field 'embed' is ", j["embed"].dump(), ", this run uses ", shape.embed);
    nlohmann::json blocks = field(field(j, "behaviour", ""), "blocks", "behaviour");
    if (!blocks.is_array())
      throw makeError(path, ": field 'behaviour.blocks' must be a list");
    a.blocks.clear();
    for (size_t i = 0; i < blocks.size(); ++i) {
      std::string where = "behaviour.blocks[" + std::to_string(i) + "]";
      Block b;
      std::string norm = text(field(blocks[i], "norm", where), where + ".norm");
      if (norm != "layer_norm" && norm != "none")
        throw makeError(path, ": field '", where, ".norm': '", norm, "' (layer_norm or none)");
      b.layerNorm = norm == "layer_norm";
      b.op = parseSeqOp(text(field(blocks[i], "op", where), where + ".op"), path + ": field '" + where + ".op'");
      b.act = parseAct(text(field(blocks[i], "activation", where), where + ".activation"),
                       path + ": field '" + where + ".activation'");
      a.blocks.push_back(b);
    }
    nlohmann::json inter = field(j, "interactions", "");
    if (!inter.is_array())
      throw makeError(path, ": field 'interactions' must be a list of field-name lists");
    for (size_t i = 0; i < inter.size(); ++i) {
      FieldGroup g;
      std::string where = "interactions[" + std::to_string(i) + "]";
      if (!inter[i].is_array())
        throw makeError(path, ": field '", where, "' must be a list of field names");
      for (const auto &n : inter[i]) {
        std::string fname = text(n, where);
        auto it = std::find(shape.fieldNames.begin(), shape.fieldNames.end(), fname);
        if (it == shape.fieldNames.end())
          throw makeError(path, ": field '", where, "': '", fname, "' is not a field of the data");
        g.push_back(int64_t(it - shape.fieldNames.begin()));
      }
      std::sort(g.begin(), g.end());
      a.interactions.push_back(g);
    }
    nlohmann::json mlp = field(j, "mlp", "");
    nlohmann::json widths = field(mlp, "widths", "mlp");
    if (!widths.is_array())
      throw makeError(path, ": field 'mlp.widths' must be a list of integers");
    a.widths.clear();
    for (const auto &w : widths) {
      if (!w.is_number_integer())
        throw makeError(path, ": field 'mlp.widths' must be a list of integers");
      a.widths.push_back(w.get<int64_t>());
    }
    a.mlpAct = parseAct(text(field(mlp, "activation", "mlp"), "mlp.activation"),
                        path + ": field 'mlp.activation'");
    nlohmann::json se = field(mlp, "se_shortcut", "mlp");
    if (!se.is_boolean())
      throw makeError(path, ": field 'mlp.se_shortcut' must be true or false");
    a.seShortcut = se.get<bool>();
  } catch (const nlohmann::json::exception &e) {
    throw makeError(path, ": ", e.what());
  }
  // The builder validates the rest (block count, orders, widths).
  auto context = makeContext();
  try {
    buildAmer(*context, shape, space, SupernetSpec{0, a, {}}, Program::Score);
  } catch (const std::exception &e) {
    throw makeError(path, ": ", e.what());
  }
  return a;
}

std::string childIR(const Architecture &arch, const DataShape &shape, const SearchSpace &space) {
  auto context = makeContext();
  mlir::OwningOpRef<mlir::ModuleOp> m =
      buildAmer(*context, shape, space, SupernetSpec{0, arch, {}}, Program::Score);
  std::string s;
  llvm::raw_string_ostream os(s);
  m->print(os);
  return s;
}

} // namespace mm::amer
