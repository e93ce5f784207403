//===- AdditionTask.h - `add:D`, a task with a verifiable reward -*- C++ -*-===//
//
// D-digit integer addition: the prompt is "a+b=" with a, b uniform in
// [0, 10^D), the answer the decimal digits of a + b followed by the end of
// sequence. The reward is an exact match (1 or 0), verifiable as MiniMax-M1's
// math rewards are. Examples are drawn from (seed, step, index) alone, so a
// resumed run sees the same ones.
//
//===----------------------------------------------------------------------===//
#ifndef MM_TRAINING_ADDITIONTASK_H
#define MM_TRAINING_ADDITIONTASK_H

#include "frontends/tokenizer/Tokenizer.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm::train {

struct TaskExample {
  std::string prompt, answer;
  std::vector<int64_t> promptIds, answerIds; // answerIds end with the end of sequence
};

class AdditionTask {
public:
  /// Parses "add:D" (1 <= D <= 9); throws mm::Error naming the spec.
  static AdditionTask parse(const std::string &spec);

  const std::string &spec() const { return spec_; }
  int digits() const { return digits_; }

  /// Example `index` of stream `stream` (a step, or the evaluation set).
  TaskExample example(uint64_t seed, uint64_t stream, uint64_t index, const Tokenizer &tokenizer,
                      int64_t eos) const;
  /// 1 when `response` (generated ids) is the answer followed by the end of
  /// sequence, or the answer up to the token limit; else 0.
  double reward(const TaskExample &example, const std::vector<int64_t> &response,
                const Tokenizer &tokenizer, int64_t eos) const;

  /// The longest prompt and answer (with the end of sequence) in tokens.
  int64_t maxPromptTokens(const Tokenizer &tokenizer) const;
  int64_t maxAnswerTokens(const Tokenizer &tokenizer) const;

private:
  std::string spec_;
  int digits_ = 0;
};

} // namespace mm::train

#endif // MM_TRAINING_ADDITIONTASK_H
