//===- EvalCommand.h - the `eval` command of mmc tools ----------*- C++ -*-===//
//
// Runs one function on .npy inputs and writes .npy outputs, as
// iree-run-module does: `mm-run eval FILE.mlir` (reference executor or an
// in-process compile) and AOT binaries compiled from a .mlir file share these
// flags and this behaviour.
//
//   --input @a.npy      one per function argument, in order ({RANK}: the rank)
//   --output @o.npy     one per result, in order (none: print a summary;
//                       {RANK}: every rank writes its own)
//   --params W.safetensors   binds the function's mm.param weights by name
//
//===----------------------------------------------------------------------===//
#ifndef MM_TOOLS_COMMON_EVALCOMMAND_H
#define MM_TOOLS_COMMON_EVALCOMMAND_H

#include "runtime/Tensor.h"
#include "runtime/WeightBinder.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace mm {

struct EvalArgs {
  std::vector<std::string> inputs, outputs;
  std::string params;
  /// --repeat N: after the call that produces the outputs, time N more calls
  /// and print their minimum and median (as iree-benchmark-module does).
  int repeat = 0;
};

void addEvalOptions(CLI::App &command, EvalArgs &args);

/// Reads every --input (`@FILE.npy`); throws naming the flag or the file.
std::vector<Tensor> readEvalInputs(const EvalArgs &args);

/// Binds mm.param weights from the --params .safetensors file: float weights
/// converted to the asked precision, integer ones to int64, shapes checked.
/// Without --params every weight is an error naming it.
WeightBinder paramsBinder(const std::string &paramsPath, const std::string &function);

/// Writes result i to --output i (float results as `floatType`, integers as
/// int64), or prints each result's shape and leading values without
/// --output. Throws when the counts differ.
void writeEvalOutputs(const EvalArgs &args, const std::vector<Tensor> &results, DType floatType);

/// Runs `call` once for the results, then --repeat more times, timed; prints
/// `time per call: min X ms, median Y ms over N calls`.
std::vector<Tensor> callAndTime(const EvalArgs &args,
                                const std::function<std::vector<Tensor>()> &call);

} // namespace mm

#endif // MM_TOOLS_COMMON_EVALCOMMAND_H
