//===- ExecutableLayout.cpp -----------------------------------------------===//
#include "runtime/compiled/ExecutableLayout.h"
#include "runtime/Error.h"

namespace mm {

ExecutableLayout::ExecutableLayout(const exe::Executable &executable) : exe_(executable) {
  for (const exe::Symbol &s : exe_.symbols())
    maxima_.push_back(s.max());
  checkGenerationStep(exe_); // executables compiled in process skip the file loader
}

std::string ExecutableLayout::maximumFlag(const std::string &name) const {
  if (generates()) {
    const exe::GenerationStep &g = exe_.generation_step();
    if (name == g.batch_symbol())
      return "mm-compile --max-batch";
    if (name == g.tokens_symbol())
      return "mm-compile --max-tokens";
    if (name == g.capacity_symbol())
      return "mm-compile --max-context";
  }
  return "mm-compile --max " + name + "=VALUE";
}

std::vector<int64_t> ExecutableLayout::bindSymbols(const std::vector<Tensor> &args) const {
  if (static_cast<int>(args.size()) != exe_.argument_buffers_size())
    throw makeError("@", exe_.function_name(), " takes ", exe_.argument_buffers_size(),
                    " arguments, got ", args.size());
  size_t n = maxima_.size();
  std::vector<int64_t> values(n, -1);
  // A dim c * s (one symbol, exponent 1) binds s; every other dim is checked
  // once all symbols are known.
  for (size_t a = 0; a < args.size(); ++a) {
    const exe::Buffer &b = exe_.buffers(exe_.argument_buffers(a));
    const Tensor &t = args[a];
    bool wantInt = b.dtype() == exe::DTYPE_I64;
    if (wantInt != (t.dtype() == DType::I64))
      throw makeError("argument ", a, " ('", b.name(), "') must be ",
                      wantInt ? "an integer" : "a float", " tensor");
    if (t.rank() != b.shape_size())
      throw makeError("argument ", a, " ('", b.name(), "') has rank ", t.rank(), ", expected ",
                      b.shape_size());
    for (int d = 0; d < b.shape_size(); ++d) {
      const exe::Dim &dim = b.shape(d);
      int symbol = -1, used = 0;
      for (int i = 0; i < dim.exponents_size(); ++i)
        if (dim.exponents(i)) {
          ++used;
          symbol = dim.exponents(i) == 1 ? i : -1;
        }
      if (used != 1 || symbol < 0 || dim.coefficient() <= 0 || values[symbol] >= 0)
        continue;
      if (t.dim(d) % dim.coefficient() != 0)
        throw makeError("argument ", a, " ('", b.name(), "') dim ", d, " is ", t.dim(d),
                        ", not a multiple of ", dim.coefficient());
      values[symbol] = t.dim(d) / dim.coefficient();
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const std::string &name = exe_.symbols(i).name();
    if (values[i] < 0)
      throw makeError("no argument dim determines the shape symbol '", name, "'");
    if (values[i] > maxima_[i])
      throw makeError("shape symbol ", name, " = ", values[i], " exceeds the compiled maximum ",
                      maxima_[i], " (", maximumFlag(name), ")");
  }
  for (size_t a = 0; a < args.size(); ++a) {
    const exe::Buffer &b = exe_.buffers(exe_.argument_buffers(a));
    std::vector<int64_t> want = dims(b, values);
    if (want != args[a].shape())
      throw makeError("argument ", a, " ('", b.name(), "') has shape ",
                      formatShape(args[a].shape()), ", expected ", formatShape(want));
  }
  return values;
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

void ExecutableLayout::requireGenerationStep() const {
  if (!generates())
    throw makeError("@", exe_.function_name(),
                    " declares no generation step (mm.generation_step), "
                    "so it cannot be driven step by step; run it whole (--input / --output)");
}

std::vector<int64_t> ExecutableLayout::stateSymbols(int64_t batch, int64_t capacity) const {
  requireGenerationStep();
  const exe::GenerationStep &g = exe_.generation_step();
  int b = symbolIndex(g.batch_symbol()), s = symbolIndex(g.capacity_symbol());
  if (b >= 0 && batch > maxima_[b])
    throw makeError("batch ", batch, " exceeds the compiled maximum ", maxima_[b], " (",
                    maximumFlag(g.batch_symbol()), ")");
  if (s >= 0 && capacity > maxima_[s])
    throw makeError("context ", capacity, " tokens exceeds the compiled maximum ", maxima_[s], " (",
                    maximumFlag(g.capacity_symbol()), ")");
  std::vector<int64_t> values = maxima_;
  if (b >= 0)
    values[b] = batch;
  if (s >= 0)
    values[s] = capacity;
  return values;
}

std::vector<int64_t> ExecutableLayout::stepSymbols(int64_t batch, int64_t tokens, int64_t capacity,
                                                   int64_t imageTokens) const {
  requireGenerationStep();
  const exe::GenerationStep &g = exe_.generation_step();
  std::vector<int64_t> values(maxima_.size());
  for (int i = 0; i < exe_.symbols_size(); ++i) {
    // checkGenerationStep: every symbol is one of the four roles
    const std::string &name = exe_.symbols(i).name();
    values[i] = name == g.batch_symbol()      ? batch
                : name == g.tokens_symbol()   ? tokens
                : name == g.capacity_symbol() ? capacity
                                              : imageTokens;
    if (values[i] > maxima_[i])
      throw makeError("a step of ", values[i], " for ", name, " exceeds the compiled maximum ",
                      maxima_[i], " (", maximumFlag(name), ")");
  }
  return values;
}

namespace {
/// a * b, or an error: sizes come from a file and a call, and must not wrap.
int64_t checkedMul(int64_t a, int64_t b, const exe::Buffer &buffer) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r))
    throw makeError("buffer '", buffer.name(), "': its size overflows 64 bits");
  return r;
}
} // namespace

std::vector<int64_t> ExecutableLayout::dims(const exe::Buffer &b,
                                            const std::vector<int64_t> &symbols) const {
  std::vector<int64_t> out;
  for (const exe::Dim &d : b.shape()) {
    int64_t v = d.coefficient();
    for (int i = 0; i < d.exponents_size(); ++i)
      for (uint32_t k = 0; k < d.exponents(i); ++k) // exponents <= 8: validated on load
        v = checkedMul(v, symbols[i], b);
    out.push_back(v);
  }
  return out;
}

uint64_t ExecutableLayout::bytes(const exe::Buffer &b, const std::vector<int64_t> &symbols) const {
  int64_t n = b.dtype() == exe::DTYPE_BF16 ? 2 : b.dtype() == exe::DTYPE_I64 ? 8 : 4;
  for (int64_t d : dims(b, symbols))
    n = checkedMul(n, d, b);
  return static_cast<uint64_t>(n);
}

int64_t ExecutableLayout::numel(uint32_t id, const std::vector<int64_t> &symbols) const {
  int64_t n = 1;
  for (int64_t d : dims(exe_.buffers(id), symbols))
    n = checkedMul(n, d, exe_.buffers(id));
  return n;
}

int ExecutableLayout::stateIndex(uint32_t id) const {
  for (int i = 0; i < exe_.state_buffers_size(); ++i)
    if (exe_.state_buffers(i) == id)
      return i;
  return -1;
}

int ExecutableLayout::argumentIndex(uint32_t id) const {
  for (int i = 0; i < exe_.argument_buffers_size(); ++i)
    if (exe_.argument_buffers(i) == id)
      return i;
  return -1;
}

int ExecutableLayout::inputIndex(uint32_t id) const {
  for (int i = 0; i < exe_.input_buffers_size(); ++i)
    if (exe_.input_buffers(i) == id)
      return i;
  return -1;
}

bool ExecutableLayout::takesImageFeatures() const {
  return generates() && !exe_.generation_step().image_tokens_symbol().empty();
}

std::vector<const Tensor *>
ExecutableLayout::stepInputs(const StepTensors &tensors,
                             const std::vector<int64_t> &symbols) const {
  std::vector<const Tensor *> ordered;
  for (int i = 0; i < exe_.input_buffers_size(); ++i) {
    const exe::Buffer &b = exe_.buffers(exe_.input_buffers(i));
    // checkGenerationStep: a valid role, each once; the enums share an order
    const Tensor *t = tensors.of(StepInput(int(exe_.generation_step().inputs(i)) - 1));
    DType dtype = b.dtype() == exe::DTYPE_I64 ? DType::I64 : DType::F32;
    if (!t)
      throw makeError("step: no tensor given for input '", b.name(), "'");
    if (t->dtype() != dtype || static_cast<uint64_t>(t->nbytes()) != bytes(b, symbols))
      throw makeError("step: input '", b.name(), "' must be ", dtypeName(dtype), " of shape ",
                      formatShape(Shape(dims(b, symbols))));
    ordered.push_back(t);
  }
  return ordered;
}

} // namespace mm
