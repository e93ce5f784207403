//===- HfExport.cpp -------------------------------------------------------===//
#include "training/HfExport.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/Safetensors.h"
#include "training/AtomicFile.h"

#include <cstring>

namespace mm::train {

void exportHuggingFaceModel(const std::string &dir, const MiniMaxConfig &config,
                            const TensorMap &weights, const std::string &configJson,
                            const std::string &tokenizerJson) {
  std::vector<std::pair<std::string, Tensor>> tensors;
  for (const minimax::ParamSpec &spec : minimax::parameterSpecs(config)) {
    const Tensor &w = weights.at(spec.name);
    // The stacked expert weights [E, out, in] are one tensor per expert on disk.
    std::string suffix;
    for (const char *which : {"w1", "w2", "w3"})
      if (spec.name.size() > 12 &&
          spec.name.compare(spec.name.size() - 11, 11, std::string(".experts.") + which) == 0)
        suffix = which;
    if (suffix.empty()) {
      tensors.push_back({spec.name, w});
      continue;
    }
    std::string base = spec.name.substr(0, spec.name.size() - suffix.size());
    int64_t rows = w.dim(1), cols = w.dim(2);
    for (int64_t e = 0; e < w.dim(0); ++e) {
      Tensor expert = Tensor::empty(DType::F32, {rows, cols});
      std::memcpy(expert.raw(), w.data<float>() + e * rows * cols,
                  static_cast<size_t>(rows * cols) * sizeof(float));
      tensors.push_back({base + std::to_string(e) + "." + suffix + ".weight", expert});
    }
  }
  writeFileAtomically(dir + "/model.safetensors", safetensorsImageF32(tensors));
  writeFileAtomically(dir + "/config.json", configJson);
  writeFileAtomically(dir + "/tokenizer.json", tokenizerJson);
}

} // namespace mm::train
