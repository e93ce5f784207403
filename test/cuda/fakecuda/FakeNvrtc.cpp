//===- FakeNvrtc.cpp - a libnvrtc.so.13 that builds kernels for the emulator -===//
//
// Test infrastructure, the compiler half of the fake toolkit (the fake
// libcuda.so.1 runs what this builds). With both first on LD_LIBRARY_PATH, a
// whole compiled model runs through the real CudaBackend, Nvrtc, NvrtcCache
// and launch code on a machine without a GPU: "compiling" a program builds
// its source with the host C++ compiler behind CudaEmulation.h into a shared
// object, and the "cubin" handed back names that object. So the generated
// CUDA source of any model is executed, kernel by kernel, on the CPU emulator
// (test/cuda/emu), where the GPU would run it.
//
// Objects are kept in $MM_CACHE_DIR/fake-nvrtc (else $TMPDIR), named by a
// hash of the source and the compiler, so a second run reuses them.
// MM_FAKE_NVRTC_CXX overrides the host compiler baked in at build time.
//
//===----------------------------------------------------------------------===//
#include <nvrtc.h>

#include "test/cuda/fakecuda/EmulatedModule.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#ifndef MM_FAKE_NVRTC_SOURCE_DIR
#error "MM_FAKE_NVRTC_SOURCE_DIR: the repository root (for test/cuda/emu/CudaEmulation.h)"
#endif
#ifndef MM_FAKE_NVRTC_CXX
#error "MM_FAKE_NVRTC_CXX: the host C++ compiler"
#endif

namespace {

struct Program {
  std::string source, name, log, image;
};

uint64_t fnv1a(const std::string &s, uint64_t h = 1469598103934665603ull) {
  for (unsigned char c : s)
    h = (h ^ c) * 1099511628211ull;
  return h;
}

std::string cacheDirectory() {
  std::string base;
  if (const char *dir = std::getenv("MM_CACHE_DIR"); dir && *dir)
    base = dir;
  else if (const char *tmp = std::getenv("TMPDIR"); tmp && *tmp)
    base = tmp;
  else
    base = "/tmp";
  std::string dir = base + "/fake-nvrtc";
  ::mkdir(base.c_str(), 0755);
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

std::string compilerPath() {
  const char *cxx = std::getenv("MM_FAKE_NVRTC_CXX");
  return cxx && *cxx ? cxx : MM_FAKE_NVRTC_CXX;
}

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs argv with stderr and stdout into logPath; returns the exit status.
int run(const std::vector<std::string> &argv, const std::string &logPath) {
  pid_t pid = ::fork();
  if (pid < 0)
    return -1;
  if (pid == 0) {
    if (std::FILE *log = std::freopen(logPath.c_str(), "w", stderr))
      ::dup2(::fileno(log), 1);
    std::vector<char *> args;
    for (const std::string &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::perror(args[0]);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    ;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/// Builds the program into a shared object (or finds it built); its path.
bool build(Program &p, std::string &objectPath) {
  const std::string cxx = compilerPath();
  const std::string dir = cacheDirectory();
  char key[17];
  std::snprintf(key, sizeof key, "%016llx",
                static_cast<unsigned long long>(fnv1a(cxx, fnv1a(p.source))));
  objectPath = dir + "/" + key + ".so";
  if (::access(objectPath.c_str(), R_OK) == 0)
    return true;
  // Unique temporaries, renamed into place: concurrent builders never see a
  // partial object.
  const std::string stem = dir + "/" + key + "." + std::to_string(::getpid());
  const std::string sourcePath = stem + ".cpp", tmpObject = stem + ".so.tmp",
                    logPath = stem + ".log";
  {
    std::ofstream out(sourcePath, std::ios::binary);
    out << p.source;
    if (!out) {
      p.log = "fake NVRTC: cannot write " + sourcePath;
      return false;
    }
  }
  const std::string root = MM_FAKE_NVRTC_SOURCE_DIR;
  int status =
      run({cxx, "-std=c++17", "-O1", "-shared", "-fPIC", "-w", "-include",
           root + "/test/cuda/emu/CudaEmulation.h", "-I" + root, "-o", tmpObject, sourcePath},
          logPath);
  p.log = readFile(logPath);
  std::remove(logPath.c_str());
  std::remove(sourcePath.c_str());
  if (status != 0) {
    std::remove(tmpObject.c_str());
    p.log = "fake NVRTC: " + cxx + " failed on " + p.name + " (status " + std::to_string(status) +
            "):\n" + p.log;
    return false;
  }
  return std::rename(tmpObject.c_str(), objectPath.c_str()) == 0;
}

} // namespace

extern "C" {

const char *nvrtcGetErrorString(nvrtcResult result) {
  switch (result) {
  case NVRTC_SUCCESS:
    return "NVRTC_SUCCESS";
  case NVRTC_ERROR_INVALID_INPUT:
    return "NVRTC_ERROR_INVALID_INPUT";
  case NVRTC_ERROR_INVALID_PROGRAM:
    return "NVRTC_ERROR_INVALID_PROGRAM";
  case NVRTC_ERROR_COMPILATION:
    return "NVRTC_ERROR_COMPILATION";
  default:
    return "NVRTC_ERROR (fake)";
  }
}

nvrtcResult nvrtcVersion(int *major, int *minor) {
  if (!major || !minor)
    return NVRTC_ERROR_INVALID_INPUT;
  *major = 13;
  *minor = 0;
  return NVRTC_SUCCESS;
}

nvrtcResult nvrtcCreateProgram(nvrtcProgram *prog, const char *src, const char *name,
                               int numHeaders, const char *const *, const char *const *) {
  if (!prog || !src)
    return NVRTC_ERROR_INVALID_INPUT;
  if (numHeaders != 0) // the generated sources are self-contained
    return NVRTC_ERROR_INVALID_INPUT;
  *prog = reinterpret_cast<nvrtcProgram>(new Program{src, name ? name : "program.cu", "", ""});
  return NVRTC_SUCCESS;
}

nvrtcResult nvrtcDestroyProgram(nvrtcProgram *prog) {
  if (!prog)
    return NVRTC_ERROR_INVALID_PROGRAM;
  delete reinterpret_cast<Program *>(*prog);
  *prog = nullptr;
  return NVRTC_SUCCESS;
}

nvrtcResult nvrtcCompileProgram(nvrtcProgram prog, int, const char *const *) {
  auto *p = reinterpret_cast<Program *>(prog);
  if (!p)
    return NVRTC_ERROR_INVALID_PROGRAM;
  std::string object;
  if (!build(*p, object))
    return NVRTC_ERROR_COMPILATION;
  p->image = mm_fakecuda::emulatedModuleImage(object);
  return NVRTC_SUCCESS;
}

nvrtcResult nvrtcGetProgramLogSize(nvrtcProgram prog, size_t *size) {
  auto *p = reinterpret_cast<Program *>(prog);
  if (!p || !size)
    return NVRTC_ERROR_INVALID_INPUT;
  *size = p->log.size() + 1;
  return NVRTC_SUCCESS;
}

nvrtcResult nvrtcGetProgramLog(nvrtcProgram prog, char *log) {
  auto *p = reinterpret_cast<Program *>(prog);
  if (!p || !log)
    return NVRTC_ERROR_INVALID_INPUT;
  std::copy(p->log.begin(), p->log.end(), log);
  log[p->log.size()] = '\0';
  return NVRTC_SUCCESS;
}

// The image is the same for PTX and CUBIN: the emulator has no instruction set.
nvrtcResult nvrtcGetCUBINSize(nvrtcProgram prog, size_t *size) {
  auto *p = reinterpret_cast<Program *>(prog);
  if (!p || !size || p->image.empty())
    return NVRTC_ERROR_INVALID_PROGRAM;
  *size = p->image.size();
  return NVRTC_SUCCESS;
}

nvrtcResult nvrtcGetCUBIN(nvrtcProgram prog, char *image) {
  auto *p = reinterpret_cast<Program *>(prog);
  if (!p || !image || p->image.empty())
    return NVRTC_ERROR_INVALID_PROGRAM;
  std::copy(p->image.begin(), p->image.end(), image);
  return NVRTC_SUCCESS;
}

nvrtcResult nvrtcGetPTXSize(nvrtcProgram prog, size_t *size) {
  return nvrtcGetCUBINSize(prog, size);
}
nvrtcResult nvrtcGetPTX(nvrtcProgram prog, char *ptx) { return nvrtcGetCUBIN(prog, ptx); }

} // extern "C"
