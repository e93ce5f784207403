//===- TextData.cpp - a text corpus as packed training sequences ----------===//
#include "training/TextData.h"
#include "runtime/Error.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

namespace mm::train {

namespace {
/// Byte offset of the first invalid UTF-8 sequence, or npos.
size_t firstInvalidUtf8(const std::string &s) {
  size_t i = 0, n = s.size();
  while (i < n) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > n)
      return i;
    for (size_t k = 1; k < len; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2)
        return i;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return i;
    i += len;
  }
  return std::string::npos;
}
} // namespace

std::vector<int64_t> loadCorpus(const std::vector<std::string> &files, const Tokenizer &tokenizer,
                                std::optional<int64_t> endOfSequence) {
  if (files.empty())
    throw makeError("--data: no data files given");
  std::vector<int64_t> tokens;
  for (const std::string &file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in)
      throw makeError(file, ": cannot open the data file");
    std::stringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    if (text.empty())
      throw makeError(file, ": the data file is empty");
    size_t bad = firstInvalidUtf8(text);
    if (bad != std::string::npos)
      throw makeError(file, ": not UTF-8 text (invalid byte sequence at offset ", bad, ")");
    std::vector<int64_t> ids = tokenizer.encode(text);
    if (ids.empty())
      throw makeError(file, ": tokenizes to no tokens");
    tokens.insert(tokens.end(), ids.begin(), ids.end());
    if (endOfSequence)
      tokens.push_back(*endOfSequence);
  }
  return tokens;
}

PackedBatches::PackedBatches(std::vector<int64_t> tokens, int64_t seqLen, int64_t batchSize,
                             uint64_t seed)
    : tokens_(std::move(tokens)), seqLen_(seqLen), batch_(batchSize), seed_(seed) {
  // Every offset in [0, seqLen) must leave at least one sequence.
  if (static_cast<int64_t>(tokens_.size()) < 2 * seqLen_)
    throw makeError("the data holds ", tokens_.size(), " tokens: fewer than two --seq-len (",
                    seqLen_, ") windows; give more text or a shorter --seq-len");
  plan(0);
}

void PackedBatches::plan(int64_t epoch) {
  // A generator seeded by (seed, epoch): any epoch's plan is recomputed from
  // the position alone.
  std::mt19937_64 rng(seed_ ^ (0x9E3779B97F4A7C15ull * static_cast<uint64_t>(epoch + 1)));
  offset_ = static_cast<int64_t>(rng() % static_cast<uint64_t>(seqLen_));
  int64_t count = (static_cast<int64_t>(tokens_.size()) - 1 - offset_) / seqLen_;
  order_.resize(count);
  for (int64_t i = 0; i < count; ++i)
    order_[i] = i;
  for (int64_t i = count - 1; i > 0; --i) { // Fisher-Yates
    int64_t j = static_cast<int64_t>(rng() % static_cast<uint64_t>(i + 1));
    std::swap(order_[i], order_[j]);
  }
}

void PackedBatches::seek(DataPosition p) {
  if (p.epoch < 0 || p.cursor < 0)
    throw makeError("data position (epoch ", p.epoch, ", sequence ", p.cursor, ") is invalid");
  plan(p.epoch);
  if (p.cursor > static_cast<int64_t>(order_.size()))
    throw makeError("data position (epoch ", p.epoch, ", sequence ", p.cursor,
                    ") is outside the epoch's ", order_.size(), " sequences");
  pos_ = p;
}

void PackedBatches::next(Tensor &ids, Tensor &labels) {
  ids = Tensor::empty(DType::I64, {batch_, seqLen_});
  labels = Tensor::empty(DType::I64, {batch_, seqLen_});
  int64_t *x = ids.data<int64_t>(), *y = labels.data<int64_t>();
  for (int64_t b = 0; b < batch_; ++b) {
    if (pos_.cursor == static_cast<int64_t>(order_.size())) {
      pos_ = {pos_.epoch + 1, 0};
      plan(pos_.epoch);
    }
    const int64_t *seq = tokens_.data() + offset_ + order_[pos_.cursor++] * seqLen_;
    std::copy(seq, seq + seqLen_, x + b * seqLen_);
    std::copy(seq + 1, seq + seqLen_ + 1, y + b * seqLen_);
  }
}

} // namespace mm::train
