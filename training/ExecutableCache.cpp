//===- ExecutableCache.cpp ------------------------------------------------===//
#include "training/ExecutableCache.h"
#include "training/AtomicFile.h"

#include <cstdio>
#include <filesystem>
#include <unistd.h>

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
  // Ranks of a distributed run may compile the same program at once: each
  // writes its own temporary, and the renames agree.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  writeExecutable(executable, tmp);
  renameDurably(tmp, path);
  return executable;
}

} // namespace mm::train
