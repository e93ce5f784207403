//===- AddedVocabulary.cpp - tokenizers' added tokens ---------------------===//

#include "frontends/tokenizer/AddedVocabulary.h"

#include "frontends/tokenizer/Utf8.h"

#include <algorithm>

namespace mm::tokenizer {
namespace {

/// Rust regex's Unicode \w, which tokenizers uses for single_word tokens.
constexpr const char *kWordCharPattern = R"([\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}])";

/// Start of the whitespace run that ends `text` (Rust regex `\s*$`).
size_t trailingWhitespaceStart(std::string_view text) {
  size_t start = text.size();
  while (start > 0) {
    size_t charStart = previousCharStart(text, start);
    if (!isUnicodeWhitespace(decodeUtf8(text, charStart)))
      break;
    start = charStart;
  }
  return start;
}

/// Length of the whitespace run that starts `text` (Rust regex `^\s*`).
size_t leadingWhitespaceLength(std::string_view text) {
  size_t end = 0;
  while (end < text.size() && isUnicodeWhitespace(decodeUtf8(text, end)))
    end += utf8CharLength(text, end);
  return end;
}

AddedToken parseAddedToken(const JsonCursor &entry) {
  AddedToken token;
  token.content = entry.field("content").string();
  token.special = entry.booleanOr("special", false);
  token.singleWord = entry.booleanOr("single_word", false);
  token.lstrip = entry.booleanOr("lstrip", false);
  token.rstrip = entry.booleanOr("rstrip", false);
  // tokenizers' default: special tokens match the raw text, others normalized text.
  token.normalized = entry.booleanOr("normalized", !token.special);
  return token;
}

} // namespace

bool AddedToken::operator==(const AddedToken &other) const {
  return content == other.content && singleWord == other.singleWord && lstrip == other.lstrip &&
         rstrip == other.rstrip && normalized == other.normalized && special == other.special;
}

void TokenTrie::insert(const std::string &pattern, uint32_t id) {
  uint32_t node = 0;
  for (char c : pattern) {
    auto byte = static_cast<unsigned char>(c);
    auto it = nodes[node].children.find(byte);
    if (it != nodes[node].children.end()) {
      node = it->second;
      continue;
    }
    auto child = static_cast<uint32_t>(nodes.size());
    nodes.emplace_back();
    nodes[node].children.emplace(byte, child);
    node = child;
  }
  if (!nodes[node].id) // the first pattern wins, as in aho-corasick
    nodes[node].id = id;
}

std::optional<std::pair<ByteRange, uint32_t>> TokenTrie::find(std::string_view text,
                                                              size_t from) const {
  for (size_t start = from; start < text.size(); ++start) {
    std::optional<std::pair<ByteRange, uint32_t>> longest;
    uint32_t node = 0;
    for (size_t pos = start; pos < text.size(); ++pos) {
      auto it = nodes[node].children.find(static_cast<unsigned char>(text[pos]));
      if (it == nodes[node].children.end())
        break;
      node = it->second;
      if (nodes[node].id)
        longest = std::make_pair(ByteRange(start, pos + 1), *nodes[node].id);
    }
    if (longest)
      return longest;
  }
  return std::nullopt;
}

AddedVocabulary AddedVocabulary::parse(const std::optional<JsonCursor> &addedTokens,
                                       const BpeModel &model) {
  AddedVocabulary vocabulary;
  vocabulary.wordChar = std::make_shared<const OnigRegex>(kWordCharPattern);
  if (addedTokens) {
    // One at a time and in file order: that is how tokenizers loads them, and
    // the order decides the ids of tokens missing from the model vocab.
    for (size_t i = 0; i < addedTokens->array().size(); ++i) {
      JsonCursor entry = addedTokens->element(i);
      entry.object();
      entry.field("id").tokenId(); // checked, but tokenizers assigns ids itself
      vocabulary.add(parseAddedToken(entry), model);
    }
  }
  vocabulary.buildTries(model);
  return vocabulary;
}

void AddedVocabulary::add(const AddedToken &token, const BpeModel &model) {
  if (token.special && !token.content.empty() && specialContents.insert(token.content).second)
    specialTokens.push_back(token);
  if (token.content.empty())
    return;
  auto sameContent = idsWithContent.find(token.content);
  if (sameContent != idsWithContent.end())
    for (uint32_t id : sameContent->second)
      if (tokenById.at(id) == token)
        return; // an exact duplicate changes nothing

  std::optional<uint32_t> id = tokenToId(token.content);
  if (!id)
    id = model.tokenToId(token.content);
  if (!id) {
    // A token new to the model goes after the vocab (or after the last added
    // id if that is already past it).
    uint32_t vocabSize = static_cast<uint32_t>(model.vocabSize());
    id = !maxAssignedId                                    ? vocabSize
         : (*maxAssignedId >= vocabSize || vocabSize == 0) ? *maxAssignedId + 1
                                                           : vocabSize;
  }
  idByContent[token.content] = *id;
  maxAssignedId = std::max(maxAssignedId.value_or(0), *id);
  auto previous = tokenById.find(*id);
  if (previous != tokenById.end()) {
    auto &ids = idsWithContent[previous->second.content];
    ids.erase(std::remove(ids.begin(), ids.end(), *id), ids.end());
    previous->second = token;
  } else {
    tokenById.emplace(*id, token);
  }
  idsWithContent[token.content].push_back(*id);
  if (!specialContents.count(token.content))
    nonSpecialTokens.push_back(token);
}

void AddedVocabulary::buildTries(const BpeModel &model) {
  auto insert = [&](const AddedToken &token) {
    std::optional<uint32_t> id = tokenToId(token.content);
    if (!id)
      id = model.tokenToId(token.content);
    (token.normalized ? normalizedTrie : rawTrie).insert(token.content, *id);
  };
  for (const AddedToken &token : specialTokens)
    insert(token);
  for (const AddedToken &token : nonSpecialTokens)
    insert(token);
}

std::optional<uint32_t> AddedVocabulary::tokenToId(const std::string &content) const {
  auto it = idByContent.find(content);
  if (it == idByContent.end())
    return std::nullopt;
  return it->second;
}

const AddedToken *AddedVocabulary::tokenForId(uint32_t id) const {
  auto it = tokenById.find(id);
  return it == tokenById.end() ? nullptr : &it->second;
}

bool AddedVocabulary::isWordChar(std::string_view text, size_t pos) const {
  return wordChar->matchesAt(text, pos);
}

std::vector<TextPiece> AddedVocabulary::splitWith(std::string_view text,
                                                  const TokenTrie &trie) const {
  std::vector<TextPiece> pieces;
  auto push = [&](size_t start, size_t end, std::optional<uint32_t> id) {
    if (end > start)
      pieces.push_back({std::string(text.substr(start, end - start)), id});
  };
  // A port of tokenizers' AddedVocabulary::find_matches.
  size_t startOffset = 0;
  size_t scanFrom = 0;
  while (auto match = trie.find(text, scanFrom)) {
    auto [range, id] = *match;
    auto [start, stop] = range;
    scanFrom = stop; // matches never overlap, even discarded ones
    const AddedToken &token = tokenById.at(id);
    if (token.singleWord) {
      bool wordBefore = start > 0 && isWordChar(text, previousCharStart(text, start));
      bool wordAfter = stop < text.size() && isWordChar(text, stop);
      if (wordBefore || wordAfter)
        continue;
    }
    if (token.lstrip)
      start = std::max(trailingWhitespaceStart(text.substr(0, start)), startOffset);
    if (token.rstrip)
      stop += leadingWhitespaceLength(text.substr(stop));
    if (startOffset < start)
      push(startOffset, start, std::nullopt);
    push(start, stop, id);
    startOffset = stop;
  }
  push(startOffset, text.size(), std::nullopt);
  return pieces;
}

std::vector<TextPiece> AddedVocabulary::split(std::string_view text) const {
  // Tokens that match the raw text first, then (normalizer being identity)
  // the normalized ones in what is left.
  std::vector<TextPiece> pieces;
  for (TextPiece &piece : splitWith(text, rawTrie)) {
    if (piece.addedId) {
      pieces.push_back(std::move(piece));
      continue;
    }
    for (TextPiece &inner : splitWith(piece.text, normalizedTrie))
      pieces.push_back(std::move(inner));
  }
  return pieces;
}

} // namespace mm::tokenizer
