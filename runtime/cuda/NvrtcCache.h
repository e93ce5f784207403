//===- NvrtcCache.h - on-disk cache of NVRTC results -----------*- C++ -*-===//
//
// One file per compilation, named by a 64-bit FNV-1a hash of everything that
// determines the result (source, architecture, options, NVRTC version).
// Files are written to a temporary name and renamed into place, so readers
// never see a partial file; on load the size, key and a payload hash are
// checked and anything that does not verify is treated as a miss.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_CUDA_NVRTCCACHE_H
#define MM_RUNTIME_CUDA_NVRTCCACHE_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm::cuda {

/// FNV-1a, 64-bit, continuing from `hash`.
uint64_t fnv1a(std::string_view bytes, uint64_t hash = 0xcbf29ce484222325ull);

class NvrtcCache {
public:
  /// `directory` empty disables the cache.
  explicit NvrtcCache(std::string directory) : directory_(std::move(directory)) {}
  /// $MM_CACHE_DIR, else $HOME/.cache/mmc/nvrtc, else "" (no cache).
  static std::string defaultDirectory();

  bool enabled() const { return !directory_.empty(); }
  const std::string &directory() const { return directory_; }
  std::string pathFor(uint64_t key) const;

  /// The payload stored under `key`, if a valid entry exists.
  std::optional<std::string> load(uint64_t key) const;
  /// Stores atomically; failures (read-only disk, ...) are ignored: a cache
  /// must never make a compilation fail.
  void store(uint64_t key, const std::string &payload) const;

private:
  std::string directory_;
};

} // namespace mm::cuda

#endif // MM_RUNTIME_CUDA_NVRTCCACHE_H
