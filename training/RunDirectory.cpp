//===- RunDirectory.cpp ---------------------------------------------------===//
#include "training/RunDirectory.h"
#include "runtime/Error.h"
#include "training/AtomicFile.h"

#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace mm::train {

std::string hexChecksum(const std::string &bytes) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%08x", tensorChecksum(bytes.data(), bytes.size()));
  return buffer;
}

nlohmann::json optimizerIdentity(const OptimizerOptions &opt) {
  return {{"beta1", opt.beta1},
          {"beta2", opt.beta2},
          {"epsilon", opt.epsilon},
          {"weight_decay", opt.weightDecay},
          {"max_grad_norm", opt.maxGradNorm},
          {"recompute", opt.recompute}};
}

const char *backendName(StepBackend backend) {
  return backend == StepBackend::CPU ? "cpu" : backend == StepBackend::CUDA ? "cuda" : "reference";
}

void claimRunDirectory(const std::string &out, bool resume, const nlohmann::json &identity) {
  std::string runFile = out + "/run.json";
  bool nonEmpty = fs::exists(out) && !fs::is_empty(out);
  if (nonEmpty && !fs::exists(runFile))
    throw makeError("--out ", out, ": the directory is not empty and holds no mm-train run "
                    "(run.json); choose an empty or new directory");
  if (fs::exists(runFile)) {
    if (!resume)
      throw makeError("--out ", out, " holds another run (run.json); pass --resume to "
                      "continue it, or choose an empty directory");
    nlohmann::json previous;
    try {
      previous = nlohmann::json::parse(readFile(runFile));
    } catch (const nlohmann::json::exception &e) {
      throw makeError(runFile, ": not valid JSON (", e.what(), ")");
    }
    std::string differences;
    for (auto it = identity.begin(); it != identity.end(); ++it)
      if (!previous.contains(it.key()) || previous[it.key()] != it.value())
        differences += " " + it.key();
    if (!differences.empty())
      throw makeError("--resume: ", runFile, " was written by a run with different settings:",
                      differences, " (resume with the same command line)");
    return;
  }
  fs::create_directories(out);
  writeFileAtomically(runFile, identity.dump(1) + "\n");
}

} // namespace mm::train
