//===- SourceGuard.cpp ----------------------------------------------------===//
#include "ir/SourceGuard.h"

#include <string>

std::optional<std::string> mm::checkNestingDepth(llvm::StringRef text, unsigned maxDepth) {
  unsigned depth = 0, line = 1, col = 0;
  bool inString = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    ++col;
    if (c == '\n') {
      ++line;
      col = 0;
      continue;
    }
    if (inString) {
      if (c == '\\')
        ++i, ++col; // skip the escaped character
      else if (c == '"')
        inString = false;
      continue;
    }
    switch (c) {
    case '"':
      inString = true;
      break;
    case '/':
      if (i + 1 < text.size() && text[i + 1] == '/') {
        size_t eol = text.find('\n', i);
        if (eol == llvm::StringRef::npos)
          return std::nullopt;
        col += eol - i - 1;
        i = eol - 1;
      }
      break;
    case '(':
    case '[':
    case '{':
    case '<':
      if (++depth > maxDepth)
        return std::to_string(line) + ":" + std::to_string(col) +
               ": error: input nests deeper than " + std::to_string(maxDepth) +
               " levels; refusing to parse it";
      break;
    case ')':
    case ']':
    case '}':
      depth = depth ? depth - 1 : 0;
      break;
    case '>':
      // '->' is an arrow, not a closing bracket.
      if (i == 0 || text[i - 1] != '-')
        depth = depth ? depth - 1 : 0;
      break;
    default:
      break;
    }
  }
  return std::nullopt;
}
