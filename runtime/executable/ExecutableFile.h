//===- ExecutableFile.h - reading and writing compiled models ---*- C++ -*-===//
//
// An executable is an mm::exe::Executable protobuf, either in its own file
// (`.mmx`) or appended to an AOT runner binary followed by a trailer
// (payload size + magic), which the runner finds in /proc/self/exe.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_EXECUTABLE_EXECUTABLEFILE_H
#define MM_RUNTIME_EXECUTABLE_EXECUTABLEFILE_H

#include "Executable.pb.h"

#include <optional>
#include <string>

namespace mm {

/// The format version this runtime reads and writes.
constexpr uint32_t kExecutableFormatVersion = 6;

/// Parses and checks the version and internal consistency (buffer ids,
/// kernel indices, operand counts); throws mm::Error naming `source`.
exe::Executable parseExecutable(const std::string &bytes, const std::string &source);
exe::Executable readExecutable(const std::string &path);
/// Checks Executable.generation_step (if any) against the function's inputs,
/// results and symbols; throws mm::Error saying what is wrong.
void checkGenerationStep(const exe::Executable &executable);
/// Writes atomically (temporary file, then rename).
void writeExecutable(const exe::Executable &executable, const std::string &path);

/// Writes `bytes` to `path` atomically (a temporary file, then rename).
void writeFileAtomically(const std::string &path, const std::string &bytes);

/// Copies `runner` to `path`, appends the executable and its trailer, and
/// makes the result executable.
void writeAotBinary(const exe::Executable &executable, const std::string &runner,
                    const std::string &path);
/// The executable appended to the running program, if any.
std::optional<exe::Executable> readEmbeddedExecutable();

} // namespace mm

#endif // MM_RUNTIME_EXECUTABLE_EXECUTABLEFILE_H
