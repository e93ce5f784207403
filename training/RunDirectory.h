//===- RunDirectory.h - one mm-train run per output directory ---*- C++ -*-===//
//
// OUT/run.json records what makes a run the run it is (its settings and the
// checksums of its inputs). A new run claims an empty directory; --resume
// continues only a run with the same identity, so a changed command line
// never silently mixes two runs' checkpoints.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_RUNDIRECTORY_H
#define MM_TRAINING_RUNDIRECTORY_H

#include "training/StepProgram.h"

#include <nlohmann/json.hpp>

#include <string>

namespace mm::train {

/// CRC-32 of `bytes` as 8 hex digits.
std::string hexChecksum(const std::string &bytes);

/// The optimizer's settings and the step's backend, as run.json records them.
nlohmann::json optimizerIdentity(const OptimizerOptions &optimizer);
const char *backendName(StepBackend backend);

/// Refuses an `out` that holds something else, or (with `resume`) a run
/// whose identity differs, naming the differing fields. Writes run.json for
/// a new run.
void claimRunDirectory(const std::string &out, bool resume, const nlohmann::json &identity);

} // namespace mm::train

#endif // MM_TRAINING_RUNDIRECTORY_H
