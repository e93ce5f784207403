#include "ir/ShapeFunctions.h"

#include <gtest/gtest.h>

using namespace mm::shape;

TEST(ShapeFunctions, BroadcastFollowsNumPy) {
  auto r = broadcastShapes({4, 1, 8}, {3, 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (llvm::SmallVector<int64_t>{4, 3, 8}));
  EXPECT_FALSE(broadcastShapes({4, 3}, {5}));
}

TEST(ShapeFunctions, BroadcastRefinesDynamicDims) {
  auto r = broadcastShapes({kDynamic, 8}, {4, 1});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (llvm::SmallVector<int64_t>{4, 8}));
  // A dynamic dim against 1 stays dynamic.
  r = broadcastShapes({kDynamic}, {1});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], kDynamic);
}

TEST(ShapeFunctions, NormalizeDim) {
  EXPECT_EQ(normalizeDim(-1, 3), 2);
  EXPECT_EQ(normalizeDim(2, 3), 2);
  EXPECT_FALSE(normalizeDim(3, 3));
  EXPECT_FALSE(normalizeDim(-4, 3));
}

TEST(ShapeFunctions, SizesOverflowIsDetected) {
  EXPECT_EQ(mulSizes(1ll << 40, 1ll << 20), 1ll << 60);
  EXPECT_FALSE(mulSizes(1ll << 40, 1ll << 40));
  EXPECT_EQ(mulSizes(kDynamic, 4), kDynamic);
  EXPECT_FALSE(numElements({1ll << 62, 4}));
  EXPECT_EQ(numElements({2, kDynamic}), kDynamic);
  EXPECT_EQ(formatShape({2, kDynamic, 8}), "2x?x8");
}
