//===- AmerData.cpp -------------------------------------------------------===//
#include "training/amer/AmerData.h"
#include "runtime/Error.h"
#include "training/amer/Random.h"

#include <algorithm>

namespace mm::amer {

Task parseTask(const std::string &s) {
  if (s == "ctr")
    return Task::Ctr;
  if (s == "seq")
    return Task::Seq;
  throw makeError("--task: '", s, "' is not ctr or seq");
}

const char *name(Task t) { return t == Task::Ctr ? "ctr" : "seq"; }


std::vector<Tensor> Rows::batch(int64_t begin, int64_t end, bool withLabels) const {
  int64_t n = end - begin, L = sequence, F = fields;
  auto ints = [&](const std::vector<int64_t> &v, int64_t width, Shape shape) {
    return Tensor::fromVector<int64_t>(
        shape, std::vector<int64_t>(v.begin() + begin * width, v.begin() + end * width));
  };
  std::vector<Tensor> args{
      ints(history, L, {n, L}),
      Tensor::fromVector<float>({n, L}, std::vector<float>(mask.begin() + begin * L, mask.begin() + end * L)),
      ints(target, 1, {n}), ints(fieldIds, F, {n, F})};
  if (withLabels)
    args.push_back(Tensor::fromVector<float>(
        {n}, std::vector<float>(labels.begin() + begin, labels.begin() + end)));
  return args;
}

void Rows::append(const Rows &o, int64_t r) {
  history.insert(history.end(), o.history.begin() + r * o.sequence, o.history.begin() + (r + 1) * o.sequence);
  mask.insert(mask.end(), o.mask.begin() + r * o.sequence, o.mask.begin() + (r + 1) * o.sequence);
  fieldIds.insert(fieldIds.end(), o.fieldIds.begin() + r * o.fields, o.fieldIds.begin() + (r + 1) * o.fields);
  target.push_back(o.target[r]);
  labels.push_back(o.labels[r]);
  ++count;
}

Data::Data(const recbole::Dataset &dataset, Task task, uint64_t seed, int64_t sequence,
           int64_t negatives)
    : dataset_(dataset), task_(task), seed_(seed), sequence_(sequence), negatives_(negatives) {
  if (dataset.examples.empty())
    throw makeError(dataset.name, ": no interactions");
  int64_t offset = 0;
  for (int64_t size : dataset.fieldSizes) {
    fieldOffset_.push_back(offset);
    offset += size;
  }
  itemFields_.assign(dataset.numItems, std::vector<int64_t>(dataset.fieldNames.size(), 0));
  userItems_.assign(dataset.numUsers, {});
  for (const recbole::Example &e : dataset.examples) {
    for (size_t f = 0; f < e.fields.size(); ++f)
      if (dataset.fieldSides[f] == recbole::FieldSide::Item)
        itemFields_[e.item][f] = e.fields[f];
    userItems_[e.user].push_back(e.item);
  }
  for (auto &items : userItems_) {
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
  }
  // Leave-one-out by time: examples are by user, then timestamp.
  const auto &ex = dataset.examples;
  for (size_t begin = 0, end; begin < ex.size(); begin = end) {
    for (end = begin; end < ex.size() && ex[end].user == ex[begin].user;)
      ++end;
    size_t n = end - begin, trainEnd = n >= 3 ? end - 2 : end;
    for (size_t i = begin; i < trainEnd; ++i)
      train_.push_back(i);
    if (n >= 3) {
      validIdx_.push_back(end - 2);
      testIdx_.push_back(end - 1);
    }
  }
  if (validIdx_.empty())
    throw makeError(dataset.name, ": no user has 3 or more interactions to hold out");
  if (task == Task::Seq) {
    if (negatives < 1)
      throw makeError("negatives: ", negatives, " (at least 1)");
    valid_ = rankingRows(validIdx_, 1);
    test_ = rankingRows(testIdx_, 2);
  } else {
    valid_ = rowsOf(validIdx_);
    test_ = rowsOf(testIdx_);
  }
}

DataShape Data::shape(int64_t embed) const {
  DataShape s;
  s.items = dataset_.numItems;
  s.fieldNames = dataset_.fieldNames;
  s.fieldSizes = dataset_.fieldSizes;
  s.sequence = sequence_;
  s.embed = embed;
  return s;
}

std::string Data::protocol() const {
  return task_ == Task::Seq ? "sampled-" + std::to_string(negatives_) : "labels";
}

void Data::appendRow(Rows &rows, const recbole::Example &e, int64_t item, float label) const {
  int64_t L = sequence_, kept = std::min<int64_t>(L, int64_t(e.history.size()));
  rows.sequence = L;
  rows.fields = int64_t(e.fields.size());
  // Right-aligned: the most recent item at position L - 1.
  for (int64_t t = 0; t < L - kept; ++t) {
    rows.history.push_back(0);
    rows.mask.push_back(0.0f);
  }
  for (int64_t t = int64_t(e.history.size()) - kept; t < int64_t(e.history.size()); ++t) {
    rows.history.push_back(e.history[t]);
    rows.mask.push_back(1.0f);
  }
  for (size_t f = 0; f < e.fields.size(); ++f) {
    int64_t id = dataset_.fieldSides[f] == recbole::FieldSide::Item
                     ? (f == 1 ? item : itemFields_[item][f])
                     : e.fields[f];
    rows.fieldIds.push_back(fieldOffset_[f] + id);
  }
  rows.target.push_back(item);
  rows.labels.push_back(label);
  ++rows.count;
}

Rows Data::rowsOf(const std::vector<size_t> &examples) const {
  Rows rows;
  for (size_t i : examples) {
    const recbole::Example &e = dataset_.examples[i];
    appendRow(rows, e, e.item, float(e.label));
  }
  return rows;
}

int64_t Data::sampleNegative(int64_t user, SplitMix &rng) const {
  const std::vector<int64_t> &seen = userItems_[user];
  if (int64_t(seen.size()) >= dataset_.numItems - 1)
    throw makeError(dataset_.name, ": user ", user, " interacted with every item; no negative");
  for (;;) {
    int64_t item = 1 + int64_t(rng.below(uint64_t(dataset_.numItems - 1)));
    if (!std::binary_search(seen.begin(), seen.end(), item))
      return item;
  }
}

Rows Data::rankingRows(const std::vector<size_t> &heldOut, uint64_t stream) const {
  Rows rows;
  SplitMix rng(seed_ * 0x100000001b3ull + stream);
  for (size_t i : heldOut) {
    const recbole::Example &e = dataset_.examples[i];
    int64_t unseen = dataset_.numItems - 1 - int64_t(userItems_[e.user].size());
    if (unseen < negatives_)
      throw makeError(dataset_.name, ": user ", e.user, " has ", unseen,
                      " items left to sample, fewer than ", negatives_, " negatives");
    appendRow(rows, e, e.item, 1.0f);
    // Distinct negatives: a list must not hold one item twice.
    std::vector<int64_t> drawn;
    while (int64_t(drawn.size()) < negatives_) {
      int64_t item = sampleNegative(e.user, rng);
      if (std::find(drawn.begin(), drawn.end(), item) == drawn.end())
        drawn.push_back(item);
    }
    for (int64_t item : drawn)
      appendRow(rows, e, item, 0.0f);
  }
  return rows;
}

Rows Data::trainEpoch(int64_t epoch) const {
  Rows ordered;
  SplitMix rng((seed_ + 1) * 0x9e3779b97f4a7c15ull + uint64_t(epoch) * 0x632be59bd9b4e019ull);
  for (size_t i : train_) {
    const recbole::Example &e = dataset_.examples[i];
    if (task_ == Task::Ctr) {
      appendRow(ordered, e, e.item, float(e.label));
    } else {
      appendRow(ordered, e, e.item, 1.0f);
      appendRow(ordered, e, sampleNegative(e.user, rng), 0.0f);
    }
  }
  std::vector<int64_t> order(ordered.count);
  for (int64_t i = 0; i < ordered.count; ++i)
    order[i] = i;
  for (int64_t i = ordered.count - 1; i > 0; --i) // Fisher-Yates
    std::swap(order[i], order[rng.below(uint64_t(i + 1))]);
  Rows shuffled;
  shuffled.sequence = ordered.sequence;
  shuffled.fields = ordered.fields;
  for (int64_t r : order)
    shuffled.append(ordered, r);
  return shuffled;
}

} // namespace mm::amer
