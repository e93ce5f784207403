//===- Dataset.h - a RecBole dataset as AMER's examples ---------*- C++ -*-===//
//
// A folder DIR holding NAME.inter and optionally NAME.user and NAME.item
// (NAME = the folder's name), read as RecBole reads them:
//   * every row of .inter is an example: its user, its item (the target),
//     its label, and its behaviour sequence, the user's earlier rows (any
//     label) in timestamp order, most recent last, at most maxSequence
//     (an `item_id_list:token_seq` column, when present, spells it out);
//   * the label is `label:float` when present, else rating >= threshold;
//   * the non-sequential fields (for AMER's interaction and MLP stages) are
//     user_id, item_id, every other token field of .inter (context: page,
//     device) and every token field of .user and .item, joined by id. Each
//     field's values become ids 1..n in order of first appearance; 0 is
//     padding and the unknown value.
// CHOICE (docs/amer.md): token_seq and float side fields are not used yet.
// An id in .inter missing from .user / .item is refused with file, line and
// field.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_RECBOLE_DATASET_H
#define MM_FRONTENDS_RECBOLE_DATASET_H

#include <cstdint>
#include <string>
#include <vector>

namespace mm::recbole {

struct DatasetOptions {
  int64_t maxSequence = 50;
  double ratingThreshold = 4; // RecBole's context-aware ml-100k setting
};

struct Example {
  int64_t user = 0, item = 0; // ids in the user_id / item_id vocabularies
  double label = 0, timestamp = 0;
  std::vector<int64_t> history; // item ids, most recent last
  std::vector<int64_t> fields;  // one id per Dataset::fieldNames
};

/// Whose attribute a non-sequential field is: a sampled negative item keeps
/// the row's user and context fields and takes the item's own.
enum class FieldSide { User, Item, Context };

struct Dataset {
  std::string name;
  std::vector<std::string> fieldNames; // user_id and item_id first
  std::vector<FieldSide> fieldSides;   // one per field
  std::vector<int64_t> fieldSizes;     // vocabulary sizes, padding included
  int64_t numItems = 0, numUsers = 0;  // padding included
  std::vector<Example> examples;       // by user, then timestamp, then file order
};

/// Throws mm::Error naming the file, line and field of what is wrong.
Dataset loadDataset(const std::string &dir, const DatasetOptions &options = {});

} // namespace mm::recbole

#endif // MM_FRONTENDS_RECBOLE_DATASET_H
