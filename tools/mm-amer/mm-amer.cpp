//===- mm-amer.cpp - AMER recommender architecture search with mmc ---------===//
//
//   mm-amer search --data DIR --task ctr|seq --stages 1,2,3 --seed S --out OUT
//       [--children K] [--contexts N] [--epochs E] [--retrain-top R] [--threads N]
//   mm-amer eval (--arch OUT/architecture.json | --baseline din|sasrec|deepfm|dcn|mlp)
//       --data DIR --task ctr|seq --seed S [--json] [--epochs E] [--patience P]
//   mm-amer plant --out DIR --seed S     (synthetic data with a known answer)
//
//===----------------------------------------------------------------------===//
#include "runtime/Error.h"
#include "tools/common/NumberValidators.h"
#include "training/amer/Commands.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <iostream>
#include <sstream>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

std::vector<int> parseStages(const std::string &s) {
  std::vector<int> stages;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) {
    if (part != "1" && part != "2" && part != "3")
      throw mm::makeError("--stages: '", s, "' (a list of 1, 2, 3, e.g. 1,2,3)");
    stages.push_back(std::stoi(part));
  }
  if (stages.empty())
    throw mm::makeError("--stages: empty");
  return stages;
}

/// The options search and eval share.
void addCommon(CLI::App *c, mm::amer::CommandOptions &o, std::string &task, int &threads) {
  c->add_option("--data", o.data, "RecBole atomic-file folder (NAME.inter, NAME.user, NAME.item)")
      ->required()
      ->check(CLI::ExistingDirectory);
  c->add_option("--task", task, "ctr (AUC, logloss) or seq (HR@10, NDCG@10)")
      ->required()
      ->check(CLI::IsMember({"ctr", "seq"}));
  c->add_option("--seed", o.run.seed, "seed of the weights, the sampling and the data order")
      ->required();
  c->add_option("--epochs", o.run.epochs, "training epochs (search: per supernet; eval: the most)");
  c->add_option("--threads", threads, "CPU threads (results are reproducible at a fixed count)");
  c->add_option("--batch-size", o.run.batch, "rows per training step")->check(CLI::Range(1, 1 << 20));
  c->add_option("--lr", o.run.lr, "Adam learning rate")->check(mm::cli::kPositive);
  c->add_option("--weight-decay", o.run.optimizer.weightDecay, "decoupled weight decay of matrices");
  c->add_option("--embed", o.run.embed, "embedding width D")->check(CLI::Range(4, 1024));
  c->add_option("--embedding-std", o.run.embeddingStd,
                "embeddings start uniform with this std (default: the model's own, docs/amer.md)")
      ->check(mm::cli::kPositive);
  c->add_option("--max-sequence", o.maxSequence, "longest behaviour sequence")->check(CLI::Range(1, 4096));
  c->add_option("--negatives", o.negatives, "seq: sampled negatives per ranked list")
      ->check(CLI::Range(1, 100000));
  c->add_option("--cache", o.run.cacheDir, "keep compiled children here (default OUT/cache or none)");
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"mm-amer: AMER recommender architecture search, compiled with mmc"};
  app.require_subcommand(1);
  mm::amer::CommandOptions search, eval;
  std::string searchTask, evalTask, stages = "1,2,3";
  int searchThreads = 0, evalThreads = 0;
  mm::amer::PlantedOptions plant;
  std::string plantOut;

  CLI::App *s = app.add_subcommand("search", "Three-stage one-shot random search over the AMER supernets");
  addCommon(s, search, searchTask, searchThreads);
  s->add_option("--stages", stages, "stages to search, in order (others keep their defaults)");
  s->add_option("--out", search.out, "output folder: architecture.json, search.csv, model.mlir")
      ->required();
  s->add_option("--children", search.run.children, "children K scored per stage (1 and 3)")
      ->check(CLI::Range(1, 100000));
  s->add_option("--contexts", search.run.interactionContexts,
                "stage 2: score each candidate added to N sets, the fixed one and N-1 random ones")
      ->check(CLI::Range(1, 1000));
  s->add_option("--retrain-top", search.run.retrainTop,
                "retrain the best R children from scratch and choose among them");
  s->add_option("--max-blocks", search.run.space.maxBlocks, "stage 1: the most blocks (2..4)")
      ->check(CLI::Range(2, 4));
  std::string ops;
  s->add_option("--ops", ops, "stage 1: the candidate operations, comma-separated (default: all of "
                              "conv1,conv3,conv5,dilated_conv3,attention1,attention2,attention4,gru,zero)");

  CLI::App *e = app.add_subcommand("eval", "Train an architecture or a baseline from scratch; test metrics");
  addCommon(e, eval, evalTask, evalThreads);
  e->add_option("--arch", eval.arch, "architecture.json from mm-amer search")->check(CLI::ExistingFile);
  e->add_option("--baseline", eval.baseline, "a baseline instead of --arch")
      ->check(CLI::IsMember({"din", "sasrec", "deepfm", "dcn", "mlp"}));
  e->add_option("--patience", eval.run.patience, "epochs without a better validation metric before stopping")
      ->check(CLI::Range(1, 1000));
  e->add_flag("--json", eval.json, "print only the JSON line");
  eval.run.epochs = 20;

  CLI::App *p = app.add_subcommand("plant", "Write synthetic data with a planted interaction and sequence pattern");
  p->add_option("--out", plantOut, "folder for NAME.inter, NAME.user, NAME.item, planted.json")->required();
  p->add_option("--seed", plant.seed, "generator seed")->required();
  p->add_option("--users", plant.users, "users")->check(CLI::Range(2, 10000000));
  p->add_option("--items", plant.items, "items")->check(CLI::Range(4, 10000000));
  p->add_option("--per-user", plant.perUser, "interactions per user")->check(CLI::Range(3, 100000));

  CLI11_PARSE(app, argc, argv);
  try {
    if (*p) {
      mm::amer::writePlantedData(plantOut, plant);
      std::cout << "wrote planted data to " << plantOut << "\n";
      return 0;
    }
    bool isSearch = bool(*s);
    mm::amer::CommandOptions &o = isSearch ? search : eval;
    o.run.task = mm::amer::parseTask(isSearch ? searchTask : evalTask);
    o.run.terminal = isatty(2);
    if (isSearch) {
      o.stages = parseStages(stages);
      if (!ops.empty()) {
        o.run.space.ops.clear();
        std::stringstream list(ops);
        for (std::string op; std::getline(list, op, ',');) {
          mm::amer::SeqOp parsed = mm::amer::parseSeqOp(op, "--ops");
          if (std::find(o.run.space.ops.begin(), o.run.space.ops.end(), parsed) != o.run.space.ops.end())
            throw mm::makeError("--ops: '", op, "' is listed twice");
          o.run.space.ops.push_back(parsed);
        }
      }
      if (o.run.cacheDir.empty())
        o.run.cacheDir = o.out + "/cache";
    }
#ifdef _OPENMP
    int threads = isSearch ? searchThreads : evalThreads;
    if (threads > 0)
      omp_set_num_threads(threads);
#endif
    return isSearch ? mm::amer::searchCommand(o, std::cerr, std::cout)
                    : mm::amer::evalCommand(o, std::cerr, std::cout);
  } catch (const std::exception &err) {
    std::cerr << "mm-amer: error: " << err.what() << "\n";
    return 1;
  }
}
