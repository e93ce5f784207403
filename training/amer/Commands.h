//===- Commands.h - mm-amer search / eval / plant --------------*- C++ -*-===//
#ifndef MM_TRAINING_AMER_COMMANDS_H
#define MM_TRAINING_AMER_COMMANDS_H

#include "training/amer/Planted.h"
#include "training/amer/Search.h"

#include <ostream>
#include <string>
#include <vector>

namespace mm::amer {

struct CommandOptions {
  std::string data, out, arch, baseline;
  std::vector<int> stages{1, 2, 3};
  int64_t maxSequence = 50, negatives = 100;
  bool json = false;
  RunOptions run;
};

/// mm-amer search: writes OUT/architecture.json, OUT/search.csv, OUT/model.mlir
/// and OUT/summary.json; progress on `log`.
int searchCommand(const CommandOptions &o, std::ostream &log, std::ostream &out);
/// mm-amer eval: trains from scratch, prints the test metrics (last line JSON with --json).
int evalCommand(const CommandOptions &o, std::ostream &log, std::ostream &out);

} // namespace mm::amer

#endif // MM_TRAINING_AMER_COMMANDS_H
