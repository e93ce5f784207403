//===- ExecutableCache.cpp ------------------------------------------------===//
#include "training/ExecutableCache.h"
#include "training/AtomicFile.h"

#include <cstdio>
#include <filesystem>

namespace mm::train {

exe::Executable cachedExecutable(const std::string &dir, const std::string &name,
                                 const std::string &key,
                                 const std::function<exe::Executable()> &compile) {
  if (dir.empty())
    return compile();
  std::string full = key + "|format=" + std::to_string(kExecutableFormatVersion);
  char hash[32];
  std::snprintf(hash, sizeof hash, "%08x%08zx", tensorChecksum(full.data(), full.size()),
                full.size());
  std::string path = dir + "/" + name + "-" + hash + ".mmexe";
  if (std::filesystem::exists(path))
    return readExecutable(path);
  exe::Executable executable = compile();
  std::filesystem::create_directories(dir);
  writeExecutable(executable, path + ".tmp");
  renameDurably(path + ".tmp", path);
  return executable;
}

} // namespace mm::train
