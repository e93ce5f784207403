//===- Dataset.cpp --------------------------------------------------------===//
#include "frontends/recbole/Dataset.h"
#include "frontends/recbole/AtomicFile.h"
#include "runtime/Error.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <unordered_map>

namespace fs = std::filesystem;

namespace mm::recbole {

namespace {
/// Values to ids 1..n in order of first appearance.
struct Vocabulary {
  std::unordered_map<std::string, int64_t> ids;
  int64_t add(const std::string &v) { return ids.emplace(v, int64_t(ids.size()) + 1).first->second; }
  std::optional<int64_t> find(const std::string &v) const {
    auto it = ids.find(v);
    return it == ids.end() ? std::nullopt : std::optional<int64_t>(it->second);
  }
  int64_t size() const { return int64_t(ids.size()) + 1; }
};

/// A side file (.user or .item) keyed by `key`: row of each key value.
struct SideFile {
  AtomicFile file;
  std::unordered_map<std::string, int64_t> rowOf;
  std::vector<const Column *> tokenFields; // besides the key
};

std::optional<SideFile> readSide(const fs::path &path, const std::string &key) {
  if (!fs::exists(path))
    return std::nullopt;
  SideFile side{readAtomicFile(path.string()), {}, {}};
  const Column &keys = side.file.require(key, FieldType::Token);
  for (int64_t r = 0; r < side.file.rows; ++r)
    if (!side.rowOf.emplace(keys.tokens[r], r).second)
      throw makeError(path.string(), ":", side.file.lineOf(r), ": field '", key, "': '",
                      keys.tokens[r], "' appears twice");
  for (const Column &c : side.file.columns)
    if (c.type == FieldType::Token && c.name != key)
      side.tokenFields.push_back(&c);
  return side;
}
} // namespace

Dataset loadDataset(const std::string &dir, const DatasetOptions &options) {
  if (options.maxSequence < 1)
    throw makeError("the maximum sequence length must be positive, got ", options.maxSequence);
  fs::path root(dir);
  std::string name = root.filename().string();
  if (name.empty())
    name = root.parent_path().filename().string();
  fs::path interPath = root / (name + ".inter");
  if (!fs::exists(interPath))
    throw makeError(dir, ": no ", name, ".inter (RecBole atomic files: NAME.inter, optional "
                    "NAME.user and NAME.item, NAME the folder's name)");
  AtomicFile inter = readAtomicFile(interPath.string());
  const Column &users = inter.require("user_id", FieldType::Token);
  const Column &items = inter.require("item_id", FieldType::Token);
  const Column *label = inter.find("label");
  const Column *rating = inter.find("rating");
  const Column *time = inter.find("timestamp");
  const Column *list = inter.find("item_id_list");
  for (const Column *c : {label, rating, time})
    if (c && c->type != FieldType::Float)
      throw makeError(interPath.string(), ": field '", c->name, "' must be float, not ",
                      fieldTypeName(c->type));
  if (list && list->type != FieldType::TokenSeq)
    throw makeError(interPath.string(), ": field 'item_id_list' must be token_seq");
  if (!label && !rating)
    throw makeError(interPath.string(), ": no label:float or rating:float field to label "
                    "examples");
  std::optional<SideFile> userFile = readSide(root / (name + ".user"), "user_id");
  std::optional<SideFile> itemFile = readSide(root / (name + ".item"), "item_id");

  Dataset d;
  d.name = name;
  // Fields: user_id, item_id, other .inter tokens, then .user's and .item's.
  std::vector<const Column *> interFields;
  for (const Column &c : inter.columns)
    if (c.type == FieldType::Token && c.name != "user_id" && c.name != "item_id")
      interFields.push_back(&c);
  d.fieldNames = {"user_id", "item_id"};
  d.fieldSides = {FieldSide::User, FieldSide::Item};
  for (const Column *c : interFields) {
    d.fieldNames.push_back(c->name);
    d.fieldSides.push_back(FieldSide::Context);
  }
  for (const auto *side : {&userFile, &itemFile})
    if (*side)
      for (const Column *c : (*side)->tokenFields) {
        d.fieldNames.push_back(c->name);
        d.fieldSides.push_back(side == &userFile ? FieldSide::User : FieldSide::Item);
      }
  std::vector<Vocabulary> vocab(d.fieldNames.size());

  for (int64_t r = 0; r < inter.rows; ++r) {
    auto where = [&](const char *field) {
      return interPath.string() + ":" + std::to_string(inter.lineOf(r)) + ": field '" + field + "'";
    };
    Example e;
    const std::string &u = users.tokens[r], &i = items.tokens[r];
    if (userFile && !userFile->rowOf.count(u))
      throw makeError(where("user_id"), ": unknown id '", u, "' (not in ", name, ".user)");
    if (itemFile && !itemFile->rowOf.count(i))
      throw makeError(where("item_id"), ": unknown id '", i, "' (not in ", name, ".item)");
    e.user = vocab[0].add(u);
    e.item = vocab[1].add(i);
    e.label = label ? label->floats[r] : (rating->floats[r] >= options.ratingThreshold ? 1 : 0);
    if (label && e.label != 0 && e.label != 1)
      throw makeError(where("label"), ": ", e.label, " is not 0 or 1");
    e.timestamp = time ? time->floats[r] : double(r);
    e.fields = {e.user, e.item};
    size_t f = 2;
    for (const Column *c : interFields)
      e.fields.push_back(vocab[f++].add(c->tokens[r]));
    for (const auto *side : {&userFile, &itemFile})
      if (*side) {
        int64_t row = (*side)->rowOf.at(side == &userFile ? u : i);
        for (const Column *c : (*side)->tokenFields)
          e.fields.push_back(vocab[f++].add(c->tokens[row]));
      }
    d.examples.push_back(std::move(e));
  }
  // Behaviour sequences: each user's earlier rows in timestamp order.
  std::vector<size_t> order(d.examples.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Example &x = d.examples[a], &y = d.examples[b];
    return x.user != y.user ? x.user < y.user : x.timestamp < y.timestamp;
  });
  std::vector<Example> sorted;
  sorted.reserve(order.size());
  for (size_t k = 0; k < order.size(); ++k) {
    Example e = std::move(d.examples[order[k]]);
    if (list) {
      for (const std::string &item : list->tokenSeqs[order[k]]) {
        if (itemFile && !itemFile->rowOf.count(item))
          throw makeError(interPath.string(), ":", inter.lineOf(int64_t(order[k])),
                          ": field 'item_id_list': unknown id '", item, "' (not in ", name,
                          ".item)");
        e.history.push_back(vocab[1].add(item));
      }
      if (int64_t(e.history.size()) > options.maxSequence)
        e.history.erase(e.history.begin(), e.history.end() - options.maxSequence);
    } else { // the latest maxSequence earlier rows of this user, oldest first
      for (size_t j = k; j-- > 0 && sorted[j].user == e.user &&
                         int64_t(e.history.size()) < options.maxSequence;)
        e.history.push_back(sorted[j].item);
      std::reverse(e.history.begin(), e.history.end());
    }
    sorted.push_back(std::move(e));
  }
  d.examples = std::move(sorted);
  for (const Vocabulary &v : vocab)
    d.fieldSizes.push_back(v.size());
  d.numUsers = d.fieldSizes[0];
  d.numItems = d.fieldSizes[1];
  return d;
}

} // namespace mm::recbole
