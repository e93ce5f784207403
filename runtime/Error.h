//===- Error.h - errors of the runtime and frontends ------------*- C++ -*-===//
//
// The runtime side (frontends, executors, engine) reports bad input with
// exceptions of this type. Messages name what is wrong and where: the file, the
// field or tensor, the op. Tools catch them at the top and exit non-zero.
// (The compiler side uses MLIR diagnostics instead.)
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_ERROR_H
#define MM_RUNTIME_ERROR_H

#include <sstream>
#include <stdexcept>
#include <string>

namespace mm {

class Error : public std::runtime_error {
public:
  explicit Error(const std::string &message) : std::runtime_error(message) {}
};

/// Builds an Error from streamable parts: throw makeError("file: ", path, ...).
template <typename... Parts> Error makeError(const Parts &...parts) {
  std::ostringstream os;
  (os << ... << parts);
  return Error(os.str());
}

} // namespace mm

#endif // MM_RUNTIME_ERROR_H
