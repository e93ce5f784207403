//===- HostCompiler.cpp ---------------------------------------------------===//
#include "codegen/host/HostCompiler.h"
#include "runtime/Error.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <unistd.h>

namespace mm {

namespace fs = std::filesystem;

std::string hostCompileFlags() { return "-std=c++17 -O3 -march=native -fopenmp -fPIC -shared -w"; }

static std::string compiler() {
  const char *cxx = std::getenv("CXX");
  return cxx && *cxx ? cxx : "c++";
}

static uint64_t fnv1a(const std::string &s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

static fs::path cacheDir() {
  if (const char *d = std::getenv("MM_CACHE_DIR"); d && *d)
    return fs::path(d) / "host";
  if (const char *home = std::getenv("HOME"); home && *home)
    return fs::path(home) / ".cache" / "mmc" / "host";
  return fs::temp_directory_path() / "mmc-cache" / "host";
}

static std::string readFile(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Single-quotes `s` for /bin/sh.
static std::string quote(const std::string &s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string compileHostObject(const std::string &source) {
  std::string cxx = compiler(), flags = hostCompileFlags();
  char hash[17];
  std::snprintf(hash, sizeof hash, "%016llx",
                (unsigned long long)fnv1a(source, fnv1a(cxx + "\n" + flags)));
  std::error_code ec;
  fs::path dir = cacheDir();
  fs::create_directories(dir, ec);
  fs::path cached = dir / (std::string(hash) + ".so");
  if (!ec && fs::exists(cached))
    return readFile(cached);

  fs::path work = fs::temp_directory_path() / ("mmc-host-" + std::to_string(getpid()) + "-" + hash);
  fs::create_directories(work);
  fs::path src = work / "kernels.cpp", so = work / "kernels.so", log = work / "log.txt";
  std::ofstream(src) << source;
  std::string command = quote(cxx) + " " + flags + " " + quote(src.string()) + " -o " +
                        quote(so.string()) + " > " + quote(log.string()) + " 2>&1";
  int status = std::system(command.c_str());
  if (status != 0 || !fs::exists(so)) {
    std::string output = readFile(log);
    fs::remove_all(work, ec);
    throw makeError("compiling the generated host code with ", cxx, " failed (status ",
                    WIFEXITED(status) ? WEXITSTATUS(status) : status, "):\n", output);
  }
  std::string bytes = readFile(so);
  if (!ec) { // publish atomically: concurrent compiles of the same source are fine
    fs::path tmp = dir / (std::string(hash) + ".so." + std::to_string(getpid()));
    std::ofstream(tmp, std::ios::binary) << bytes;
    fs::rename(tmp, cached, ec);
  }
  fs::remove_all(work, ec);
  return bytes;
}

} // namespace mm
