//===- Int8WeightFile.cpp -------------------------------------------------===//
#include "runtime/compiled/Int8WeightFile.h"
#include "frontends/Safetensors.h"
#include "runtime/Error.h"
#include "runtime/compiled/WeightQuantization.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace mm {
namespace {
namespace fs = std::filesystem;

/// FNV-1a, 64 bits, continued from `h`.
uint64_t fnv1a(const void *data, size_t n, uint64_t h = 14695981039346656037ull) {
  const auto *p = static_cast<const uint8_t *>(data);
  for (size_t i = 0; i < n; ++i)
    h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

exe::Int8WeightFile::Source describe(const std::string &path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    throw makeError(path, ": cannot read its size and modification time");
  exe::Int8WeightFile::Source s;
  s.set_path(fs::absolute(path).lexically_normal().string());
  s.set_size(uint64_t(st.st_size));
  s.set_mtime_ns(int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec);
  return s;
}

bool sameSources(const exe::Int8WeightFile &recorded, const std::vector<std::string> &files) {
  if (recorded.sources_size() != int(files.size()))
    return false;
  for (size_t i = 0; i < files.size(); ++i) {
    exe::Int8WeightFile::Source now = describe(files[i]);
    const exe::Int8WeightFile::Source &then = recorded.sources(int(i));
    if (now.path() != then.path() || now.size() != then.size() || now.mtime_ns() != then.mtime_ns())
      return false;
  }
  return true;
}

std::string scaleName(const std::string &weight) { return weight + ".scale"; }
} // namespace

Int8WeightFile::~Int8WeightFile() = default;

void Int8WeightFile::write(exe::Executable &e, const WeightBinder &binder, const std::string &path,
                           const std::vector<std::string> &checkpointFiles) {
  // The header first (offsets follow from the shapes), then one weight at a
  // time: memory holds one weight's quantized bytes, not the file. The
  // scales come first, so each float starts 4-byte aligned, and the int8
  // values after them; no holes between tensors (the safetensors rule).
  struct Entry {
    const exe::Weight *weight;
    Int8Rows layout;
    uint64_t values, scales; // offsets in the data section
  };
  std::vector<Entry> entries;
  nlohmann::json header = nlohmann::json::object();
  uint64_t scaleTotal = 0;
  for (const exe::Weight &w : e.weights())
    if (w.dtype() == exe::DTYPE_I8_ROWS)
      scaleTotal += uint64_t(Int8Rows(Shape(w.shape().begin(), w.shape().end())).rows) * 4;
  uint64_t scaleAt = 0, valueAt = scaleTotal;
  for (const exe::Weight &w : e.weights()) {
    if (w.dtype() != exe::DTYPE_I8_ROWS)
      continue;
    if (w.has_shard())
      throw makeError("weight '", w.name(),
                      "' is split over ranks; int8 weights of a partitioned "
                      "program are quantized when loaded");
    Shape shape(w.shape().begin(), w.shape().end());
    Int8Rows layout(shape);
    uint64_t valueBytes = uint64_t(layout.rows * layout.K), scaleBytes = uint64_t(layout.rows) * 4;
    uint64_t values = valueAt, scales = scaleAt;
    valueAt += valueBytes;
    scaleAt += scaleBytes;
    header[w.name()] = {
        {"dtype", "I8"}, {"shape", shape}, {"data_offsets", {values, values + valueBytes}}};
    header[scaleName(w.name())] = {{"dtype", "F32"},
                                   {"shape", Shape(shape.begin(), shape.end() - 1)},
                                   {"data_offsets", {scales, scales + scaleBytes}}};
    entries.push_back({&w, layout, values, scales});
  }
  header["__metadata__"] = {{"format", "mmc int8 rows: <name> I8, <name>.scale F32 per row"}};
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' '); // the data starts 8-byte aligned
  std::string prefix(8, '\0');
  for (int i = 0; i < 8; ++i)
    prefix[i] = char((uint64_t(json.size()) >> (8 * i)) & 0xff);
  prefix += json;

  std::string tmp = path + ".tmp";
  uint64_t checksum = fnv1a(nullptr, 0);
  try {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      throw makeError(tmp, ": cannot write");
    out.write(prefix.data(), std::streamsize(prefix.size()));
    const auto dataStart = std::streamoff(prefix.size());
    auto put = [&](uint64_t at, const uint8_t *data, uint64_t bytes) {
      out.seekp(dataStart + std::streamoff(at));
      out.write(reinterpret_cast<const char *>(data), std::streamsize(bytes));
      checksum = fnv1a(data, bytes, checksum);
    };
    std::vector<uint8_t> image;
    for (const Entry &entry : entries) {
      const exe::Weight &w = *entry.weight;
      image.assign(entry.layout.bytes(), 0);
      quantizeInt8Rows(w.name(),
                       binder(w.name(), Shape(w.shape().begin(), w.shape().end()), DType::F32),
                       image.data());
      put(entry.values, image.data(), uint64_t(entry.layout.rows * entry.layout.K));
      put(entry.scales, image.data() + entry.layout.scaleOffset(), uint64_t(entry.layout.rows) * 4);
    }
    out.close();
    if (!out)
      throw makeError(tmp, ": write failed");
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw makeError(path, ": cannot move the written file into place");
  } catch (...) {
    std::remove(tmp.c_str()); // nothing half-written is left behind
    throw;
  }

  exe::Int8WeightFile *record = e.mutable_int8_weight_file();
  record->Clear();
  record->set_file(fs::path(path).filename().string());
  record->set_checksum(checksum);
  for (const std::string &f : checkpointFiles)
    *record->add_sources() = describe(f);
}

std::unique_ptr<Int8WeightFile>
Int8WeightFile::open(const exe::Executable &e, const std::string &dir,
                     const std::vector<std::string> &checkpointFiles, std::string *whyNot) {
  if (!e.has_int8_weight_file()) {
    *whyNot = "the binary was compiled without a file of int8 weights";
    return nullptr;
  }
  const exe::Int8WeightFile &record = e.int8_weight_file();
  if (record.file().empty() || fs::path(record.file()).filename() != record.file())
    throw makeError("the executable names its int8 weight file '", record.file(),
                    "'; expected a file name in the binary's folder");
  std::string path = (fs::path(dir) / record.file()).string();
  if (!fs::exists(path)) {
    *whyNot = path + " is missing";
    return nullptr;
  }
  if (!sameSources(record, checkpointFiles)) {
    *whyNot = path + " was quantized from another checkpoint, or the checkpoint changed since";
    return nullptr;
  }
  std::unique_ptr<Int8WeightFile> out(new Int8WeightFile);
  out->file_ = SafetensorsFile::open(path);
  uint64_t checksum = fnv1a(nullptr, 0);
  for (const exe::Weight &w : e.weights()) {
    if (w.dtype() != exe::DTYPE_I8_ROWS)
      continue;
    Shape shape(w.shape().begin(), w.shape().end());
    Shape rows(shape.begin(), shape.end() - 1);
    const StTensor *q = out->file_->find(w.name());
    const StTensor *s = out->file_->find(scaleName(w.name()));
    if (!q || !s || q->dtype != StDType::I8 || s->dtype != StDType::F32 || q->shape != shape ||
        s->shape != rows)
      throw makeError(path, ": weight '", w.name(), "' is missing or not I8 ", formatShape(shape),
                      " with F32 scales ", formatShape(rows),
                      "; delete the file to quantize from the checkpoint");
    checksum = fnv1a(q->data, q->nbytes, checksum);
    checksum = fnv1a(s->data, s->nbytes, checksum);
    out->weights_[w.name()] = {reinterpret_cast<const int8_t *>(q->data),
                               reinterpret_cast<const float *>(s->data)};
  }
  if (checksum != record.checksum())
    throw makeError(path, ": its checksum does not match the one recorded at compile time (the "
                          "file is damaged); delete it to quantize from the checkpoint");
  return out;
}

} // namespace mm
