//===- EvalCommand.cpp ----------------------------------------------------===//
#include "tools/common/EvalCommand.h"
#include "frontends/Safetensors.h"
#include "runtime/Npy.h"
#include "runtime/dist/Collectives.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>

namespace mm {

void addEvalOptions(CLI::App &command, EvalArgs &args) {
  command.add_option("--input", args.inputs,
                     "@FILE.npy per function argument, in order; {RANK} in FILE is the rank's "
                     "number under mpirun (each rank's slice of a split argument)");
  command.add_option("--output", args.outputs,
                     "@FILE.npy per result, in order; rank 0 writes it, or, with {RANK} in FILE, "
                     "every rank its own (each rank's slice of a split result)");
  command.add_option("--params", args.params, ".safetensors file binding the mm.param weights");
  command.add_option("--repeat", args.repeat, "time this many more calls (min and median)")
      ->check(CLI::Range(0, 1000000));
}

namespace {
std::string fileOf(const std::string &flag, const std::string &value) {
  if (value.size() < 2 || value[0] != '@')
    throw makeError(flag, " '", value, "': expected @FILE.npy");
  return value.substr(1);
}

constexpr const char *kRankPattern = "{RANK}";

bool isPerRank(const std::string &path) { return path.find(kRankPattern) != std::string::npos; }

/// `path` with every {RANK} replaced by this rank's number.
std::string forThisRank(std::string path) {
  for (size_t at; (at = path.find(kRankPattern)) != std::string::npos;)
    path.replace(at, std::char_traits<char>::length(kRankPattern),
                 std::to_string(dist::world().rank()));
  return path;
}
} // namespace

std::vector<Tensor> readEvalInputs(const EvalArgs &args) {
  std::vector<Tensor> inputs;
  for (const std::string &in : args.inputs)
    inputs.push_back(readNpy(fileOf("--input", forThisRank(in))));
  return inputs;
}

WeightBinder paramsBinder(const std::string &paramsPath, const std::string &function) {
  std::shared_ptr<SafetensorsFile> file;
  if (!paramsPath.empty())
    file = SafetensorsFile::open(paramsPath);
  return [file, paramsPath, function](const std::string &name, const Shape &shape,
                                      DType dtype) -> Tensor {
    if (!file)
      throw makeError("@", function, " reads the weight '", name,
                      "': give --params FILE.safetensors");
    const StTensor *t = file->find(name);
    if (!t)
      throw makeError(paramsPath, ": no tensor '", name, "' (an mm.param of @", function, ")");
    if (t->shape != shape)
      throw makeError(paramsPath, ": tensor '", name, "' has shape ", formatShape(t->shape),
                      ", the mm.param is ", formatShape(shape));
    return dtype == DType::I64 ? t->toInt64() : t->toFloat(dtype);
  };
}

void writeEvalOutputs(const EvalArgs &args, const std::vector<Tensor> &results, DType floatType) {
  if (!args.outputs.empty() && args.outputs.size() != results.size())
    throw makeError("the function has ", results.size(), " results but ", args.outputs.size(),
                    " --output were given");
  // Every rank of a partitioned program holds its own results; rank 0's are
  // the program's (a replicated result is the same on every rank), unless
  // the file is per rank (a result left split, such as a context-parallel
  // chunk's output).
  bool rankZero = dist::world().rank() == 0;
  for (size_t i = 0; i < results.size(); ++i) {
    bool perRank = !args.outputs.empty() && isPerRank(args.outputs[i]);
    if (!rankZero && !perRank)
      continue;
    Tensor r = results[i].dtype() == DType::I64 ? results[i] : results[i].to(floatType);
    if (!args.outputs.empty()) {
      writeNpy(fileOf("--output", forThisRank(args.outputs[i])), r);
      continue;
    }
    std::cout << "result[" << i << "]: " << (r.rank() ? formatShape(r.shape()) + "x" : "")
              << dtypeName(r.dtype()) << " =";
    Tensor d = r.to(DType::F64);
    int64_t shown = std::min<int64_t>(d.numel(), 8);
    for (int64_t k = 0; k < shown; ++k)
      std::cout << " "
                << (r.dtype() == DType::I64 ? std::to_string(r.data<int64_t>()[k])
                                            : std::to_string(d.data<double>()[k]));
    std::cout << (d.numel() > shown ? " ..." : "") << "\n";
  }
}

} // namespace mm

namespace mm {

std::vector<Tensor> callAndTime(const EvalArgs &args,
                                const std::function<std::vector<Tensor>()> &call) {
  std::vector<Tensor> results = call();
  if (args.repeat <= 0)
    return results;
  std::vector<double> ms;
  for (int i = 0; i < args.repeat; ++i) {
    auto start = std::chrono::steady_clock::now();
    call();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::sort(ms.begin(), ms.end());
  std::cout << "time per call: min " << ms.front() << " ms, median " << ms[ms.size() / 2]
            << " ms over " << ms.size() << " calls\n";
  return results;
}

} // namespace mm
