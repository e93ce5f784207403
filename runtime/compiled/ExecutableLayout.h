//===- ExecutableLayout.h - sizes and roles of an executable's buffers -*- C++ -*-===//
//
// What every backend of a compiled executable computes the same way: the
// run-time shape symbols and their compiled maxima, buffer shapes from
// their symbolic dims, which buffers are the step's inputs and the carried
// state, and the checks that keep a request inside what the arena was
// planned for. The backends only say where the bytes live.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_COMPILED_EXECUTABLELAYOUT_H
#define MM_RUNTIME_COMPILED_EXECUTABLELAYOUT_H

#include "runtime/Tensor.h"
#include "runtime/engine/StepInputs.h"
#include "runtime/executable/ExecutableFile.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm {

class ExecutableLayout {
public:
  explicit ExecutableLayout(const exe::Executable &executable);

  /// Index of symbol `name`, or -1.
  int symbolIndex(const std::string &name) const;
  /// The compiled maximum of `name`, or `fallback` without that symbol.
  int64_t maximum(const std::string &name, int64_t fallback) const;
  const std::vector<int64_t> &maxima() const { return maxima_; }

  /// True when the executable declares a generation step (Executable.
  /// generation_step): the engine's reset / step drive it. The accessors
  /// below need one.
  bool generates() const { return exe_.has_generation_step(); }
  /// Throws, naming the function, unless it declares a generation step.
  void requireGenerationStep() const;
  /// The compiled maxima of the step's batch, tokens and cache capacity
  /// (`fallback` where no buffer's shape uses that symbol).
  int64_t maxBatch() const { return maximum(exe_.generation_step().batch_symbol(), 1); }
  int64_t maxTokens() const { return maximum(exe_.generation_step().tokens_symbol(), 1); }
  int64_t maxCapacity(int64_t fallback) const {
    return maximum(exe_.generation_step().capacity_symbol(), fallback);
  }

  /// Symbol values sizing the state of `batch` sequences of up to `capacity`
  /// tokens (the other symbols at their maxima); throws past a compiled
  /// maximum, naming the mm-compile flag to raise.
  std::vector<int64_t> stateSymbols(int64_t batch, int64_t capacity) const;
  /// Symbol values of one step of `tokens` tokens (and, MiniMax-VL-01,
  /// `imageTokens` rows of image features); throws past a maximum.
  std::vector<int64_t> stepSymbols(int64_t batch, int64_t tokens, int64_t capacity,
                                   int64_t imageTokens = 0) const;
  /// True when the step takes image features (VL-01).
  bool takesImageFeatures() const;

  std::vector<int64_t> dims(const exe::Buffer &buffer, const std::vector<int64_t> &symbols) const;
  uint64_t bytes(const exe::Buffer &buffer, const std::vector<int64_t> &symbols) const;
  int64_t numel(uint32_t bufferId, const std::vector<int64_t> &symbols) const;

  /// Position of buffer `id` among the function's arguments, or -1.
  int argumentIndex(uint32_t id) const;
  /// Position of buffer `id` among the state / step-input buffers, or -1.
  int stateIndex(uint32_t id) const;
  int inputIndex(uint32_t id) const;
  /// The step's tensors in the order of the executable's input buffers, each
  /// checked: its dtype and exactly its planned size at `symbols`.
  std::vector<const Tensor *> stepInputs(const StepTensors &tensors,
                                         const std::vector<int64_t> &symbols) const;

  /// The symbol values of a call with `args` (one per function argument):
  /// each symbol is read from an argument dim that is a multiple of it alone,
  /// then every argument's dtype and shape is checked and each symbol against
  /// its maximum. Throws naming the argument, or the flag to raise.
  std::vector<int64_t> bindSymbols(const std::vector<Tensor> &args) const;

  /// The mm-compile flag that raises symbol `name`'s maximum: --max-batch,
  /// --max-tokens, --max-context for the generation step's roles.
  std::string maximumFlag(const std::string &name) const;

private:
  const exe::Executable &exe_;
  std::vector<int64_t> maxima_;
};

} // namespace mm

#endif // MM_RUNTIME_COMPILED_EXECUTABLELAYOUT_H
