//===- OnigRegex.cpp - Oniguruma regexes as tokenizers uses them ----------===//

#include "frontends/tokenizer/OnigRegex.h"

#include "runtime/Error.h"

#include <oniguruma.h>

#include <mutex>

namespace mm::tokenizer {
namespace {

void initializeOnigurumaOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    OnigEncoding encodings[] = {ONIG_ENCODING_UTF8};
    onig_initialize(encodings, 1);
  });
}

std::string onigMessage(int code, OnigErrorInfo *info) {
  OnigUChar buffer[ONIG_MAX_ERROR_MESSAGE_LEN];
  int length =
      info ? onig_error_code_to_str(buffer, code, info) : onig_error_code_to_str(buffer, code);
  return std::string(reinterpret_cast<char *>(buffer), length > 0 ? length : 0);
}

const OnigUChar *bytes(std::string_view text) {
  return reinterpret_cast<const OnigUChar *>(text.data());
}

/// Frees an OnigRegion on every path out of a search.
struct ScopedRegion {
  ScopedRegion() { onig_region_init(&region); }
  ~ScopedRegion() { onig_region_free(&region, 0); }
  OnigRegion region;
};

} // namespace

OnigRegex::OnigRegex(const std::string &pattern) {
  initializeOnigurumaOnce();
  OnigErrorInfo info;
  const auto *begin = reinterpret_cast<const OnigUChar *>(pattern.data());
  int code = onig_new(&regex, begin, begin + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8,
                      ONIG_SYNTAX_DEFAULT, &info);
  if (code != ONIG_NORMAL) {
    regex = nullptr;
    throw makeError(onigMessage(code, &info));
  }
}

OnigRegex::~OnigRegex() {
  if (regex)
    onig_free(regex);
}

std::optional<ByteRange> OnigRegex::search(std::string_view text, size_t from) const {
  ScopedRegion scoped;
  const OnigUChar *begin = bytes(text), *end = begin + text.size();
  int found = onig_search(regex, begin, end, begin + from, end, &scoped.region, ONIG_OPTION_NONE);
  if (found == ONIG_MISMATCH)
    return std::nullopt;
  if (found < 0) // e.g. the backtracking limit on a pathological pattern
    throw makeError("regex search failed: ", onigMessage(found, nullptr));
  return ByteRange(static_cast<size_t>(scoped.region.beg[0]),
                   static_cast<size_t>(scoped.region.end[0]));
}

bool OnigRegex::matchesAt(std::string_view text, size_t pos) const {
  ScopedRegion scoped;
  const OnigUChar *begin = bytes(text), *end = begin + text.size();
  int length = onig_match(regex, begin, end, begin + pos, &scoped.region, ONIG_OPTION_NONE);
  if (length < 0 && length != ONIG_MISMATCH)
    throw makeError("regex match failed: ", onigMessage(length, nullptr));
  return length >= 0;
}

} // namespace mm::tokenizer
