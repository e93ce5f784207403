//===- ExecutableLayout.cpp -----------------------------------------------===//
#include "runtime/compiled/ExecutableLayout.h"
#include "runtime/Error.h"

namespace mm {

ExecutableLayout::ExecutableLayout(const exe::Executable &executable) : exe_(executable) {
  for (const exe::Symbol &s : exe_.symbols())
    maxima_.push_back(s.max());
  if (exe_.input_buffers_size() != 4)
    throw makeError("the executable does not take (ids, positions, cache_positions, lengths)");
}

int ExecutableLayout::symbolIndex(const std::string &name) const {
  for (int i = 0; i < exe_.symbols_size(); ++i)
    if (exe_.symbols(i).name() == name)
      return i;
  return -1;
}

int64_t ExecutableLayout::maximum(const std::string &name, int64_t fallback) const {
  int i = symbolIndex(name);
  return i >= 0 ? maxima_[i] : fallback;
}

std::vector<int64_t> ExecutableLayout::stateSymbols(int64_t batch, int64_t capacity) const {
  int b = symbolIndex("B"), s = symbolIndex("S");
  if (b >= 0 && batch > maxima_[b])
    throw makeError("batch ", batch, " exceeds the compiled maximum ", maxima_[b],
                    " (mm-compile --max-batch)");
  if (s >= 0 && capacity > maxima_[s])
    throw makeError("context ", capacity, " tokens exceeds the compiled maximum ", maxima_[s],
                    " (mm-compile --max-context)");
  std::vector<int64_t> values = maxima_;
  if (b >= 0)
    values[b] = batch;
  if (s >= 0)
    values[s] = capacity;
  return values;
}

std::vector<int64_t> ExecutableLayout::stepSymbols(int64_t batch, int64_t tokens,
                                                   int64_t capacity) const {
  std::vector<int64_t> values(maxima_.size());
  for (int i = 0; i < exe_.symbols_size(); ++i) {
    const std::string &name = exe_.symbols(i).name();
    values[i] = name == "B" ? batch : name == "T" ? tokens : capacity;
    if (values[i] > maxima_[i])
      throw makeError("a step of ", values[i], " for ", name, " exceeds the compiled maximum ",
                      maxima_[i], name == "T" ? " (mm-compile --max-tokens)" : "");
  }
  return values;
}

std::vector<int64_t> ExecutableLayout::dims(const exe::Buffer &b,
                                            const std::vector<int64_t> &symbols) const {
  std::vector<int64_t> out;
  for (const exe::Dim &d : b.shape()) {
    int64_t v = d.coefficient();
    for (int i = 0; i < d.exponents_size(); ++i)
      for (uint32_t k = 0; k < d.exponents(i); ++k)
        v *= symbols[i];
    out.push_back(v);
  }
  return out;
}

uint64_t ExecutableLayout::bytes(const exe::Buffer &b, const std::vector<int64_t> &symbols) const {
  uint64_t n = b.dtype() == exe::DTYPE_BF16 ? 2 : b.dtype() == exe::DTYPE_I64 ? 8 : 4;
  for (int64_t d : dims(b, symbols))
    n *= static_cast<uint64_t>(d);
  return n;
}

int64_t ExecutableLayout::numel(uint32_t id, const std::vector<int64_t> &symbols) const {
  int64_t n = 1;
  for (int64_t d : dims(exe_.buffers(id), symbols))
    n *= d;
  return n;
}

int ExecutableLayout::stateIndex(uint32_t id) const {
  for (int i = 0; i < exe_.state_buffers_size(); ++i)
    if (exe_.state_buffers(i) == id)
      return i;
  return -1;
}

int ExecutableLayout::inputIndex(uint32_t id) const {
  for (int i = 0; i < exe_.input_buffers_size(); ++i)
    if (exe_.input_buffers(i) == id)
      return i;
  return -1;
}

void ExecutableLayout::checkStepInputs(const Tensor *const inputs[4],
                                       const std::vector<int64_t> &symbols) const {
  for (int i = 0; i < 4; ++i) {
    const exe::Buffer &b = exe_.buffers(exe_.input_buffers(i));
    if (inputs[i]->dtype() != DType::I64 ||
        static_cast<uint64_t>(inputs[i]->nbytes()) != bytes(b, symbols))
      throw makeError("step: input '", b.name(), "' must be int64 of shape ",
                      formatShape(Shape(dims(b, symbols))));
  }
}

} // namespace mm
