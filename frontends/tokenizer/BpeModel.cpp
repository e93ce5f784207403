//===- BpeModel.cpp - tokenizers' BPE model -------------------------------===//

#include "frontends/tokenizer/BpeModel.h"

#include "frontends/tokenizer/Utf8.h"

#include <cstdint>
#include <queue>

namespace mm::tokenizer {
namespace {

std::string jsonQuoted(const std::string &token) { return nlohmann::json(token).dump(); }

/// The two tokens of a merge: "a b" (the legacy merges.txt form) or ["a", "b"].
/// Returns nullopt for "#version" lines, which tokenizers skips without
/// giving them a rank.
std::optional<std::pair<std::string, std::string>> parseMergePair(const JsonCursor &entry) {
  if (entry.value().is_string()) {
    std::string line = entry.string();
    if (line.rfind("#version", 0) == 0)
      return std::nullopt;
    size_t space = line.find(' ');
    if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
      entry.fail("expected two tokens separated by a single space, got " + jsonQuoted(line));
    return std::make_pair(line.substr(0, space), line.substr(space + 1));
  }
  if (entry.value().is_array()) {
    if (entry.array().size() != 2)
      entry.fail("expected a pair of tokens, got " + std::to_string(entry.array().size()) +
                 " elements");
    return std::make_pair(entry.element(0).string(), entry.element(1).string());
  }
  entry.fail("expected \"a b\" or [\"a\", \"b\"]");
}

/// A merge waiting in the queue: pairs (pos, next symbol) into newId.
struct PendingMerge {
  size_t pos;
  uint32_t rank;
  uint32_t newId;
};

/// Orders the queue so that the lowest rank, then the leftmost position, is on top.
struct LowerPriority {
  bool operator()(const PendingMerge &a, const PendingMerge &b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

/// One symbol of a word being merged; a doubly linked list over a vector,
/// where merged-away symbols keep their slot with byteLength 0.
struct Symbol {
  uint32_t id;
  ptrdiff_t prev;
  ptrdiff_t next;
  size_t byteLength;
};

constexpr size_t kCacheCapacity = 10000;

} // namespace

std::unique_ptr<BpeModel> BpeModel::parse(const JsonCursor &config) {
  config.object();
  // tokenizers accepts a model without "type" when it deserializes as BPE.
  if (auto type = config.optionalField("type"); type && type->string() != "BPE")
    type->fail("unsupported model type '" + type->string() + "' (supported: BPE)");

  if (auto dropout = config.optionalField("dropout")) {
    if (!dropout->value().is_number())
      dropout->fail("expected a number or null");
    if (dropout->value().get<double>() != 0.0)
      dropout->fail("BPE dropout is not supported (it makes encoding random)");
  }
  for (const char *affix : {"continuing_subword_prefix", "end_of_word_suffix"})
    if (auto field = config.optionalField(affix); field && !field->string().empty())
      field->fail("is " + jsonQuoted(field->string()) + "; only null is supported");
  if (config.booleanOr("byte_fallback", false))
    config.field("byte_fallback").fail("byte_fallback is not supported (only false)");

  auto model = std::make_unique<BpeModel>();
  model->fuseUnk = config.booleanOr("fuse_unk", false);
  model->ignoreMerges = config.booleanOr("ignore_merges", false);

  JsonCursor vocab = config.field("vocab");
  for (const auto &[token, value] : vocab.object()) {
    // The cursor (and its path) is only built when the id needs checking.
    uint32_t id = value.is_number_unsigned() && value.get<uint64_t>() <= UINT32_MAX
                      ? value.get<uint32_t>()
                      : vocab.entry(token).tokenId();
    auto [it, inserted] = model->idToTokenMap.emplace(id, token);
    if (!inserted)
      vocab.entry(token).fail("id " + std::to_string(id) + " is also the id of " +
                              jsonQuoted(it->second));
    model->vocab.emplace(token, id);
  }

  if (auto unk = config.optionalField("unk_token")) {
    std::string token = unk->string();
    model->unkId = model->tokenToId(token);
    if (!model->unkId)
      unk->fail("unk token " + jsonQuoted(token) + " is not in model.vocab");
  }

  JsonCursor merges = config.field("merges");
  uint32_t rank = 0;
  for (size_t i = 0; i < merges.array().size(); ++i) {
    JsonCursor entry = merges.element(i);
    auto pair = parseMergePair(entry);
    if (!pair)
      continue;
    auto lookup = [&](const std::string &token, const char *what) {
      auto id = model->tokenToId(token);
      if (!id)
        entry.fail(std::string(what) + jsonQuoted(token) + " is not in model.vocab");
      return *id;
    };
    uint32_t left = lookup(pair->first, "token ");
    uint32_t right = lookup(pair->second, "token ");
    uint32_t merged = lookup(pair->first + pair->second, "merged token ");
    // A repeated pair keeps its last rank, as in tokenizers' merge map.
    model->merges[pairKey(left, right)] = Merge{rank++, merged};
  }
  return model;
}

std::optional<uint32_t> BpeModel::tokenToId(const std::string &token) const {
  auto it = vocab.find(token);
  if (it == vocab.end())
    return std::nullopt;
  return it->second;
}

const std::string *BpeModel::idToToken(uint32_t id) const {
  auto it = idToTokenMap.find(id);
  return it == idToTokenMap.end() ? nullptr : &it->second;
}

void BpeModel::tokenize(const std::string &word, std::vector<uint32_t> &ids) const {
  if (word.empty())
    return;
  if (ignoreMerges) {
    if (auto id = tokenToId(word)) {
      ids.push_back(*id);
      return;
    }
  }
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = cache.find(word);
    if (it != cache.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<uint32_t> merged = mergeWord(word);
  ids.insert(ids.end(), merged.begin(), merged.end());
  std::lock_guard<std::mutex> lock(cacheMutex);
  if (cache.size() < kCacheCapacity)
    cache.emplace(word, std::move(merged));
}

std::vector<uint32_t> BpeModel::mergeWord(const std::string &word) const {
  std::vector<Symbol> symbols;
  auto addSymbol = [&](uint32_t id, size_t byteLength) {
    ptrdiff_t index = static_cast<ptrdiff_t>(symbols.size());
    if (!symbols.empty())
      symbols.back().next = index;
    symbols.push_back({id, index - 1, -1, byteLength});
  };

  // One symbol per character; characters outside the vocab become the unk
  // token (consecutive ones fused if asked) or, without one, are dropped.
  size_t pendingUnkBytes = 0; // bytes of an unk symbol not added yet
  for (size_t pos = 0; pos < word.size();) {
    size_t length = utf8CharLength(word, pos);
    if (auto id = tokenToId(word.substr(pos, length))) {
      if (pendingUnkBytes)
        addSymbol(*unkId, pendingUnkBytes);
      pendingUnkBytes = 0;
      addSymbol(*id, length);
    } else if (unkId) {
      if (pendingUnkBytes && !fuseUnk) {
        addSymbol(*unkId, pendingUnkBytes);
        pendingUnkBytes = 0;
      }
      pendingUnkBytes += length;
    }
    pos += length;
  }
  if (pendingUnkBytes)
    addSymbol(*unkId, pendingUnkBytes);

  auto findMerge = [&](uint32_t left, uint32_t right) -> const Merge * {
    auto it = merges.find(pairKey(left, right));
    return it == merges.end() ? nullptr : &it->second;
  };

  std::priority_queue<PendingMerge, std::vector<PendingMerge>, LowerPriority> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    if (const Merge *m = findMerge(symbols[i].id, symbols[i + 1].id))
      queue.push({i, m->rank, m->newId});

  while (!queue.empty()) {
    PendingMerge top = queue.top();
    queue.pop();
    Symbol &current = symbols[top.pos];
    if (current.byteLength == 0 || current.next == -1)
      continue;
    size_t nextPos = static_cast<size_t>(current.next);
    Symbol right = symbols[nextPos];
    // Skip entries made stale by an earlier merge at this position.
    const Merge *still = findMerge(current.id, right.id);
    if (!still || still->newId != top.newId)
      continue;

    current.id = top.newId;
    current.byteLength += right.byteLength;
    current.next = right.next;
    symbols[nextPos].byteLength = 0;
    if (right.next >= 0)
      symbols[static_cast<size_t>(right.next)].prev = static_cast<ptrdiff_t>(top.pos);

    if (current.prev >= 0) {
      size_t prevPos = static_cast<size_t>(current.prev);
      if (const Merge *m = findMerge(symbols[prevPos].id, current.id))
        queue.push({prevPos, m->rank, m->newId});
    }
    if (current.next >= 0) {
      if (const Merge *m = findMerge(current.id, symbols[static_cast<size_t>(current.next)].id))
        queue.push({top.pos, m->rank, m->newId});
    }
  }

  std::vector<uint32_t> ids;
  for (const Symbol &symbol : symbols)
    if (symbol.byteLength != 0)
      ids.push_back(symbol.id);
  return ids;
}

} // namespace mm::tokenizer
