//===- Initializer.cpp ----------------------------------------------------===//
#include "training/Initializer.h"
#include "frontends/MiniMaxWeights.h"

#include <cmath>
#include <random>

namespace mm::train {

std::map<std::string, Tensor> initialWeights(const MiniMaxConfig &config, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&] { return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53; };
  std::map<std::string, Tensor> weights;
  for (const minimax::ParamSpec &spec : minimax::parameterSpecs(config)) {
    Tensor t = Tensor::empty(DType::F32, spec.shape);
    float *w = t.data<float>();
    if (spec.shape.size() == 1) { // RMSNorm gains
      std::fill(w, w + t.numel(), 1.0f);
    } else {
      for (int64_t i = 0; i < t.numel(); ++i) {
        double r = std::sqrt(-2.0 * std::log(uniform())), a = 2.0 * M_PI * uniform();
        w[i] = static_cast<float>(config.initializerRange * r * std::cos(a));
      }
    }
    weights.emplace(spec.name, t);
  }
  return weights;
}

} // namespace mm::train
