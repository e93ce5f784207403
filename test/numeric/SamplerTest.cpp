#include "runtime/engine/Sampler.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <map>

using namespace mm;

TEST(Sampler, GreedyTakesTheLowestIdOnTies) {
  Sampler s(SamplingParams{}, 0);
  std::vector<double> logits{0.1, 3.0, 3.0, -1.0};
  EXPECT_EQ(s.sample(logits.data(), 4), 1);
}

TEST(Sampler, TopKOneIsGreedy) {
  SamplingParams p;
  p.greedy = false;
  p.topK = 1;
  p.temperature = 5.0;
  Sampler s(p, 3);
  std::vector<double> logits{0.1, 0.2, 2.0, 1.9};
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(s.sample(logits.data(), 4), 2);
}

TEST(Sampler, TopPKeepsTheSmallestSufficientSet) {
  SamplingParams p;
  p.greedy = false;
  p.topP = 0.5; // the first token alone holds ~0.67 of the mass
  Sampler s(p, 0);
  std::vector<double> logits{std::log(2.0), 0.0};
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(s.sample(logits.data(), 2), 0);
}

TEST(Sampler, SeededSamplingIsReproducibleAndFollowsTheDistribution) {
  SamplingParams p;
  p.greedy = false;
  p.seed = 42;
  std::vector<double> logits{0.0, std::log(3.0)}; // p = 1/4, 3/4
  Sampler a(p, 0), b(p, 0);
  std::map<int64_t, int> counts;
  for (int i = 0; i < 4000; ++i) {
    int64_t x = a.sample(logits.data(), 2);
    EXPECT_EQ(x, b.sample(logits.data(), 2));
    ++counts[x];
  }
  // Binomial(4000, 0.75): sd ~27; 5 sd is 137.
  EXPECT_NEAR(counts[1], 3000, 137);
}

TEST(Sampler, InvalidParametersAreRejected) {
  SamplingParams p;
  p.greedy = false;
  p.temperature = 0;
  EXPECT_THROW(Sampler(p, 0), Error);
  p.temperature = 1;
  p.topP = 1.5;
  EXPECT_THROW(Sampler(p, 0), Error);
}
