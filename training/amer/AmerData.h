//===- AmerData.h - AMER's training, validation and test rows -*- C++ -*-===//
//
// Turns a RecBole dataset (frontends/recbole) into the rows AMER's programs
// read (models/AmerBuilder.h): history, mask, target, fields, label.
//
// Split, both tasks (CHOICE, docs/amer.md): leave-one-out by time, as
// RecBole's sequential setting: each user's last row is test, the one before
// it validation, the rest training (users with fewer than 3 rows: all
// training). Histories are always every earlier row of the user.
//   ctr: each row is an example with its label (label field or rating).
//   seq: each row is a positive (implicit feedback); a training epoch pairs
//        every positive with one item the user never interacted with, drawn
//        afresh each epoch; validation and test rank the held-out item
//        against `negatives` such items fixed by the seed ("sampled-N").
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_AMER_AMERDATA_H
#define MM_TRAINING_AMER_AMERDATA_H

#include "frontends/recbole/Dataset.h"
#include "models/AmerBuilder.h"
#include "runtime/Tensor.h"
#include "training/amer/Random.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm::amer {

enum class Task { Ctr, Seq };
Task parseTask(const std::string &s);
const char *name(Task t);

/// Rows in the programs' layout.
struct Rows {
  int64_t count = 0, sequence = 0, fields = 0;
  std::vector<int64_t> history, target, fieldIds;
  std::vector<float> mask, labels;
  /// Rows [begin, end) as the programs' arguments (labels last when asked).
  std::vector<Tensor> batch(int64_t begin, int64_t end, bool withLabels) const;
  void append(const Rows &other, int64_t row);
};

class Data {
public:
  Data(const recbole::Dataset &dataset, Task task, uint64_t seed, int64_t sequence,
       int64_t negatives = 100);

  Task task() const { return task_; }
  DataShape shape(int64_t embed) const;
  /// One epoch's training rows, shuffled by (seed, epoch).
  Rows trainEpoch(int64_t epoch) const;
  const Rows &valid() const { return valid_; }
  const Rows &test() const { return test_; }
  /// Rows per ranked list in valid() and test(): 1 + negatives for seq (the
  /// held-out item first), 1 for ctr.
  int64_t groupSize() const { return task_ == Task::Seq ? 1 + negatives_ : 1; }
  /// "full" never (see the header comment); "sampled-N" for seq.
  std::string protocol() const;
  int64_t trainPositives() const { return int64_t(train_.size()); }
  const std::vector<std::string> &fieldNames() const { return dataset_.fieldNames; }

private:
  Rows rowsOf(const std::vector<size_t> &examples) const;
  /// Example `e` with its item replaced by `item` (item-side fields follow).
  void appendRow(Rows &rows, const recbole::Example &e, int64_t item, float label) const;
  Rows rankingRows(const std::vector<size_t> &heldOut, uint64_t stream) const;
  int64_t sampleNegative(int64_t user, SplitMix &rng) const;

  const recbole::Dataset &dataset_;
  Task task_;
  uint64_t seed_;
  int64_t sequence_, negatives_;
  std::vector<int64_t> fieldOffset_;
  std::vector<std::vector<int64_t>> itemFields_;     // item -> its item-side field ids
  std::vector<std::vector<int64_t>> userItems_;      // user -> sorted items interacted with
  std::vector<size_t> train_, validIdx_, testIdx_;   // example indices
  Rows valid_, test_;
};

} // namespace mm::amer

#endif // MM_TRAINING_AMER_AMERDATA_H
