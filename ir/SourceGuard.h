//===- SourceGuard.h - reject input that would exhaust the parser -*- C++ -*-===//
//
// MLIR's parser recurses once per nesting level of brackets, regions and types,
// so hostile input (a megabyte of '[') overflows any stack. Tools check the
// nesting depth of the text before parsing it and report the position where
// the limit is crossed.
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_SOURCEGUARD_H
#define MM_IR_SOURCEGUARD_H

#include "llvm/ADT/StringRef.h"

#include <optional>
#include <string>

namespace mm {

/// Deeper nesting than any real model graph needs (they stay under 50).
constexpr unsigned kMaxSourceNesting = 1000;

/// Returns "line:col: error message" if `text` nests brackets ( [ { < deeper
/// than `maxDepth` outside string literals and comments; nullopt otherwise.
std::optional<std::string> checkNestingDepth(llvm::StringRef text,
                                             unsigned maxDepth = kMaxSourceNesting);

} // namespace mm

#endif // MM_IR_SOURCEGUARD_H
