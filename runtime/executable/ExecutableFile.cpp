//===- ExecutableFile.cpp -------------------------------------------------===//
#include "runtime/executable/ExecutableFile.h"
#include "runtime/Error.h"
#include "runtime/executable/CudaLaunchPlan.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <vector>

namespace mm {

namespace {
constexpr char kTrailerMagic[8] = {'M', 'M', 'C', 'E', 'X', 'E', '0', '1'};

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw makeError(path, ": cannot open");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Every reference inside the executable points at something that exists.
void validate(const exe::Executable &e, const std::string &source) {
  auto bad = [&](const std::string &what) { return makeError(source, ": ", what); };
  if (e.format_version() != kExecutableFormatVersion)
    throw bad("format version " + std::to_string(e.format_version()) +
              ", this runtime reads version " + std::to_string(kExecutableFormatVersion));
  if (e.target() != exe::TARGET_CPU && e.target() != exe::TARGET_CUDA)
    throw bad("unknown target");
  for (const exe::Symbol &s : e.symbols())
    if (s.max() < 1)
      throw bad("shape symbol '" + s.name() + "' has maximum " + std::to_string(s.max()));
  for (int i = 0; i < e.buffers_size(); ++i) {
    const exe::Buffer &b = e.buffers(i);
    if (b.id() != uint32_t(i))
      throw bad("buffer " + std::to_string(i) + " has id " + std::to_string(b.id()));
    for (const exe::Dim &d : b.shape()) {
      bool ok = d.exponents_size() == e.symbols_size() && d.coefficient() >= 0;
      for (uint32_t x : d.exponents())
        ok = ok && x <= 8; // no model dim is a higher power of a run-time size
      if (!ok)
        throw bad("buffer '" + b.name() + "' has a malformed dim");
    }
    if (!exe::DType_IsValid(b.dtype()) || b.dtype() == exe::DTYPE_UNSPECIFIED ||
        (b.dtype() == exe::DTYPE_I8_ROWS && b.storage() != exe::Buffer::STORAGE_WEIGHT))
      throw bad("buffer '" + b.name() + "' has dtype " + std::to_string(b.dtype()) +
                ", which this runtime does not read there");
    if (b.storage() == exe::Buffer::STORAGE_WEIGHT && b.offset() >= uint64_t(e.weights_size()))
      throw bad("buffer '" + b.name() + "' names weight " + std::to_string(b.offset()));
    if (b.storage() == exe::Buffer::STORAGE_UNSPECIFIED)
      throw bad("buffer '" + b.name() + "' has no storage");
    if (b.has_view_of() &&
        (b.view_of() >= uint32_t(e.buffers_size()) || e.buffers(b.view_of()).has_view_of()))
      throw bad("buffer '" + b.name() + "' is a view of a missing buffer or of a view");
  }
  for (const exe::Weight &w : e.weights())
    if (!exe::DType_IsValid(w.dtype()) || w.dtype() == exe::DTYPE_UNSPECIFIED ||
        (w.dtype() == exe::DTYPE_I8_ROWS && w.shape_size() < 1))
      throw bad("weight '" + w.name() + "' has dtype " + std::to_string(w.dtype()) +
                ", which this runtime does not read for it");
  auto checkBuffer = [&](uint32_t id, const char *what) {
    if (id >= uint32_t(e.buffers_size()))
      throw bad(std::string(what) + " refers to buffer " + std::to_string(id) + " of " +
                std::to_string(e.buffers_size()));
  };
  for (const exe::Launch &l : e.schedule()) {
    if (l.kernel() >= uint32_t(e.kernels_size()))
      throw bad("a launch refers to kernel " + std::to_string(l.kernel()));
    for (uint32_t op : l.operands())
      checkBuffer(op, "a launch");
    if (e.target() == exe::TARGET_CUDA) {
      try {
        validateCudaLaunchPlan(e.kernels(l.kernel()), e, uint32_t(l.operands_size()));
      } catch (const Error &err) {
        throw bad(err.what());
      }
    }
  }
  for (uint32_t id : e.input_buffers())
    checkBuffer(id, "an input");
  for (uint32_t id : e.state_buffers())
    checkBuffer(id, "a state");
  for (uint32_t id : e.argument_buffers())
    checkBuffer(id, "an argument");
  for (uint32_t id : e.result_buffers())
    checkBuffer(id, "a result");
  if (e.input_buffers_size() + e.state_buffers_size() != e.argument_buffers_size())
    throw bad("the inputs and state do not partition the arguments");
  {
    std::vector<uint32_t> split(e.input_buffers().begin(), e.input_buffers().end()),
        arguments(e.argument_buffers().begin(), e.argument_buffers().end());
    split.insert(split.end(), e.state_buffers().begin(), e.state_buffers().end());
    std::sort(split.begin(), split.end());
    std::sort(arguments.begin(), arguments.end());
    if (split != arguments)
      throw bad("the inputs and state do not partition the arguments");
  }
  if (e.result_buffers_size() == 0)
    throw bad("the function has no results");
  try {
    checkGenerationStep(e);
  } catch (const Error &err) {
    throw bad(err.what());
  }
}
} // namespace

void checkGenerationStep(const exe::Executable &e) {
  if (!e.has_generation_step())
    return;
  const exe::GenerationStep &g = e.generation_step();
  if (g.inputs_size() != e.input_buffers_size())
    throw makeError("the generation step names ", g.inputs_size(), " inputs; the function has ",
                    e.input_buffers_size());
  auto buffer = [&](uint32_t id) -> const exe::Buffer & { // in-process executables too
    if (id >= uint32_t(e.buffers_size()))
      throw makeError("the generation step refers to buffer ", id, " of ", e.buffers_size());
    return e.buffers(id);
  };
  bool seen[6] = {};
  for (int i = 0; i < g.inputs_size(); ++i) {
    exe::GenerationStep::Input role = g.inputs(i);
    const exe::Buffer &b = buffer(e.input_buffers(i));
    if (!exe::GenerationStep::Input_IsValid(role) ||
        role == exe::GenerationStep::INPUT_UNSPECIFIED || std::exchange(seen[role], true))
      throw makeError("the generation step gives input '", b.name(),
                      "' no role, an unknown one "
                      "or one that another input has");
    exe::DType want =
        role == exe::GenerationStep::INPUT_IMAGE_FEATURES ? exe::DTYPE_F32 : exe::DTYPE_I64;
    if (b.dtype() != want)
      throw makeError("the generation step's input '", b.name(), "' must be ",
                      want == exe::DTYPE_F32 ? "f32" : "i64");
  }
  for (int role = exe::GenerationStep::INPUT_TOKEN_IDS; role <= exe::GenerationStep::INPUT_LENGTHS;
       ++role)
    if (!seen[role])
      throw makeError("the generation step has no ",
                      exe::GenerationStep::Input_Name(exe::GenerationStep::Input(role)), " input");
  // Every symbol gets its value from a role: the engine binds nothing else.
  const std::string *roles[] = {&g.batch_symbol(), &g.tokens_symbol(), &g.capacity_symbol(),
                                &g.image_tokens_symbol()};
  for (const exe::Symbol &s : e.symbols())
    if (std::none_of(std::begin(roles), std::end(roles),
                     [&](const std::string *r) { return *r == s.name(); }))
      throw makeError("shape symbol '", s.name(),
                      "' is not the generation step's batch, "
                      "tokens, capacity or image tokens");
  for (const std::string *r : roles)
    if (!r->empty() && std::none_of(e.symbols().begin(), e.symbols().end(),
                                    [&](const exe::Symbol &s) { return s.name() == *r; }))
      throw makeError("the generation step names shape symbol '", *r, "', which is not one");
  if (g.batch_symbol().empty() || g.tokens_symbol().empty())
    throw makeError("the generation step has no batch or tokens symbol");
  for (size_t i = 0; i < std::size(roles); ++i)
    for (size_t j = i + 1; j < std::size(roles); ++j)
      if (!roles[i]->empty() && *roles[i] == *roles[j])
        throw makeError("the generation step gives shape symbol '", *roles[i], "' two roles");
  if (seen[exe::GenerationStep::INPUT_IMAGE_FEATURES] == g.image_tokens_symbol().empty())
    throw makeError("the generation step's image features and image-tokens symbol go together");
  if (std::find(e.result_buffers().begin(), e.result_buffers().end(), g.logits_buffer()) ==
          e.result_buffers().end() ||
      buffer(g.logits_buffer()).dtype() != exe::DTYPE_F32)
    throw makeError("the generation step's logits are not an f32 result");
  // The engine reads a vocab-wide row per sequence (and position): the logits
  // must be [batch, vocab] or, with all_logits, [batch, tokens, vocab].
  auto isSymbol = [&](const exe::Dim &d, const std::string &name) {
    if (d.coefficient() != 1 || d.exponents_size() != e.symbols_size())
      return false;
    for (int k = 0; k < e.symbols_size(); ++k)
      if (d.exponents(k) != (e.symbols(k).name() == name ? 1u : 0u))
        return false;
    return true;
  };
  const exe::Buffer &logits = buffer(g.logits_buffer());
  const int rank = g.all_logits() ? 3 : 2;
  bool shaped = logits.shape_size() == rank && isSymbol(logits.shape(0), g.batch_symbol()) &&
                (rank == 2 || isSymbol(logits.shape(1), g.tokens_symbol())) &&
                logits.shape(rank - 1).coefficient() >= 1;
  if (shaped) // the vocab: a constant
    for (uint32_t x : logits.shape(rank - 1).exponents())
      shaped = shaped && x == 0;
  if (!shaped)
    throw makeError("the generation step's logits '", logits.name(), "' are not [",
                    g.batch_symbol(), g.all_logits() ? ", " + g.tokens_symbol() : "", ", vocab]");
}

void writeFileAtomically(const std::string &path, const std::string &bytes) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), bytes.size());
    out.close();
    if (!out) {
      std::remove(tmp.c_str()); // nothing half-written is left behind
      throw makeError(tmp, ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw makeError(path, ": cannot move the written file into place");
  }
}

exe::Executable parseExecutable(const std::string &bytes, const std::string &source) {
  exe::Executable e;
  if (!e.ParseFromString(bytes))
    throw makeError(source, ": not an mmc executable (protobuf parse failed)");
  validate(e, source);
  return e;
}

exe::Executable readExecutable(const std::string &path) {
  return parseExecutable(readFile(path), path);
}

void writeExecutable(const exe::Executable &executable, const std::string &path) {
  std::string bytes;
  if (!executable.SerializeToString(&bytes))
    throw makeError(path, ": cannot serialise the executable");
  writeFileAtomically(path, bytes);
}

void writeAotBinary(const exe::Executable &executable, const std::string &runner,
                    const std::string &path) {
  std::string bytes = readFile(runner), payload;
  if (!executable.SerializeToString(&payload))
    throw makeError(path, ": cannot serialise the executable");
  uint64_t size = payload.size();
  bytes += payload;
  for (int i = 0; i < 8; ++i)
    bytes.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  bytes.append(kTrailerMagic, sizeof kTrailerMagic);
  writeFileAtomically(path, bytes);
  if (chmod(path.c_str(), 0755) != 0)
    throw makeError(path, ": cannot make it executable");
}

std::optional<exe::Executable> readEmbeddedExecutable() {
  std::string self = readFile("/proc/self/exe");
  if (self.size() < 16 || self.compare(self.size() - 8, 8, kTrailerMagic, 8) != 0)
    return std::nullopt;
  uint64_t size = 0;
  for (int i = 7; i >= 0; --i)
    size = size << 8 | static_cast<uint8_t>(self[self.size() - 16 + i]);
  if (size > self.size() - 16)
    throw makeError("/proc/self/exe: the embedded executable's size is corrupt");
  return parseExecutable(self.substr(self.size() - 16 - size, size), "the embedded executable");
}

} // namespace mm
