//===- AdditionTask.cpp ---------------------------------------------------===//
#include "training/AdditionTask.h"
#include "runtime/Error.h"

#include <algorithm>
#include <random>

namespace mm::train {

AdditionTask AdditionTask::parse(const std::string &spec) {
  size_t colon = spec.find(':');
  std::string name = spec.substr(0, colon);
  if (name != "add")
    throw makeError("--task '", spec, "': unknown task '", name, "' (the tasks are add:D)");
  std::string digits = colon == std::string::npos ? "" : spec.substr(colon + 1);
  if (digits.size() != 1 || digits[0] < '1' || digits[0] > '9')
    throw makeError("--task '", spec, "': expected add:D with D, the digits of each operand, "
                    "from 1 to 9");
  AdditionTask task;
  task.spec_ = spec;
  task.digits_ = digits[0] - '0';
  return task;
}

TaskExample AdditionTask::example(uint64_t seed, uint64_t stream, uint64_t index,
                                  const Tokenizer &tokenizer, int64_t eos) const {
  // One generator per example: its draw never depends on the batch layout.
  std::seed_seq seq{seed, stream, index, uint64_t(0x6164642d7461736bULL)};
  std::mt19937_64 rng(seq);
  uint64_t limit = 1;
  for (int i = 0; i < digits_; ++i)
    limit *= 10;
  std::uniform_int_distribution<uint64_t> operand(0, limit - 1);
  uint64_t a = operand(rng), b = operand(rng);
  TaskExample e;
  e.prompt = std::to_string(a) + "+" + std::to_string(b) + "=";
  e.answer = std::to_string(a + b);
  e.promptIds = tokenizer.encode(e.prompt);
  e.answerIds = tokenizer.encode(e.answer);
  e.answerIds.push_back(eos);
  return e;
}

double AdditionTask::reward(const TaskExample &example, const std::vector<int64_t> &response,
                            const Tokenizer &tokenizer, int64_t eos) const {
  auto end = std::find(response.begin(), response.end(), eos);
  std::string text = tokenizer.decode(std::vector<int64_t>(response.begin(), end));
  return text == example.answer ? 1.0 : 0.0;
}

int64_t AdditionTask::maxPromptTokens(const Tokenizer &tokenizer) const {
  std::string nines(static_cast<size_t>(digits_), '9');
  return static_cast<int64_t>(tokenizer.encode(nines + "+" + nines + "=").size());
}

int64_t AdditionTask::maxAnswerTokens(const Tokenizer &tokenizer) const {
  std::string largest = "1" + std::string(static_cast<size_t>(digits_), '8'); // 99..9 + 99..9
  return static_cast<int64_t>(tokenizer.encode(largest).size()) + 1;
}

} // namespace mm::train
