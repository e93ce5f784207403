//===- RlObjectiveTest.cpp - advantages, penalties, presets, the task -----===//
#include "training/AdditionTask.h"
#include "training/RlObjective.h"
#include "runtime/Error.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace mm::train;

// Group {1, 0, 0, 1}: mean 0.5, unbiased std sqrt(4 * 0.25 / 3) = 0.57735;
// A = +-0.5 / (0.57735 + 1e-6).
TEST(RlObjective, GroupAdvantagesByHand) {
  std::vector<double> a = groupAdvantages({1, 0, 0, 1, 1, 1, 1, 1}, 4);
  double expected = 0.5 / (std::sqrt(1.0 / 3.0) + 1e-6);
  EXPECT_NEAR(a[0], expected, 1e-12);
  EXPECT_NEAR(a[1], -expected, 1e-12);
  EXPECT_NEAR(a[3], expected, 1e-12);
  // All equal: zero advantage, never a division by zero.
  for (int i = 4; i < 8; ++i)
    EXPECT_EQ(a[i], 0.0);
}

TEST(RlObjective, GroupOfOneIsRefused) {
  try {
    groupAdvantages({1, 0}, 1);
    FAIL() << "a group size of 1 was accepted";
  } catch (const mm::Error &e) {
    EXPECT_NE(std::string(e.what()).find("at least 2"), std::string::npos) << e.what();
  }
}

// DAPO: no penalty up to max - buffer; linear to -1 at max; -1 beyond.
TEST(RlObjective, OverlongPenalty) {
  EXPECT_EQ(overlongPenalty(6, 8, 2), 0.0);
  EXPECT_DOUBLE_EQ(overlongPenalty(7, 8, 2), -0.5);
  EXPECT_DOUBLE_EQ(overlongPenalty(8, 8, 2), -1.0);
  EXPECT_DOUBLE_EQ(overlongPenalty(9, 8, 2), -1.0);
  EXPECT_EQ(overlongPenalty(8, 8, 0), 0.0);
}

TEST(RlObjective, Presets) {
  RlObjective cispo = objectivePreset("cispo");
  EXPECT_TRUE(cispo.loss.cispo);
  EXPECT_EQ(cispo.loss.epsLow, 10);
  EXPECT_TRUE(cispo.dynamicSampling);
  RlObjective dapo = objectivePreset("dapo");
  EXPECT_FALSE(dapo.loss.cispo);
  EXPECT_EQ(dapo.loss.epsHigh, 0.28);
  EXPECT_EQ(*dapo.loss.dualClip, 3);
  EXPECT_TRUE(dapo.dynamicSampling && dapo.overlongPenalty);
  RlObjective grpo = objectivePreset("grpo");
  EXPECT_TRUE(grpo.loss.perSequence);
  EXPECT_FALSE(grpo.dynamicSampling);
  EXPECT_THROW(objectivePreset("reinforce"), mm::Error);
}

TEST(AdditionTask, ParsesAndRefuses) {
  EXPECT_EQ(AdditionTask::parse("add:3").digits(), 3);
  for (const char *bad : {"add", "add:", "add:0", "add:12", "mul:2", "add:x"})
    EXPECT_THROW(AdditionTask::parse(bad), mm::Error) << bad;
}
