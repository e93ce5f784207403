//===- Safetensors.cpp ----------------------------------------------------===//
#include "frontends/Safetensors.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mm {

using json = nlohmann::json;

/// Headers of real checkpoints are a few hundred KiB; refuse absurd ones.
static constexpr uint64_t kMaxHeaderBytes = 100u << 20;

const char *stDTypeName(StDType d) {
  static const char *names[] = {"F64", "F32", "F16", "BF16", "I64",
                                "I32", "I16", "I8",  "U8",   "BOOL"};
  return names[static_cast<int>(d)];
}

size_t stDTypeSize(StDType d) {
  static const size_t sizes[] = {8, 4, 2, 2, 8, 4, 2, 1, 1, 1};
  return sizes[static_cast<int>(d)];
}

static std::optional<StDType> parseDType(const std::string &s) {
  for (int i = 0; i <= static_cast<int>(StDType::Bool); ++i)
    if (s == stDTypeName(static_cast<StDType>(i)))
      return static_cast<StDType>(i);
  return std::nullopt;
}

static float bf16ToFloat(uint16_t h) {
  uint32_t bits = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

static float f16ToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else { // subnormal: renormalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | mant << 13;
  } else {
    bits = sign | (exp - 15 + 127) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

template <typename T> static void convertTo(const StTensor &t, T *out) {
  size_t n = t.nbytes / stDTypeSize(t.dtype);
  const uint8_t *p = t.data;
  for (size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
    case StDType::F32: {
      float f;
      std::memcpy(&f, p + 4 * i, 4);
      out[i] = static_cast<T>(f);
      break;
    }
    case StDType::F64: {
      double d;
      std::memcpy(&d, p + 8 * i, 8);
      out[i] = static_cast<T>(d);
      break;
    }
    case StDType::BF16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = static_cast<T>(bf16ToFloat(h));
      break;
    }
    case StDType::F16: {
      uint16_t h;
      std::memcpy(&h, p + 2 * i, 2);
      out[i] = static_cast<T>(f16ToFloat(h));
      break;
    }
    default:
      throw makeError(t.file, ": tensor '", t.name, "' has dtype ", stDTypeName(t.dtype),
                      "; expected a float type (F32, F16, BF16, F64)");
    }
  }
}

Tensor StTensor::toFloat(DType dtype) const {
  Tensor out = Tensor::empty(dtype, shape);
  if (dtype == DType::F32)
    convertTo(*this, out.data<float>());
  else if (dtype == DType::F64)
    convertTo(*this, out.data<double>());
  else
    throw makeError("StTensor::toFloat: target must be f32 or f64");
  return out;
}

Tensor StTensor::blockToFloat(DType dtype, const WeightBlock &block) const {
  size_t element = stDTypeSize(this->dtype);
  int64_t count = 1;
  for (int64_t s : block.size)
    count *= s;
  std::vector<uint8_t> bytes(static_cast<size_t>(count) * element);
  try {
    copyBlock(data, shape, element, block, bytes.data());
  } catch (const Error &e) {
    throw makeError(file, ": tensor '", name, "': ", e.what());
  }
  StTensor view = *this;
  view.shape = block.size;
  view.data = bytes.data();
  view.nbytes = bytes.size();
  return view.toFloat(dtype);
}

Tensor StTensor::toInt64() const {
  Tensor out = Tensor::empty(DType::I64, shape);
  int64_t *o = out.data<int64_t>();
  size_t n = nbytes / stDTypeSize(dtype);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = data + i * stDTypeSize(dtype);
    switch (dtype) {
    case StDType::I64:
      std::memcpy(&o[i], p, 8);
      break;
    case StDType::I32: {
      int32_t v;
      std::memcpy(&v, p, 4);
      o[i] = v;
      break;
    }
    case StDType::I16: {
      int16_t v;
      std::memcpy(&v, p, 2);
      o[i] = v;
      break;
    }
    case StDType::I8:
      o[i] = static_cast<int8_t>(*p);
      break;
    case StDType::U8:
      o[i] = *p;
      break;
    case StDType::Bool:
      o[i] = *p != 0;
      break;
    default:
      throw makeError(file, ": tensor '", name, "' has dtype ", stDTypeName(dtype),
                      "; expected an integer type (I64, I32, I16, I8, U8, BOOL)");
    }
  }
  return out;
}

void SafetensorsFile::parse(const uint8_t *bytes, size_t size) {
  if (size < 8)
    throw makeError(path_, ": too short for a safetensors file (", size, " bytes)");
  uint64_t headerLen = 0;
  for (int i = 7; i >= 0; --i)
    headerLen = headerLen << 8 | bytes[i];
  if (headerLen > kMaxHeaderBytes || headerLen > size - 8)
    throw makeError(path_, ": header length ", headerLen, " exceeds the file (", size,
                    " bytes) or the ", kMaxHeaderBytes, "-byte limit");
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + headerLen);
  } catch (const json::exception &e) { // parse_error, or out_of_range for 1e999
    throw makeError(path_, ": header is not valid JSON: ", e.what());
  }
  if (!header.is_object())
    throw makeError(path_, ": header must be a JSON object");
  const uint8_t *data = bytes + 8 + headerLen;
  uint64_t dataSize = size - 8 - headerLen;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto &[name, entry] : header.items()) {
    if (name == "__metadata__")
      continue;
    auto bad = [&](const std::string &what) {
      return makeError(path_, ": tensor '", name, "': ", what);
    };
    if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
        !entry.contains("data_offsets"))
      throw bad("expected {dtype, shape, data_offsets}");
    const json &dt = entry["dtype"], &sh = entry["shape"], &off = entry["data_offsets"];
    if (!dt.is_string())
      throw bad("dtype must be a string");
    auto dtype = parseDType(dt.get<std::string>());
    if (!dtype)
      throw bad("unsupported dtype " + dt.dump());
    if (!sh.is_array())
      throw bad("shape must be a list");
    Shape shape;
    uint64_t numel = 1;
    for (const json &d : sh) {
      if (!d.is_number_unsigned())
        throw bad("shape entries must be non-negative integers, got " + sh.dump());
      uint64_t v = d.get<uint64_t>();
      if (v > (uint64_t(1) << 62) || (v && numel > (uint64_t(1) << 62) / v))
        throw bad("shape " + sh.dump() + " is too large");
      numel *= v;
      shape.push_back(static_cast<int64_t>(v));
    }
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      throw bad("data_offsets must be [begin, end]");
    uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > dataSize)
      throw bad("data_offsets [" + std::to_string(begin) + ", " + std::to_string(end) +
                "] lie outside the " + std::to_string(dataSize) + "-byte data section");
    uint64_t elt = stDTypeSize(*dtype);
    if (numel > UINT64_MAX / elt || end - begin != numel * elt)
      throw bad("holds " + std::to_string(end - begin) + " bytes but shape " + sh.dump() + " of " +
                stDTypeName(*dtype) + " needs " + std::to_string(numel * elt));
    ranges.push_back({begin, end});
    tensors_[name] =
        StTensor{name, path_, *dtype, shape, data + begin, static_cast<size_t>(end - begin)};
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second)
      throw makeError(path_, ": tensors overlap in the data section at byte ", ranges[i].first);
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string &path) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw makeError(path, ": cannot open: ", std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    throw makeError(path, ": not a regular file");
  }
  size_t size = static_cast<size_t>(st.st_size);
  if (size > 0) {
    void *m = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m == MAP_FAILED) {
      ::close(fd);
      throw makeError(path, ": mmap failed: ", std::strerror(errno));
    }
    file->mapping_ = m;
    file->mappedSize_ = size;
  }
  ::close(fd);
  file->parse(static_cast<const uint8_t *>(file->mapping_), size);
  return file;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::fromBytes(std::vector<uint8_t> bytes,
                                                            const std::string &name) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = name;
  file->owned_ = std::move(bytes);
  file->parse(file->owned_.data(), file->owned_.size());
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_)
    munmap(mapping_, mappedSize_);
}

const StTensor *SafetensorsFile::find(const std::string &name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

std::string safetensorsImageF32(const std::vector<std::pair<std::string, Tensor>> &tensors) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto &[name, t] : tensors) {
    uint64_t bytes = static_cast<uint64_t>(t.numel()) * 4;
    header[name] = {
        {"dtype", "F32"}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.resize((text.size() + 7) / 8 * 8, ' '); // keep the data 8-byte aligned
  std::string image(8, '\0');
  uint64_t len = text.size();
  for (int i = 0; i < 8; ++i)
    image[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  image += text;
  image.reserve(image.size() + offset);
  for (const auto &[name, t] : tensors) {
    Tensor f = t.to(DType::F32);
    image.append(static_cast<const char *>(f.raw()), f.numel() * 4);
  }
  return image;
}

void writeSafetensorsF32(const std::string &path,
                         const std::vector<std::pair<std::string, Tensor>> &tensors) {
  std::string image = safetensorsImageF32(tensors);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out)
    throw makeError(path, ": cannot write");
  out.write(image.data(), static_cast<std::streamsize>(image.size()));
  if (!out)
    throw makeError(path, ": write failed");
}

} // namespace mm
