//===- Commands.cpp -------------------------------------------------------===//
#include "training/amer/Commands.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <iomanip>
#include <sstream>

namespace mm::amer {

static recbole::Dataset load(const CommandOptions &o) {
  recbole::DatasetOptions d;
  d.maxSequence = o.maxSequence;
  return recbole::loadDataset(o.data, d);
}

static std::string stageList(const std::vector<int> &stages) {
  std::string s;
  for (int st : stages)
    s += (s.empty() ? "" : ",") + std::to_string(st);
  return s;
}

int searchCommand(const CommandOptions &o, std::ostream &log, std::ostream &out) {
  for (size_t i = 0; i < o.stages.size(); ++i)
    if (o.stages[i] < 1 || o.stages[i] > 3 || (i && o.stages[i] <= o.stages[i - 1]))
      throw makeError("--stages: '", stageList(o.stages), "' must be stages 1, 2, 3 in order");
  namespace fs = std::filesystem;
  if (fs::exists(o.out) && !fs::is_directory(o.out))
    throw makeError("--out ", o.out, " is a file");
  fs::create_directories(o.out);
  recbole::Dataset dataset = load(o);
  Data data(dataset, o.run.task, o.run.seed, o.maxSequence, o.negatives);
  DataShape shape = data.shape(o.run.embed);
  log << "mm-amer search: " << dataset.name << ", " << dataset.examples.size() << " rows, "
      << shape.fieldNames.size() << " fields, task " << name(o.run.task) << ", stages "
      << stageList(o.stages) << ", seed " << o.run.seed << "\n";
  SearchResult r = search(data, o.stages, o.run, log);

  std::ostringstream csv;
  csv << "stage,round,rank_in_stage,choices,interactions,validation_" << (o.run.task == Task::Ctr ? "auc" : "ndcg@10")
      << ",parameters,compile_s,retrained\n";
  int lastStage = -1, lastRound = -1, rank = 0;
  for (const Evaluated &e : r.evaluated) {
    if (e.stage != lastStage || e.round != lastRound)
      rank = 0;
    lastStage = e.stage;
    lastRound = e.round;
    std::string inter;
    for (const FieldGroup &g : e.arch.interactions)
      inter += (inter.empty() ? "" : " ") + groupName(shape, g).substr(6);
    csv << e.stage << "," << e.round << "," << ++rank << ",\"" << e.key << "\",\"" << inter << "\","
        << std::setprecision(6) << e.validation << "," << e.parameters << ","
        << std::setprecision(3) << e.compileSeconds << "," << (e.retrained ? 1 : 0) << "\n";
  }
  train::writeFileAtomically(o.out + "/search.csv", csv.str());
  train::writeFileAtomically(o.out + "/architecture.json",
                             architectureJson(r.arch, shape, o.run.space, name(o.run.task)));
  train::writeFileAtomically(o.out + "/model.mlir", childIR(r.arch, shape, o.run.space));
  double hitRate = r.childRequests ? 1.0 - double(r.childCompiles) / double(r.childRequests) : 0;
  nlohmann::ordered_json summary = {
      {"task", name(o.run.task)},
      {"stages", o.stages},
      {"seed", o.run.seed},
      {"seconds", r.seconds},
      {"children_evaluated", r.evaluated.size()},
      {"child_requests", r.childRequests},
      {"programs_compiled", r.childCompiles},
      {"programs_from_disk", r.diskHits},
      {"cache_hit_rate", hitRate},
      {"compile_seconds", r.compileSeconds},
      {"compile_seconds_per_program", r.childCompiles ? r.compileSeconds / double(r.childCompiles) : 0.0}};
  nlohmann::ordered_json rounds = nlohmann::ordered_json::array();
  for (const InteractionRound &round : r.interactionRounds) {
    nlohmann::ordered_json gains;
    for (const auto &[group, gain] : round.meanGains)
      gains[group] =
          std::isfinite(gain) ? nlohmann::ordered_json(gain) : nlohmann::ordered_json(nullptr);
    rounds.push_back({{"order", round.order},
                      {"contexts", round.contexts},
                      {"kept", round.kept},
                      {"mean_gain", gains}});
  }
  summary["interaction_rounds"] = rounds;
  train::writeFileAtomically(o.out + "/summary.json", summary.dump(2) + "\n");
  log << "mm-amer search: " << r.evaluated.size() << " children evaluated in "
      << std::setprecision(3) << r.seconds << " s; " << r.childRequests << " child requests, "
      << r.childCompiles << " programs compiled ("
      << (r.childCompiles ? r.compileSeconds / double(r.childCompiles) : 0.0)
      << " s each), " << r.diskHits << " from the disk cache; hit rate " << hitRate << "\n";
  out << architectureJson(r.arch, shape, o.run.space, name(o.run.task));
  return 0;
}

int evalCommand(const CommandOptions &o, std::ostream &log, std::ostream &out) {
  if (o.arch.empty() == o.baseline.empty())
    throw makeError("give exactly one of --arch FILE and --baseline NAME");
  recbole::Dataset dataset = load(o);
  Data data(dataset, o.run.task, o.run.seed, o.maxSequence, o.negatives);
  DataShape shape = data.shape(o.run.embed);
  Architecture arch;
  if (!o.arch.empty())
    arch = readArchitecture(o.arch, shape, o.run.space);
  TrainResult r = trainFromScratch(data, arch, o.baseline, o.run, log);
  nlohmann::ordered_json j;
  j["model"] = o.baseline.empty() ? "searched" : o.baseline;
  j["task"] = name(o.run.task);
  if (o.run.task == Task::Seq)
    j["protocol"] = data.protocol();
  for (const auto &[k, v] : r.test.values)
    j[k] = v;
  j["validation"] = r.validation.values;
  j["epochs"] = r.epochs;
  j["parameters"] = r.parameters;
  j["seconds"] = r.seconds;
  j["seed"] = o.run.seed;
  if (!o.json) {
    out << (o.baseline.empty() ? "searched architecture" : o.baseline) << " on " << dataset.name
        << " (" << name(o.run.task) << "): ";
    for (const auto &[k, v] : r.test.values)
      out << k << " " << std::setprecision(4) << v << "  ";
    out << "\n";
  }
  out << j.dump() << "\n";
  return 0;
}

} // namespace mm::amer
