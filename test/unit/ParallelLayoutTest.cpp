//===- ParallelLayoutTest.cpp - --parallel layouts and mm-plan's counts ---===//
#include "frontends/ParallelLayout.h"
#include "frontends/ModelConfig.h"
#include "runtime/Error.h"
#include "tools/mm-plan/ParameterCount.h"
#include "tools/mm-plan/Plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

using namespace mm;

namespace {

const std::string kFullConfig = std::string(MM_TEST_DATA_DIR) + "/configs/minimax-text-01.json";

/// The error text of `f`, or "" when it does not throw.
template <typename F> std::string errorOf(F f) {
  try {
    f();
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(ParallelLayout, TpEpOnTwoRanksSharesTheRanks) {
  ParallelLayout l = parseParallelLayout("tp=2,ep=2", 2);
  EXPECT_EQ(l.str(), "tp=2,cp=1,dp=1,ep=2,etp=1,edp=1");
  EXPECT_FALSE(l.trivial());
}

TEST(ParallelLayout, TpEpOnFourRanksFillsDpAndEdp) {
  ParallelLayout l = parseParallelLayout("ep=2,tp=2", 4);
  EXPECT_EQ(l.dp, 2);
  EXPECT_EQ(l.edp, 2);
  EXPECT_EQ(l.str(), "tp=2,cp=1,dp=2,ep=2,etp=1,edp=2");
}

TEST(ParallelLayout, EmptyTextIsPureDataParallel) {
  EXPECT_TRUE(parseParallelLayout("", 1).trivial());
  ParallelLayout l = parseParallelLayout("", 4);
  EXPECT_EQ(l.str(), "tp=1,cp=1,dp=4,ep=1,etp=1,edp=4");
}

TEST(ParallelLayout, EveryFactorAndTheCanonicalTextRoundTrips) {
  ParallelLayout l = parseParallelLayout("etp=2,cp=2,tp=2,ep=4,dp=4,edp=2", 16);
  EXPECT_EQ(l.str(), "tp=2,cp=2,dp=4,ep=4,etp=2,edp=2");
  EXPECT_EQ(parseParallelLayout(l.str(), 16).str(), l.str());
}

TEST(ParallelLayout, DenseCoordinatesHaveTpFastestThenCpThenDp) {
  ParallelLayout l = parseParallelLayout("tp=2,cp=3,dp=2", 12);
  std::set<std::tuple<int64_t, int64_t, int64_t>> seen;
  for (int64_t r = 0; r < 12; ++r) {
    auto c = l.dense(r);
    EXPECT_EQ((c.dp * l.cp + c.cp) * l.tp + c.tp, r);
    seen.insert({c.tp, c.cp, c.dp});
  }
  EXPECT_EQ(seen.size(), 12u);
  auto c7 = l.dense(7); // 7 = (1 * 3 + 0) * 2 + 1
  EXPECT_EQ(c7.tp, 1);
  EXPECT_EQ(c7.cp, 0);
  EXPECT_EQ(c7.dp, 1);
}

TEST(ParallelLayout, MoeCoordinatesHaveEtpFastestThenEpThenEdp) {
  ParallelLayout l = parseParallelLayout("tp=2,ep=2,etp=2", 8);
  auto c5 = l.moe(5); // 5 = (1 * 2 + 0) * 2 + 1
  EXPECT_EQ(c5.etp, 1);
  EXPECT_EQ(c5.ep, 0);
  EXPECT_EQ(c5.edp, 1);
  for (int64_t r = 0; r < 8; ++r) {
    auto c = l.moe(r);
    EXPECT_EQ((c.edp * l.ep + c.ep) * l.etp + c.etp, r);
  }
  EXPECT_NE(errorOf([&] { l.moe(8); }).find("rank 8 is outside the world [0, 8)"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { l.dense(-1); }).find("rank -1"), std::string::npos);
}

TEST(ParallelLayout, RefusesBadText) {
  auto refuses = [](const std::string &text, int64_t world, const std::string &expected) {
    std::string e = errorOf([&] { parseParallelLayout(text, world); });
    EXPECT_NE(e.find("--parallel '" + text + "'"), std::string::npos) << text << ": " << e;
    EXPECT_NE(e.find(expected), std::string::npos) << text << ": " << e;
  };
  refuses("pp=2", 2, "unknown factor 'pp'");
  refuses("tp=2,tp=2", 2, "factor 'tp' is given twice");
  refuses("tp=0", 2, "tp='0' is not a positive integer");
  refuses("tp=-2", 2, "tp='-2' is not a positive integer");
  refuses("tp=1.5", 2, "tp='1.5' is not a positive integer");
  refuses("tp=", 2, "tp='' is not a positive integer");
  refuses("tp=99999999999", 2, "is not a positive integer");
  refuses("tp", 2, "'tp' is not KEY=VALUE");
  refuses("tp=2,", 2, "'' is not KEY=VALUE");
  refuses("tp=2,,ep=2", 2, "'' is not KEY=VALUE");
  refuses("tp=3", 4, "cp x tp = 1 x 3 = 3 does not divide the world size 4");
  refuses("ep=8", 4, "etp x ep = 1 x 8 = 8 does not divide the world size 4");
  refuses("tp=2,dp=3", 4, "dp x cp x tp = 3 x 1 x 2 = 6 is not the world size 4");
  refuses("ep=2,edp=1", 4, "edp x etp x ep = 1 x 1 x 2 = 2 is not the world size 4");
  refuses("tp=1", 0, "the world size must be positive");
}

TEST(ParallelLayout, FullModelAcceptsTp8Ep8) {
  MiniMaxConfig c = loadMiniMaxConfig(kFullConfig);
  ParallelLayout l = parseParallelLayout("tp=8,ep=8", 8);
  EXPECT_NO_THROW(checkLayoutFitsModel(l, c));
  EXPECT_EQ(kvHeadsPerTpRank(l, c), 1);
}

TEST(ParallelLayout, KvHeadsAreReplicatedPastTheirCount) {
  MiniMaxConfig c = loadMiniMaxConfig(kFullConfig); // 8 KV heads
  ParallelLayout l = parseParallelLayout("tp=16", 16);
  EXPECT_NO_THROW(checkLayoutFitsModel(l, c));
  EXPECT_EQ(kvHeadsPerTpRank(l, c), 1);
  EXPECT_EQ(kvHeadsPerTpRank(parseParallelLayout("tp=4", 4), c), 2);
  c.numKvHeads = 6;
  c.numHeads = 48;
  std::string e = errorOf([&] { checkLayoutFitsModel(parseParallelLayout("tp=16", 16), c); });
  EXPECT_NE(
      e.find(
          "minimax-text-01.json: field 'num_key_value_heads' = 6: tp = 16 exceeds it and is not a "
          "multiple of it"),
      std::string::npos)
      << e;
}

TEST(ParallelLayout, RefusesLayoutsTheModelCannotSplit) {
  MiniMaxConfig c = loadMiniMaxConfig(kFullConfig);
  auto refuses = [&](const std::string &text, int64_t world, const std::string &expected) {
    std::string e = errorOf([&] { checkLayoutFitsModel(parseParallelLayout(text, world), c); });
    EXPECT_NE(e.find("minimax-text-01.json: field '" + expected), std::string::npos)
        << text << ": " << e;
  };
  refuses("tp=3", 3, "num_attention_heads' = 64 is not divisible by tp = 3");
  refuses("tp=128", 128, "num_attention_heads' = 64 is not divisible by tp = 128");
  refuses("ep=3", 3, "num_local_experts' = 32 is not divisible by ep = 3");
  refuses("ep=64", 64, "num_local_experts' = 32 is not divisible by ep = 64");
  refuses("etp=2048", 2048, "intermediate_size' = 9216 is not divisible by etp = 2048");
  c.vocabSize = 200065;
  refuses("tp=2", 2, "vocab_size' = 200065 is not divisible by tp = 2");
  c.vocabSize = 200064;
  c.numKvHeads = 6;
  c.numHeads = 48;
  refuses("tp=4", 4, "num_key_value_heads' = 6 is not divisible by tp = 4");
}

// The counts the MiniMax-01 report publishes: 456B total, 45.9B active per token.
TEST(PlanModel, ParameterCountsMatchThePublishedFigures) {
  MiniMaxConfig c = loadMiniMaxConfig(kFullConfig);
  plan::ParameterCounts p = plan::countParameters(c);
  EXPECT_NEAR(double(p.total()) / 456e9, 1.0, 0.005) << p.total();
  EXPECT_NEAR(double(p.active()) / 45.9e9, 1.0, 0.01) << p.active();
  EXPECT_EQ(p.embedding, int64_t(200064) * 6144);
}

TEST(PlanModel, PerRankCountsSplitTheModel) {
  MiniMaxConfig c = loadMiniMaxConfig(kFullConfig);
  plan::ParameterCounts whole = plan::countParameters(c);
  plan::ParameterCounts r = plan::countParameters(c, parseParallelLayout("tp=8,ep=8", 8));
  EXPECT_EQ(r.experts * 8, whole.experts);
  EXPECT_EQ(r.embedding * 8, whole.embedding);
  EXPECT_EQ(r.router, whole.router); // replicated
  // tp = 16 exceeds the 8 KV heads: each rank holds a replica, so more than 1/16 of the attention.
  plan::ParameterCounts r16 = plan::countParameters(c, parseParallelLayout("tp=16", 16));
  EXPECT_GT(r16.attention * 16, whole.attention);
}

TEST(PlanModel, OneNodeServesAMillionTokensWithInt8Weights) {
  MiniMaxConfig c = loadMiniMaxConfig(kFullConfig);
  plan::Hardware hw;
  plan::Workload w;
  w.context = 1 << 20;
  w.int8Weights = true;
  ParallelLayout l = parseParallelLayout("tp=8,ep=8", 8);
  plan::Plan p = plan::planLayout(c, l, hw, w);
  EXPECT_TRUE(p.fits) << p.reason;
  // 10 softmax layers x 1 KV head x 128 x (k, v) x 2 bytes per token per GPU.
  EXPECT_DOUBLE_EQ(p.memory.kvCache, double(1 << 20) * 10 * 1 * 128 * 2 * 2);
  // 70 lightning layers x 8 heads x 128 x 128 fp32 per sequence.
  EXPECT_DOUBLE_EQ(p.memory.lightningState, 70.0 * 8 * 128 * 128 * 4);
  w.int8Weights = false;
  plan::Plan bf16 = plan::planLayout(c, l, hw, w);
  EXPECT_FALSE(bf16.fits);
  EXPECT_NE(bf16.reason.find("the largest term is weights"), std::string::npos) << bf16.reason;
}

TEST(PlanModel, SearchFindsAFittingLayoutForTraining) {
  MiniMaxConfig c = loadMiniMaxConfig(kFullConfig);
  plan::Hardware hw;
  hw.gpus = 512;
  plan::Workload w;
  w.train = true;
  w.context = 40960;
  w.batch = 512;
  plan::Choice ch = plan::chooseLayout(c, hw, w);
  ASSERT_TRUE(ch.best.has_value());
  EXPECT_TRUE(ch.best->fits);
  EXPECT_GT(ch.best->memory.optimizer, 0);
  EXPECT_EQ(ch.best->layout.world, 512);
}

} // namespace
