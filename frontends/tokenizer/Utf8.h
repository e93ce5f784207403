//===- Utf8.h - UTF-8 helpers that behave like Rust's str ------*- C++ -*-===//
//
// tokenizers is written in Rust; these reproduce the exact Rust behaviour we
// depend on: strict validation, String::from_utf8_lossy's replacement rule and
// char::is_whitespace.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_UTF8_H
#define MM_FRONTENDS_TOKENIZER_UTF8_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mm::tokenizer {

/// Byte offset of the first byte that does not start a valid UTF-8 sequence
/// (overlong forms, surrogates and values above U+10FFFF are invalid), or
/// std::string_view::npos when `text` is valid.
size_t findInvalidUtf8(std::string_view text);

/// Byte length of the character starting at `pos` of valid UTF-8 `text`.
size_t utf8CharLength(std::string_view text, size_t pos);

/// Decodes the character starting at `pos` of valid UTF-8 `text`.
uint32_t decodeUtf8(std::string_view text, size_t pos);

/// Start of the character that ends just before `pos` (pos > 0) in valid UTF-8.
size_t previousCharStart(std::string_view text, size_t pos);

void appendUtf8(std::string &out, uint32_t codePoint);

/// Rust's String::from_utf8_lossy: each maximal invalid subsequence becomes
/// one U+FFFD.
std::string fromUtf8Lossy(std::string_view bytes);

/// Rust's char::is_whitespace (the Unicode White_Space property).
bool isUnicodeWhitespace(uint32_t codePoint);

} // namespace mm::tokenizer

#endif // MM_FRONTENDS_TOKENIZER_UTF8_H
