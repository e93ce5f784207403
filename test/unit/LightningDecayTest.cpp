#include "runtime/LightningDecay.h"

#include <gtest/gtest.h>

#include <cmath>

// MiniMax-Text-01: s(h, l) = 2^(-8 (h+1) / H) * (1 - l / (L - 1) + 1e-5).
TEST(LightningDecay, PowerOfTwoHeadsFollowTheSpec) {
  const int64_t heads = 64, layers = 80;
  for (int64_t layer : {0, 7, 40, 79}) {
    auto s = mm::lightningDecaySlopes(heads, layer, layers);
    ASSERT_EQ(s.size(), 64u);
    for (int64_t h = 0; h < heads; ++h) {
      double want =
          std::pow(2.0, -8.0 * (h + 1) / heads) * (1.0 - double(layer) / (layers - 1) + 1e-5);
      // The implementation raises the rounded start 2^(-8/H) to the power
      // h + 1 <= 64, which scales its 1-ulp error (1.1e-16) by up to 64.
      EXPECT_NEAR(s[h], want, 64 * 2.3e-16 * want) << "head " << h << " layer " << layer;
    }
  }
}

TEST(LightningDecay, LastLayerKeepsATinyDecay) {
  auto s = mm::lightningDecaySlopes(8, 7, 8);
  for (double v : s)
    EXPECT_GT(v, 0.0);
}

TEST(LightningDecay, NonPowerOfTwoUsesAlibiInterleaving) {
  // 6 heads: slopes of 4 heads, then every other slope of 8 heads.
  auto s = mm::alibiSlopes(6);
  ASSERT_EQ(s.size(), 6u);
  double expect[6] = {std::pow(2.0, -2), std::pow(2.0, -4), std::pow(2.0, -6),
                      std::pow(2.0, -8), std::pow(2.0, -1), std::pow(2.0, -3)};
  for (int i = 0; i < 6; ++i)
    EXPECT_DOUBLE_EQ(s[i], expect[i]) << i;
}

TEST(LightningDecay, SingleLayerModel) {
  auto s = mm::lightningDecaySlopes(2, 0, 1);
  EXPECT_DOUBLE_EQ(s[0], std::pow(2.0, -4) * (1.0 + 1e-5));
}

// A rank's block of heads under tensor parallelism takes the slopes of its
// places among all heads, not those of a smaller model.
TEST(LightningDecay, ARanksHeadsTakeTheirGlobalSlopes) {
  const int64_t index[] = {4, 5, 6, 7};
  int64_t bad = -1;
  auto local = mm::lightningDecaySlopesOfHeads(8, 3, 8, index, 4, &bad);
  auto all = mm::lightningDecaySlopes(8, 3, 8);
  ASSERT_EQ(local.size(), 4u);
  for (int h = 0; h < 4; ++h)
    EXPECT_EQ(local[h], all[4 + h]) << h;
  EXPECT_NE(local[0], mm::lightningDecaySlopes(4, 3, 8)[0]);
  const int64_t outside[] = {0, 8};
  EXPECT_TRUE(mm::lightningDecaySlopesOfHeads(8, 3, 8, outside, 2, &bad).empty());
  EXPECT_EQ(bad, 8);
}
