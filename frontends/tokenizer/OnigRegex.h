//===- OnigRegex.h - Oniguruma regexes as tokenizers uses them -*- C++ -*-===//
//
// tokenizers compiles its regexes with Oniguruma (the `onig` crate: UTF-8,
// default Ruby syntax, no options). Using the same engine the same way is what
// makes \p{L}, (?i:...) and (?!\S) behave identically.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_ONIGREGEX_H
#define MM_FRONTENDS_TOKENIZER_ONIGREGEX_H

#include "frontends/tokenizer/Utf8.h"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct re_pattern_buffer; // Oniguruma's regex_t

namespace mm::tokenizer {

/// A byte range [first, second) of a text.
using ByteRange = std::pair<size_t, size_t>;

class OnigRegex {
public:
  /// Compiles `pattern`; throws mm::Error carrying Oniguruma's message.
  explicit OnigRegex(const std::string &pattern);
  ~OnigRegex();
  OnigRegex(const OnigRegex &) = delete;
  OnigRegex &operator=(const OnigRegex &) = delete;

  /// The leftmost match starting at or after `from` (lookbehind still sees
  /// the text before `from`). `text` must be valid UTF-8.
  std::optional<ByteRange> search(std::string_view text, size_t from) const;
  /// True when the regex matches starting exactly at `pos`.
  bool matchesAt(std::string_view text, size_t pos) const;

private:
  re_pattern_buffer *regex = nullptr;
};

/// Successive non-overlapping matches, the way the `onig` crate's find_iter
/// reports them: an empty match right where the previous match ended is
/// skipped by advancing one character. `search(text, from)` finds the leftmost
/// match at or after `from`.
template <typename Search>
std::vector<ByteRange> findAllMatches(std::string_view text, Search &&search) {
  std::vector<ByteRange> matches;
  size_t lastEnd = 0;
  std::optional<size_t> lastMatchEnd;
  while (lastEnd <= text.size()) {
    std::optional<ByteRange> match = search(text, lastEnd);
    if (!match)
      break;
    auto [start, end] = *match;
    if (start == end && lastMatchEnd == end) {
      lastEnd += lastEnd < text.size() ? utf8CharLength(text, lastEnd) : 1;
      continue;
    }
    lastEnd = end;
    lastMatchEnd = end;
    matches.push_back(*match);
  }
  return matches;
}

} // namespace mm::tokenizer

#endif // MM_FRONTENDS_TOKENIZER_ONIGREGEX_H
