//===- StepInputs.h - the tensors of one generation step --------*- C++ -*-===//
//
// What a model declared a generation step takes besides its state
// (ir/GenerationStep.h in the IR, Executable.generation_step in an
// executable): the backends hand the engine's tensors over by role.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_ENGINE_STEPINPUTS_H
#define MM_RUNTIME_ENGINE_STEPINPUTS_H

#include "runtime/Tensor.h"
#include "runtime/engine/StepInput.h"

namespace mm {

/// The tensors of one step, by role (null: not given).
struct StepTensors {
  const Tensor *tokenIds = nullptr, *positions = nullptr, *cachePositions = nullptr,
               *lengths = nullptr, *imageFeatures = nullptr;

  const Tensor *of(StepInput role) const {
    switch (role) {
    case StepInput::TokenIds:
      return tokenIds;
    case StepInput::Positions:
      return positions;
    case StepInput::CachePositions:
      return cachePositions;
    case StepInput::Lengths:
      return lengths;
    case StepInput::ImageFeatures:
      return imageFeatures;
    }
    return nullptr;
  }
};

} // namespace mm

#endif // MM_RUNTIME_ENGINE_STEPINPUTS_H
