//===- TextData.h - a text corpus as packed training sequences --*- C++ -*-===//
//
// UTF-8 files, tokenized and joined (an end-of-sequence token between files
// when the model has one), cut into sequences of seq_len + 1 tokens (inputs
// and their next-token labels). Each epoch shifts the cut points by an offset
// in [0, seq_len) and visits the sequences in an order, both drawn from
// (seed, epoch) alone: every token is seen at varied positions across epochs,
// and a data position (epoch, cursor) is the whole state a checkpoint must
// keep to resume bit-identically.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_TEXTDATA_H
#define MM_TRAINING_TEXTDATA_H

#include "frontends/tokenizer/Tokenizer.h"
#include "runtime/Tensor.h"

#include <optional>
#include <string>
#include <vector>

namespace mm::train {

/// Reads, validates (UTF-8, non-empty) and tokenizes the files; throws
/// mm::Error naming the file (and the byte offset of invalid UTF-8).
std::vector<int64_t> loadCorpus(const std::vector<std::string> &files, const Tokenizer &tokenizer,
                                std::optional<int64_t> endOfSequence);

struct DataPosition {
  int64_t epoch = 0;
  int64_t cursor = 0; // next sequence of the epoch's order
};

class PackedBatches {
public:
  /// Throws when the corpus holds no complete sequence of seqLen + 1 tokens.
  PackedBatches(std::vector<int64_t> tokens, int64_t seqLen, int64_t batchSize, uint64_t seed);

  /// The next batch: ids and labels [batch, seqLen] (labels = ids shifted by one).
  void next(Tensor &ids, Tensor &labels);
  DataPosition position() const { return pos_; }
  void seek(DataPosition p);

private:
  /// The epoch's offset and visiting order of its sequences.
  void plan(int64_t epoch);

  std::vector<int64_t> tokens_;
  int64_t seqLen_, batch_;
  uint64_t seed_;
  DataPosition pos_;
  int64_t offset_ = 0;
  std::vector<int64_t> order_;
};

} // namespace mm::train

#endif // MM_TRAINING_TEXTDATA_H
