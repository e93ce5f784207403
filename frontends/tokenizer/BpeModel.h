//===- BpeModel.h - tokenizers' BPE model ----------------------*- C++ -*-===//
//
// Vocabulary plus ranked merges. A word starts as one symbol per character
// and the lowest-ranked applicable merge is applied until none is left, with
// the same tie-breaking (leftmost first) as tokenizers' Word::merge_all.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_TOKENIZER_BPEMODEL_H
#define MM_FRONTENDS_TOKENIZER_BPEMODEL_H

#include "frontends/tokenizer/JsonCursor.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace mm::tokenizer {

class BpeModel {
public:
  /// Parses the "model" object (type "BPE").
  static std::unique_ptr<BpeModel> parse(const JsonCursor &config);

  /// Appends the ids of `word` to `ids`.
  void tokenize(const std::string &word, std::vector<uint32_t> &ids) const;

  std::optional<uint32_t> tokenToId(const std::string &token) const;
  const std::string *idToToken(uint32_t id) const;
  /// Number of vocab entries (tokenizers' get_vocab_size(false)).
  size_t vocabSize() const { return vocab.size(); }
  const std::unordered_map<std::string, uint32_t> &vocabulary() const { return vocab; }

private:
  struct Merge {
    uint32_t rank;
    uint32_t newId;
  };
  static uint64_t pairKey(uint32_t left, uint32_t right) {
    return (static_cast<uint64_t>(left) << 32) | right;
  }
  std::vector<uint32_t> mergeWord(const std::string &word) const;

  std::unordered_map<std::string, uint32_t> vocab;
  std::unordered_map<uint32_t, std::string> idToTokenMap;
  std::unordered_map<uint64_t, Merge> merges;
  std::optional<uint32_t> unkId;
  bool fuseUnk = false;
  bool ignoreMerges = false;

  /// Words seen before; bounded like tokenizers' cache.
  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<uint32_t>> cache;
};

} // namespace mm::tokenizer

#endif // MM_FRONTENDS_TOKENIZER_BPEMODEL_H
