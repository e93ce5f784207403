#include "ir/SourceGuard.h"

#include <gtest/gtest.h>

TEST(SourceGuard, AcceptsOrdinaryIR) {
  EXPECT_FALSE(mm::checkNestingDepth(
      "func.func @f(%x: tensor<4xf32>) -> tensor<4xf32> { return %x : tensor<4xf32> }"));
}

TEST(SourceGuard, ReportsPositionOfTheLimit) {
  auto r = mm::checkNestingDepth("\n  [[[[", 3);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->substr(0, 5), "2:6: ");
}

TEST(SourceGuard, IgnoresStringsCommentsAndArrows) {
  EXPECT_FALSE(mm::checkNestingDepth("\"[[[[[[\" // ((((((\n", 2));
  EXPECT_FALSE(mm::checkNestingDepth("\"a\\\"[[[[\"", 2));
  // Arrows do not close brackets, so they cannot hide depth either way.
  EXPECT_TRUE(mm::checkNestingDepth("(->(->(", 2));
}
