//===- Tokenizer.h - Hugging Face tokenizer.json byte-level BPE -*- C++ -*-===//
//
// Reads a Hugging Face `tokenizer.json` describing a byte-level BPE tokenizer
// (GPT-2, Qwen, MiniMax-Text-01 style) and encodes/decodes exactly like the
// Python `tokenizers` library:
//   encode(text)  == tokenizer.encode(text, add_special_tokens=False).ids
//   decode(ids)   == tokenizer.decode(ids, skip_special_tokens=...)
//
// Supported: model BPE (vocab, merges in "a b" or ["a","b"] form, unk_token,
// fuse_unk, ignore_merges); normalizer null; pre_tokenizer null, ByteLevel,
// Split and Sequence; decoder null or ByteLevel; added_tokens with all their
// flags. post_processor is ignored (no special tokens are added on encode).
// Anything else is rejected with an mm::Error naming the file and the field.
//
// Deliberate differences from `tokenizers`: decode throws on ids that name no
// token (tokenizers silently drops them), encode throws on text that is not
// valid UTF-8 (Python strings always are), and files that set truncation or
// padding are rejected rather than changing what encode returns.
//
// Regexes run on the system Oniguruma, as in tokenizers; \p{L}, \p{N} and \s
// follow that library's Unicode tables. Debian's Oniguruma 6.9.8 has Unicode
// 14, tokenizers 0.23 bundles newer tables, so characters assigned after
// Unicode 14 (e.g. CJK Extension H, U+31350..) may split differently.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_TOKENIZER_H
#define MM_FRONTENDS_TOKENIZER_TOKENIZER_H

#include "runtime/Error.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mm {

class Tokenizer {
public:
  /// Reads and parses a tokenizer.json file. Throws mm::Error.
  static Tokenizer fromFile(const std::string &path);
  /// Parses tokenizer.json text; `sourceName` prefixes every error message.
  static Tokenizer fromJson(const std::string &json, const std::string &sourceName);

  Tokenizer(Tokenizer &&) noexcept;
  Tokenizer &operator=(Tokenizer &&) noexcept;
  ~Tokenizer();

  /// Token ids of `text` (UTF-8), without post-processor special tokens.
  std::vector<int64_t> encode(std::string_view text) const;
  /// Text of `ids`; throws mm::Error for an id that names no token.
  std::string decode(const std::vector<int64_t> &ids, bool skipSpecialTokens = false) const;

  /// Number of distinct tokens, added tokens included.
  int64_t vocabSize() const;
  std::optional<int64_t> tokenToId(std::string_view token) const;
  std::optional<std::string> idToToken(int64_t id) const;
  /// True for ids of added tokens marked "special" (those decode can skip).
  bool isSpecial(int64_t id) const;

private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

} // namespace mm

#endif // MM_FRONTENDS_TOKENIZER_TOKENIZER_H
