//===- SharedRollouts.cpp -------------------------------------------------===//
#include "training/SharedRollouts.h"
#include "runtime/dist/Collectives.h"

#include <algorithm>
#include <numeric>

namespace mm::train {

Share shareOf(int64_t count, int64_t parts, int64_t index) {
  return {count * index / parts, count * (index + 1) / parts};
}

namespace {
std::vector<int> everyRank() {
  std::vector<int> ranks(static_cast<size_t>(dist::world().size()));
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}
} // namespace

void sumOverWorld(std::vector<double> &values, const std::string &what) {
  if (dist::world().size() > 1)
    dist::world().allReduce(values.data(), static_cast<int64_t>(values.size()), DType::F64,
                            dist::Reduction::Sum, everyRank(), what);
}

std::vector<double> gatherAll(const std::vector<double> &mine, const std::string &what) {
  dist::Collectives &world = dist::world();
  int ranks = world.size();
  if (ranks == 1)
    return mine;
  std::vector<int> everyone = everyRank();
  // Lengths first; then every piece padded to the longest (allGather moves
  // equal counts).
  int64_t length = static_cast<int64_t>(mine.size());
  std::vector<int64_t> lengths(static_cast<size_t>(ranks));
  world.allGather(&length, lengths.data(), 1, DType::I64, everyone, what + " (lengths)");
  int64_t longest = *std::max_element(lengths.begin(), lengths.end());
  std::vector<double> padded(mine), all(static_cast<size_t>(longest * ranks));
  padded.resize(static_cast<size_t>(longest));
  world.allGather(padded.data(), all.data(), longest, DType::F64, everyone, what);
  std::vector<double> joined;
  for (int r = 0; r < ranks; ++r)
    joined.insert(joined.end(), all.begin() + r * longest, all.begin() + r * longest + lengths[r]);
  return joined;
}

GenerationResult gatherGenerations(const GenerationResult &mine, const std::string &what) {
  if (dist::world().size() == 1)
    return mine;
  // Per sequence: its length n, n token ids (exact in a double below 2^53),
  // n log-probs (or none), whether truncated. Then the counts and times.
  std::vector<double> flat;
  for (size_t i = 0; i < mine.tokens.size(); ++i) {
    const std::vector<int64_t> &tokens = mine.tokens[i];
    flat.push_back(double(tokens.size()));
    flat.insert(flat.end(), tokens.begin(), tokens.end());
    const std::vector<double> &logprobs = mine.logprobs[i];
    flat.push_back(double(logprobs.size()));
    flat.insert(flat.end(), logprobs.begin(), logprobs.end());
    flat.push_back(mine.truncated[i] ? 1 : 0);
  }
  flat.push_back(-1); // the end of this rank's sequences
  flat.insert(flat.end(), {double(mine.promptTokens), double(mine.generatedTokens),
                           mine.prefillSeconds, mine.decodeSeconds, double(mine.decodeSteps)});
  std::vector<double> all = gatherAll(flat, what);
  GenerationResult joined;
  size_t at = 0;
  auto take = [&](size_t n) {
    std::vector<double> part(all.begin() + long(at), all.begin() + long(at + n));
    at += n;
    return part;
  };
  while (at < all.size()) {
    double n = all[at++];
    if (n >= 0) {
      std::vector<double> ids = take(size_t(n));
      joined.tokens.emplace_back(ids.begin(), ids.end());
      joined.logprobs.push_back(take(size_t(all[at++])));
      joined.truncated.push_back(all[at++] != 0);
      continue;
    }
    std::vector<double> totals = take(5);
    joined.promptTokens += int64_t(totals[0]);
    joined.generatedTokens += int64_t(totals[1]);
    joined.prefillSeconds = std::max(joined.prefillSeconds, totals[2]);
    joined.decodeSeconds = std::max(joined.decodeSeconds, totals[3]);
    joined.decodeSteps = std::max(joined.decodeSteps, int64_t(totals[4]));
  }
  return joined;
}

} // namespace mm::train
