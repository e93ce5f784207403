//===- ExecutableCache.h - compiled programs kept under a run directory -*- C++ -*-===//
//
// A training run compiles its programs (the step, the rollout engine, the
// reference policy) once: each is stored as DIR/NAME-HASH.mmexe, HASH a
// CRC-32 and length of everything that determines it (its IR or config,
// its sizes, the executable format), written atomically, so a resumed or
// repeated run loads it instead of compiling again.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_EXECUTABLECACHE_H
#define MM_TRAINING_EXECUTABLECACHE_H

#include "runtime/executable/ExecutableFile.h"

#include <functional>
#include <string>

namespace mm::train {

/// The executable for `key` from `dir` (empty: no cache), else `compile()`'s,
/// stored there.
exe::Executable cachedExecutable(const std::string &dir, const std::string &name,
                                 const std::string &key,
                                 const std::function<exe::Executable()> &compile);

} // namespace mm::train

#endif // MM_TRAINING_EXECUTABLECACHE_H
