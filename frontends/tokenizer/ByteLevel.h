//===- ByteLevel.h - GPT-2 byte-level alphabet -----------------*- C++ -*-===//
//
// Byte-level BPE works on bytes, each shown as one printable character
// (GPT-2's bytes_to_unicode): printable Latin-1 bytes stand for themselves,
// the others map to U+0100 and up, e.g. ' ' -> 'Ġ', '\n' -> 'Ċ'.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_BYTELEVEL_H
#define MM_FRONTENDS_TOKENIZER_BYTELEVEL_H

#include <string>
#include <string_view>

namespace mm::tokenizer {

/// The regex tokenizers' ByteLevel pre-tokenizer splits on when use_regex is set.
inline constexpr const char *kGpt2SplitPattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

/// Each byte of `text` replaced by its alphabet character (UTF-8 encoded).
std::string bytesToAlphabet(std::string_view text);

/// Appends the bytes `token` stands for: alphabet characters become their
/// bytes; a token with any other character is appended unchanged (as
/// tokenizers does for added tokens such as "<|end|>" or ones with spaces).
void appendTokenBytes(std::string &out, std::string_view token);

} // namespace mm::tokenizer

#endif // MM_FRONTENDS_TOKENIZER_BYTELEVEL_H
