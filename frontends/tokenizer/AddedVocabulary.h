//===- AddedVocabulary.h - tokenizers' added tokens ------------*- C++ -*-===//
//
// Tokens listed under "added_tokens" (special tokens such as
// "<end_of_sentence>" and user-added ones). Input text is split on them
// before pre-tokenization and each occurrence maps straight to its id.
// Ids are assigned exactly as tokenizers assigns them when it loads a file.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_ADDEDVOCABULARY_H
#define MM_FRONTENDS_TOKENIZER_ADDEDVOCABULARY_H

#include "frontends/tokenizer/BpeModel.h"
#include "frontends/tokenizer/JsonCursor.h"
#include "frontends/tokenizer/OnigRegex.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mm::tokenizer {

struct AddedToken {
  std::string content;
  bool singleWord = false; ///< only matches when not inside a word
  bool lstrip = false;     ///< swallows the whitespace on its left
  bool rstrip = false;     ///< swallows the whitespace on its right
  bool normalized = true;  ///< matched after normalization rather than before
  bool special = false;    ///< skippable on decode
  bool operator==(const AddedToken &other) const;
};

/// A piece of input: an added token (addedId set) or text for the pre-tokenizer.
struct TextPiece {
  std::string text;
  std::optional<uint32_t> addedId;
};

/// Finds patterns the way aho-corasick's LeftmostLongest mode does.
class TokenTrie {
public:
  void insert(const std::string &pattern, uint32_t id);
  /// The match starting leftmost at or after `from`, longest among those.
  std::optional<std::pair<ByteRange, uint32_t>> find(std::string_view text, size_t from) const;

private:
  struct Node {
    std::map<unsigned char, uint32_t> children;
    std::optional<uint32_t> id;
  };
  std::vector<Node> nodes{1};
};

class AddedVocabulary {
public:
  /// Registers the "added_tokens" array (absent: none) on top of `model`.
  static AddedVocabulary parse(const std::optional<JsonCursor> &addedTokens, const BpeModel &model);

  /// Splits `text` (valid UTF-8) on added tokens; empty pieces are dropped.
  std::vector<TextPiece> split(std::string_view text) const;

  std::optional<uint32_t> tokenToId(const std::string &content) const;
  const AddedToken *tokenForId(uint32_t id) const;
  bool isSpecialContent(const std::string &content) const {
    return specialContents.count(content) != 0;
  }
  const std::unordered_map<std::string, uint32_t> &contentToId() const { return idByContent; }

private:
  void add(const AddedToken &token, const BpeModel &model);
  void buildTries(const BpeModel &model);
  std::vector<TextPiece> splitWith(std::string_view text, const TokenTrie &trie) const;
  bool isWordChar(std::string_view text, size_t pos) const;

  std::unordered_map<std::string, uint32_t> idByContent;
  std::unordered_map<uint32_t, AddedToken> tokenById;
  /// Ids in tokenById whose token has this content (to find exact duplicates).
  std::unordered_map<std::string, std::vector<uint32_t>> idsWithContent;
  std::optional<uint32_t> maxAssignedId;
  std::vector<AddedToken> specialTokens;
  std::vector<AddedToken> nonSpecialTokens;
  std::unordered_set<std::string> specialContents;

  TokenTrie rawTrie;        ///< tokens with normalized == false
  TokenTrie normalizedTrie; ///< tokens with normalized == true
  std::shared_ptr<const OnigRegex> wordChar;
};

} // namespace mm::tokenizer

#endif // MM_FRONTENDS_TOKENIZER_ADDEDVOCABULARY_H
