//===- HostCompiler.cpp ---------------------------------------------------===//
#include "codegen/host/HostCompiler.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mm {

namespace fs = std::filesystem;

std::string hostCompileFlags() { return "-std=c++17 -O3 -march=native -fopenmp -fPIC -w"; }

static std::string compiler() {
  const char *cxx = std::getenv("CXX");
  return cxx && *cxx ? cxx : "c++";
}

static uint64_t fnv1a(const std::string &s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

static std::string hex(uint64_t h) {
  char s[17];
  std::snprintf(s, sizeof s, "%016llx", (unsigned long long)h);
  return s;
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

/// Writes `bytes` to `path` through a private temporary and a rename, so a
/// concurrent reader sees the whole file or none.
static void publish(const fs::path &path, const std::string &bytes) {
  fs::path tmp = path.string() + "." + std::to_string(getpid()) + ".tmp";
  std::ofstream(tmp, std::ios::binary) << bytes;
  std::error_code ec;
  fs::rename(tmp, path, ec);
}

/// Single-quotes `s` for /bin/sh.
static std::string quote(const std::string &s) {
  std::string q = "'";
  for (char c : s)
    q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

/// Everything besides a kernel's own code that its object depends on.
static uint64_t libraryHash() {
  static const uint64_t h = fnv1a(std::string(kHostKernelsHeader) + kHostBackwardKernelsHeader +
                                  "\n" + compiler() + "\n" + hostCompileFlags());
  return h;
}

/// `s` with every `from` replaced by `to`.
static std::string replaceAll(std::string s, const std::string &from, const std::string &to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

void nameKernelsByContent(HostProgram &program) {
  for (GeneratedKernel &k : program.kernels) {
    std::string code = k.code;
    if (code.rfind("//", 0) == 0) // the location comment: not part of what it computes
      code = code.substr(code.find('\n') + 1);
    std::string name = "mmk_" + hex(fnv1a(replaceAll(code, k.name, "@KERNEL@"), libraryHash()));
    k.code = replaceAll(k.code, k.name, name);
    k.name = name;
  }
}

/// Runs `command`; on failure throws with the output it logged to `log`.
static void runCompiler(const std::string &command, const fs::path &log, const std::string &what) {
  int status = std::system((command + " > " + quote(log.string()) + " 2>&1").c_str());
  if (status != 0)
    throw makeError(what, " failed (status ", WIFEXITED(status) ? WEXITSTATUS(status) : status,
                    "):\n", readFile(log));
}

std::string compileHostKernels(const HostProgram &program) {
  std::map<std::string, const std::string *> distinct; // by name: equal names, equal code
  for (const GeneratedKernel &k : program.kernels)
    distinct.emplace(k.name, &k.code);
  std::string cxx = compiler(), flags = hostCompileFlags();
  fs::path dir = cacheDir();
  std::error_code ec;
  fs::create_directories(dir / "kernels", ec);
  if (ec)
    throw makeError("cannot create the kernel cache ", dir.string(), ": ", ec.message());

  std::string names;
  for (const auto &[name, code] : distinct)
    names += name + "\n";
  fs::path linked = dir / ("p-" + hex(fnv1a(names, libraryHash())) + ".so");
  if (fs::exists(linked))
    return readFile(linked);

  fs::path work = fs::temp_directory_path() / ("mmc-host-" + std::to_string(getpid()) + "-" +
                                               hex(fnv1a(names)));
  fs::create_directories(work);
  struct Cleanup {
    fs::path p;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(p, e);
    }
  } cleanup{work};

  // Kernels without an object yet, compiled in up to one batch per core.
  std::vector<std::string> missing;
  for (const auto &[name, code] : distinct)
    if (!fs::exists(dir / "kernels" / (name + ".ref")))
      missing.push_back(name);
  size_t jobs = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 16);
  jobs = std::min(jobs, std::max<size_t>(1, missing.size() / 8));
  std::vector<std::vector<std::string>> batches(jobs);
  for (size_t i = 0; i < missing.size(); ++i)
    batches[i % jobs].push_back(missing[i]);
  std::vector<std::string> errors(jobs);
  std::vector<std::thread> threads;
  for (size_t j = 0; j < jobs && !missing.empty(); ++j)
    threads.emplace_back([&, j] {
      try {
        std::string source = std::string(kHostKernelsHeader) + kHostBackwardKernelsHeader, list;
        for (const std::string &name : batches[j]) {
          // Weak: another batch (another process) may hold the same kernel.
          std::string code = *distinct.at(name);
          size_t at = code.find("extern \"C\" int ");
          if (at != std::string::npos)
            code.insert(at + 11, "__attribute__((weak)) ");
          source += "\n" + code;
          list += name + "\n";
        }
        std::string object = "o-" + hex(fnv1a(list, libraryHash())) + ".o";
        fs::path src = work / ("batch" + std::to_string(j) + ".cpp"), obj = work / object;
        std::ofstream(src) << source;
        runCompiler(quote(cxx) + " " + flags + " -c " + quote(src.string()) + " -o " + quote(obj.string()),
                    work / ("batch" + std::to_string(j) + ".log"),
                    "compiling the generated host code with " + cxx);
        publish(dir / "kernels" / object, readFile(obj));
        for (const std::string &name : batches[j])
          publish(dir / "kernels" / (name + ".ref"), object);
      } catch (const std::exception &e) {
        errors[j] = e.what();
      }
    });
  for (std::thread &t : threads)
    t.join();
  for (const std::string &e : errors)
    if (!e.empty())
      throw makeError(e);

  std::set<std::string> objects;
  for (const auto &[name, code] : distinct) {
    std::string object = readFile(dir / "kernels" / (name + ".ref"));
    if (object.empty() || !fs::exists(dir / "kernels" / object))
      throw makeError("the kernel cache ", dir.string(), " lost the object of ", name,
                      "; remove the folder and compile again");
    objects.insert((dir / "kernels" / object).string());
  }
  fs::path so = work / "program.so";
  std::string command = quote(cxx) + " -shared -fopenmp";
  if (objects.empty()) { // a program of views only: an empty library
    std::ofstream(work / "empty.cpp") << "// no kernels\n";
    command += " -fPIC " + quote((work / "empty.cpp").string());
  }
  for (const std::string &o : objects)
    command += " " + quote(o);
  runCompiler(command + " -o " + quote(so.string()), work / "link.log",
              "linking the generated host code with " + cxx);
  std::string bytes = readFile(so);
  publish(linked, bytes);
  return bytes;
}

} // namespace mm
