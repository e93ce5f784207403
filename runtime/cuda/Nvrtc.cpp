//===- Nvrtc.cpp - run-time compilation of CUDA C++ -----------------------===//
#include "runtime/cuda/Nvrtc.h"
#include "runtime/Error.h"
#include "runtime/cuda/DynamicLibrary.h"

#include <cstdlib>
#include <cstring>
#include <regex>
#include <sstream>

namespace mm::cuda {

struct Nvrtc::Api {
  using Program = struct NvrtcProgramHandle *;
  int (*createProgram)(Program *, const char *, const char *, int, const char *const *,
                       const char *const *);
  int (*compileProgram)(Program, int, const char *const *);
  int (*destroyProgram)(Program *);
  int (*getProgramLogSize)(Program, size_t *);
  int (*getProgramLog)(Program, char *);
  int (*getPTXSize)(Program, size_t *);
  int (*getPTX)(Program, char *);
  int (*getCUBINSize)(Program, size_t *);
  int (*getCUBIN)(Program, char *);
  int (*version)(int *, int *);
  const char *(*getErrorString)(int);
};

namespace {
// The version of the cached payload layout; bump it when the layout changes.
constexpr char kPayloadFormat[] = "mm-nvrtc-payload-1";

void putU32(std::string &out, uint32_t v) { out.append(reinterpret_cast<const char *>(&v), 4); }
void putBytes(std::string &out, const char *data, size_t n) {
  putU32(out, static_cast<uint32_t>(n));
  out.append(data, n);
}

/// Reads the payload written by serialize(); false on any inconsistency.
class Reader {
public:
  explicit Reader(const std::string &s) : s_(s) {}
  bool u32(uint32_t &v) {
    if (pos_ + 4 > s_.size())
      return false;
    std::memcpy(&v, s_.data() + pos_, 4);
    pos_ += 4;
    return true;
  }
  bool i32(int &v) {
    uint32_t u;
    if (!u32(u))
      return false;
    v = static_cast<int>(u);
    return true;
  }
  bool bytes(std::string &out) {
    uint32_t n;
    if (!u32(n) || pos_ + n > s_.size())
      return false;
    out.assign(s_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool done() const { return pos_ == s_.size(); }

private:
  const std::string &s_;
  size_t pos_ = 0;
};

std::string serialize(const CompiledKernel &k) {
  std::string out;
  putU32(out, k.isCubin ? 1 : 0);
  putBytes(out, k.image.data(), k.image.size());
  putBytes(out, k.log.data(), k.log.size());
  putU32(out, static_cast<uint32_t>(k.resources.size()));
  for (const auto &[name, r] : k.resources) {
    putBytes(out, name.data(), name.size());
    for (int v :
         {r.registers, r.spillStoreBytes, r.spillLoadBytes, r.stackFrameBytes, r.staticSharedBytes})
      putU32(out, static_cast<uint32_t>(v));
  }
  return out;
}

bool deserialize(const std::string &payload, CompiledKernel &k) {
  Reader r(payload);
  uint32_t cubin, count;
  std::string image;
  if (!r.u32(cubin) || cubin > 1 || !r.bytes(image) || !r.bytes(k.log) || !r.u32(count))
    return false;
  k.isCubin = cubin == 1;
  k.image.assign(image.begin(), image.end());
  for (uint32_t i = 0; i < count; ++i) {
    std::string name;
    KernelResources res;
    if (!r.bytes(name) || !r.i32(res.registers) || !r.i32(res.spillStoreBytes) ||
        !r.i32(res.spillLoadBytes) || !r.i32(res.stackFrameBytes) || !r.i32(res.staticSharedBytes))
      return false;
    k.resources[name] = res;
  }
  return r.done() && !k.image.empty();
}
} // namespace

std::map<std::string, KernelResources> parsePtxasInfo(const std::string &log) {
  static const std::regex entry(R"(Compiling entry function '([^']+)')");
  static const std::regex frame(
      R"((\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads)");
  static const std::regex used(R"(Used (\d+) registers)");
  static const std::regex smem(R"((\d+) bytes smem)");
  static const std::regex properties(R"(Function properties for (\S+))");
  std::map<std::string, KernelResources> result;
  KernelResources *current = nullptr;
  std::string currentName, propertiesOf; // a callee's properties may come in between
  std::istringstream lines(log);
  std::string line;
  std::smatch m;
  while (std::getline(lines, line)) {
    if (std::regex_search(line, m, entry)) {
      currentName = m[1].str();
      current = &result[currentName];
      continue;
    }
    if (!current)
      continue;
    if (std::regex_search(line, m, properties)) {
      propertiesOf = m[1].str();
      continue;
    }
    if (propertiesOf == currentName && std::regex_search(line, m, frame)) {
      current->stackFrameBytes = std::stoi(m[1].str());
      current->spillStoreBytes = std::stoi(m[2].str());
      current->spillLoadBytes = std::stoi(m[3].str());
    }
    if (std::regex_search(line, m, used)) {
      current->registers = std::stoi(m[1].str());
      if (std::regex_search(line, m, smem))
        current->staticSharedBytes = std::stoi(m[1].str());
      current = nullptr; // "Used" closes an entry's report
    }
  }
  return result;
}

std::string Nvrtc::cudaHome() {
  if (const char *home = std::getenv("CUDA_HOME"); home && *home)
    return home;
  return "/usr/local/cuda";
}

std::unique_ptr<Nvrtc> Nvrtc::load(std::string *whyNot, std::string cacheDirectory) {
  std::unique_ptr<DynamicLibrary> lib = DynamicLibrary::open(
      {"libnvrtc.so.13", "libnvrtc.so", cudaHome() + "/lib64/libnvrtc.so"}, whyNot);
  if (!lib)
    return nullptr;
  try {
    return std::unique_ptr<Nvrtc>(new Nvrtc(std::move(lib), std::move(cacheDirectory)));
  } catch (const std::exception &e) {
    if (whyNot)
      *whyNot = e.what();
    return nullptr;
  }
}

Nvrtc::Nvrtc(std::unique_ptr<DynamicLibrary> library, std::string cacheDirectory)
    : library_(std::move(library)), api_(std::make_unique<Api>()),
      cache_(std::move(cacheDirectory)) {
  const DynamicLibrary &l = *library_;
  l.resolve(api_->createProgram, {"nvrtcCreateProgram"});
  l.resolve(api_->compileProgram, {"nvrtcCompileProgram"});
  l.resolve(api_->destroyProgram, {"nvrtcDestroyProgram"});
  l.resolve(api_->getProgramLogSize, {"nvrtcGetProgramLogSize"});
  l.resolve(api_->getProgramLog, {"nvrtcGetProgramLog"});
  l.resolve(api_->getPTXSize, {"nvrtcGetPTXSize"});
  l.resolve(api_->getPTX, {"nvrtcGetPTX"});
  l.resolve(api_->getCUBINSize, {"nvrtcGetCUBINSize"});
  l.resolve(api_->getCUBIN, {"nvrtcGetCUBIN"});
  l.resolve(api_->version, {"nvrtcVersion"});
  l.resolve(api_->getErrorString, {"nvrtcGetErrorString"});
  api_->version(&major_, &minor_);
}

Nvrtc::~Nvrtc() = default;

CompiledKernel Nvrtc::compile(const std::string &source, const std::string &name,
                              const std::string &arch,
                              const std::vector<std::string> &extraOptions) const {
  bool cubin = arch.rfind("sm_", 0) == 0;
  if (!cubin && arch.rfind("compute_", 0) != 0)
    throw makeError("NVRTC: architecture '", arch, "' is neither sm_XX nor compute_XX");
  std::vector<std::string> options = {"--gpu-architecture=" + arch, "--std=c++17",
                                      "-default-device", "-I" + cudaHome() + "/include",
                                      "-I" + cudaHome() + "/include/cccl"};
  if (cubin)
    options.push_back("--ptxas-options=-v");
  options.insert(options.end(), extraOptions.begin(), extraOptions.end());

  uint64_t key = fnv1a(kPayloadFormat);
  key = fnv1a(source, key);
  for (const std::string &o : options)
    key = fnv1a(std::string_view(o.c_str(), o.size() + 1), key); // NUL-separated
  key = fnv1a(std::to_string(major_) + "." + std::to_string(minor_), key);

  if (std::optional<std::string> payload = cache_.load(key)) {
    CompiledKernel k;
    if (deserialize(*payload, k)) {
      k.fromCache = true;
      return k;
    }
  }
  CompiledKernel k = compileUncached(source, name, arch, options);
  k.isCubin = cubin;
  cache_.store(key, serialize(k));
  return k;
}

CompiledKernel Nvrtc::compileUncached(const std::string &source, const std::string &name,
                                      const std::string &arch,
                                      const std::vector<std::string> &options) const {
  const Api &a = *api_;
  auto check = [&](int result, const char *what) {
    if (result != 0)
      throw makeError(what, " failed for ", name, ": ", a.getErrorString(result));
  };
  Api::Program program = nullptr;
  check(a.createProgram(&program, source.c_str(), name.c_str(), 0, nullptr, nullptr),
        "nvrtcCreateProgram");
  struct Destroy {
    const Api &a;
    Api::Program &p;
    ~Destroy() { a.destroyProgram(&p); }
  } destroy{a, program};

  std::vector<const char *> argv;
  for (const std::string &o : options)
    argv.push_back(o.c_str());
  int compiled = a.compileProgram(program, static_cast<int>(argv.size()), argv.data());
  CompiledKernel k;
  size_t logSize = 0;
  check(a.getProgramLogSize(program, &logSize), "nvrtcGetProgramLogSize");
  k.log.assign(logSize, '\0');
  if (logSize)
    check(a.getProgramLog(program, k.log.data()), "nvrtcGetProgramLog");
  while (!k.log.empty() && k.log.back() == '\0')
    k.log.pop_back();
  if (compiled != 0)
    throw makeError("NVRTC compilation of ", name, " for ", arch, " failed (",
                    a.getErrorString(compiled), "):\n", k.log);
  size_t size = 0;
  if (arch.rfind("sm_", 0) == 0) {
    check(a.getCUBINSize(program, &size), "nvrtcGetCUBINSize");
    k.image.resize(size);
    check(a.getCUBIN(program, k.image.data()), "nvrtcGetCUBIN");
    k.resources = parsePtxasInfo(k.log);
  } else {
    check(a.getPTXSize(program, &size), "nvrtcGetPTXSize");
    k.image.resize(size);
    check(a.getPTX(program, k.image.data()), "nvrtcGetPTX");
  }
  return k;
}

} // namespace mm::cuda
