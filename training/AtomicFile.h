//===- AtomicFile.h - files that are whole or absent ------------*- C++ -*-===//
//
// Writes go to a temporary name in the same directory, are fsync'ed, then
// renamed over the target and the directory fsync'ed: a crash (even SIGKILL
// or power loss) leaves the old file or the new one, never a torn one.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_ATOMICFILE_H
#define MM_TRAINING_ATOMICFILE_H

#include "runtime/Tensor.h"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace mm::train {

/// Writes `bytes` to `path` atomically; throws mm::Error naming the path.
void writeFileAtomically(const std::string &path, const std::string &bytes);
/// fsync of a directory, so a rename inside it is durable.
void syncDirectory(const std::string &dir);
/// Renames `from` to `to` (a directory or file) and syncs the parent.
void renameDurably(const std::string &from, const std::string &to);

/// CRC-32 (zlib) of a tensor's bytes.
uint32_t tensorChecksum(const void *data, size_t bytes);

std::string readFile(const std::string &path);

} // namespace mm::train

#endif // MM_TRAINING_ATOMICFILE_H
