//===- NvrtcCache.cpp - on-disk cache of NVRTC results --------------------===//
#include "runtime/cuda/NvrtcCache.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <unistd.h>

namespace mm::cuda {

namespace {
constexpr char kMagic[8] = {'M', 'M', 'N', 'V', 'R', 'T', 'C', '1'};
constexpr size_t kHeaderBytes = 8 + 3 * sizeof(uint64_t); // magic, key, payload hash, size

void putU64(std::string &out, uint64_t v) { out.append(reinterpret_cast<const char *>(&v), 8); }
uint64_t getU64(const std::string &in, size_t at) {
  uint64_t v;
  std::memcpy(&v, in.data() + at, 8);
  return v;
}
} // namespace

uint64_t fnv1a(std::string_view bytes, uint64_t hash) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string NvrtcCache::defaultDirectory() {
  if (const char *dir = std::getenv("MM_CACHE_DIR"); dir && *dir)
    return dir;
  if (const char *home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/mmc/nvrtc";
  return "";
}

std::string NvrtcCache::pathFor(uint64_t key) const {
  char name[32];
  std::snprintf(name, sizeof(name), "%016llx.nvrtc", static_cast<unsigned long long>(key));
  return directory_ + "/" + name;
}

std::optional<std::string> NvrtcCache::load(uint64_t key) const {
  if (!enabled())
    return std::nullopt;
  std::ifstream in(pathFor(key), std::ios::binary);
  if (!in)
    return std::nullopt;
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (file.size() < kHeaderBytes || std::memcmp(file.data(), kMagic, 8) != 0 ||
      getU64(file, 8) != key || getU64(file, 24) != file.size() - kHeaderBytes)
    return std::nullopt;
  std::string payload = file.substr(kHeaderBytes);
  if (fnv1a(payload) != getU64(file, 16))
    return std::nullopt;
  return payload;
}

void NvrtcCache::store(uint64_t key, const std::string &payload) const {
  if (!enabled())
    return;
  std::error_code ec;
  std::filesystem::create_directories(directory_, ec);
  std::string file(kMagic, 8);
  putU64(file, key);
  putU64(file, fnv1a(payload));
  putU64(file, payload.size());
  file += payload;
  std::string target = pathFor(key);
  std::ostringstream tmpName;
  tmpName << target << ".tmp." << getpid() << "." << std::random_device{}();
  {
    std::ofstream out(tmpName.str(), std::ios::binary | std::ios::trunc);
    if (!out)
      return;
    out.write(file.data(), static_cast<std::streamsize>(file.size()));
    if (!out.flush()) {
      out.close();
      std::filesystem::remove(tmpName.str(), ec);
      return;
    }
  }
  std::filesystem::rename(tmpName.str(), target, ec); // atomic on one filesystem
  if (ec)
    std::filesystem::remove(tmpName.str(), ec);
}

} // namespace mm::cuda
