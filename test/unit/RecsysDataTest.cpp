//===- RecsysDataTest.cpp - RecBole atomic files and the recsys metrics ---===//
#include "frontends/recbole/AtomicFile.h"
#include "frontends/recbole/Dataset.h"
#include "runtime/Error.h"
#include "training/RecsysMetrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>

using namespace mm;
using namespace mm::recbole;
using namespace mm::train;

static std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const mm::Error &e) {
    return e.what();
  }
  return "";
}

TEST(AtomicFile, ReadsEveryType) {
  AtomicFile f = parseAtomicFile("user_id:token\titem_id:token\trating:float\titem_id_list:token_seq"
                                 "\tscores:float_seq\n"
                                 "u1\ti10\t4\ti3 i5  i7\t0.5 1\n"
                                 "u2\ti11\t3.5\t\t\n",
                                 "ml.inter");
  ASSERT_EQ(f.rows, 2);
  EXPECT_EQ(f.require("user_id", FieldType::Token).tokens[1], "u2");
  EXPECT_EQ(f.require("rating", FieldType::Float).floats[1], 3.5);
  const Column &seq = f.require("item_id_list", FieldType::TokenSeq);
  EXPECT_EQ(seq.tokenSeqs[0], (std::vector<std::string>{"i3", "i5", "i7"}));
  EXPECT_TRUE(seq.tokenSeqs[1].empty()); // an empty cell is an empty sequence
  EXPECT_EQ(f.require("scores", FieldType::FloatSeq).floatSeqs[0], (std::vector<double>{0.5, 1}));
}

TEST(AtomicFile, RefusesWithFileLineAndField) {
  EXPECT_EQ(errorOf([] { parseAtomicFile("user_id:token\tage:blob\n", "u.user"); }),
            "u.user:1: field 'age:blob': unknown type 'blob' (token, token_seq, float or float_seq)");
  EXPECT_EQ(errorOf([] { parseAtomicFile("a:token\tb:float\nx\t1\ny\n", "d.inter"); }),
            "d.inter:3: 1 fields, the header has 2");
  EXPECT_EQ(errorOf([] { parseAtomicFile("a:token\tb:float\nx\tfast\n", "d.inter"); }),
            "d.inter:2: field 'b': 'fast' is not a finite number");
  EXPECT_EQ(errorOf([] { parseAtomicFile("a:token\tb:float_seq\nx\t1 nan\n", "d.inter"); }),
            "d.inter:2: field 'b': 'nan' is not a finite number");
  EXPECT_EQ(errorOf([] { parseAtomicFile("a:token\ta:float\n", "d.inter"); }),
            "d.inter:1: field 'a' appears twice");
  EXPECT_EQ(errorOf([] { parseAtomicFile("a:token\nx\n\ny\n", "d.inter"); }),
            "d.inter:4: blank lines inside the data");
  EXPECT_EQ(errorOf([] { parseAtomicFile("", "d.inter"); }),
            "d.inter:1: no header (expected tab-separated name:type fields)");
  AtomicFile f = parseAtomicFile("a:token\nx\n", "d.inter");
  EXPECT_EQ(errorOf([&] { f.require("a", FieldType::Float); }),
            "d.inter: field 'a' is token, expected float");
}

// sklearn's documented example: 0.75. Ties: pairs (0.5+, 0.5-) count 1/2 each:
// positive 0.5 vs two negatives 0.5 -> 1, positive 0.9 -> 2; 3 of 4 pairs.
TEST(RecsysMetrics, AucByHandWithTies) {
  EXPECT_DOUBLE_EQ(rocAuc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(rocAuc({0.5, 0.5, 0.5, 0.9}, {0, 1, 0, 1}), 0.75);
  EXPECT_DOUBLE_EQ(rocAuc({1, 1, 1}, {0, 1, 0}), 0.5); // a constant scorer
  EXPECT_NE(errorOf([] { rocAuc({0.1, 0.2}, {1, 1}); }).find("no negative"), std::string::npos);
  EXPECT_NE(errorOf([] { rocAuc({0.1, NAN}, {0, 1}); }).find("NaN"), std::string::npos);
}

// DeLong's components of the tied example above: the positive at 0.5 beats
// half of the two tied negatives (0.5), the one at 0.9 both (1); each
// negative at 0.5 is below the 0.9 positive and tied with the other (0.75).
TEST(RecsysMetrics, AucComponentsByHand) {
  AucComponents a = aucComponents({0.5, 0.5, 0.5, 0.9}, {0, 1, 0, 1});
  EXPECT_EQ(a.positive, (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(a.negative, (std::vector<double>{0.75, 0.75}));
  // Scorer b on the same rows: positives {0, 1}, negatives {0.5, 0.5}.
  // Differences: positives {0.5, 0} (variance 0.125, / 2), negatives
  // {0.25, 0.25} (variance 0): standard error sqrt(0.0625) = 0.25.
  AucComponents b = aucComponents({0.2, 0.1, 0.3, 0.9}, {0, 1, 0, 1});
  EXPECT_EQ(b.positive, (std::vector<double>{0.0, 1.0}));
  EXPECT_EQ(b.negative, (std::vector<double>{0.5, 0.5}));
  EXPECT_DOUBLE_EQ(pairedAucStandardError(a, b), 0.25);
  EXPECT_EQ(pairedAucStandardError(a, a), 0.0);
  AucComponents c = aucComponents({0.1, 0.2, 0.3}, {0, 1, 1});
  EXPECT_NE(errorOf([&] { pairedAucStandardError(a, c); }).find("rows"), std::string::npos);
  // Differences {1, 2, 3}: deviation 1, standard error 1 / sqrt(3).
  EXPECT_DOUBLE_EQ(pairedMeanStandardError({1, 2, 3}, {0, 0, 0}), 1 / std::sqrt(3.0));
}

// DeLong's paired standard error is the spread of AUC(a) - AUC(b) over
// independent validation sets. Two correlated scorers of 1000 rows, 400
// sets: the sample deviation of 400 differences is within about 3.5% (one
// sigma) of the true one, so 15% is over four sigma; the unpaired error
// (the two AUCs' errors added) is about three times larger and fails.
TEST(RecsysMetrics, PairedAucStandardErrorMatchesTheSpreadOverValidationSets) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> normal;
  std::bernoulli_distribution coin(0.4);
  std::vector<double> differences;
  double meanError = 0, meanUnpaired = 0;
  const int sets = 400, rows = 1000;
  for (int s = 0; s < sets; ++s) {
    std::vector<double> labels, a, b;
    for (int r = 0; r < rows; ++r) {
      labels.push_back(coin(rng) ? 1 : 0);
      double shared = labels.back() + normal(rng);
      a.push_back(shared + 0.3 * normal(rng));
      b.push_back(shared + 0.3 * normal(rng) + 0.2 * labels.back());
    }
    AucComponents ca = aucComponents(a, labels), cb = aucComponents(b, labels);
    differences.push_back(rocAuc(a, labels) - rocAuc(b, labels));
    meanError += pairedAucStandardError(ca, cb) / sets;
    AucComponents none{std::vector<double>(ca.positive.size()),
                       std::vector<double>(ca.negative.size())};
    meanUnpaired +=
        std::hypot(pairedAucStandardError(ca, none), pairedAucStandardError(cb, none)) / sets;
  }
  double mean = 0, squares = 0;
  for (double d : differences)
    mean += d / sets;
  for (double d : differences)
    squares += (d - mean) * (d - mean);
  double spread = std::sqrt(squares / (sets - 1));
  EXPECT_NEAR(meanError / spread, 1.0, 0.15) << "spread " << spread << ", DeLong " << meanError;
  EXPECT_GT(meanUnpaired / spread, 2.0);
}

// -(ln 0.9 + ln 0.8) / 2; p = 0 for a positive is clipped to 1e-7.
TEST(RecsysMetrics, LoglossByHand) {
  EXPECT_NEAR(logLoss({0.9, 0.2}, {1, 0}), (-std::log(0.9) - std::log(0.8)) / 2, 1e-15);
  EXPECT_NEAR(logLoss({0.0}, {1}), -std::log(1e-7), 1e-12);
  EXPECT_NE(errorOf([] { logLoss({0.5}, {2}); }).find("not 0 or 1"), std::string::npos);
}

// Ranks: target 0 (0.3) has 0.9 above and a 0.3 tie -> 3; HR@2 of {1, 3, 2}
// = 2/3; NDCG@2 = (1/log2 2 + 0 + 1/log2 3) / 3.
TEST(RecsysMetrics, RanksHitRateNdcgByHand) {
  const float scores[] = {0.3f, 0.9f, 0.3f, 0.1f};
  EXPECT_EQ(targetRank(scores, 4, 0), 3);
  EXPECT_EQ(targetRank(scores, 4, 1), 1);
  EXPECT_EQ(targetRank(scores, 4, 3), 4);
  const float constant[] = {1, 1, 1};
  EXPECT_EQ(targetRank(constant, 3, 1), 3); // a tie earns no credit
  EXPECT_DOUBLE_EQ(hitRate({1, 3, 2}, 2), 2.0 / 3);
  EXPECT_NEAR(ndcg({1, 3, 2}, 2), (1 + 1 / std::log2(3.0)) / 3, 1e-15);
}

namespace {
/// A RecBole folder in a fresh temporary directory.
std::string writeDataset(const std::string &inter, const std::string &user,
                         const std::string &item) {
  char pattern[] = "/tmp/mm-recbole-XXXXXX";
  std::string root = mkdtemp(pattern);
  std::string dir = root + "/demo";
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/demo.inter") << inter;
  if (!user.empty())
    std::ofstream(dir + "/demo.user") << user;
  if (!item.empty())
    std::ofstream(dir + "/demo.item") << item;
  return dir;
}
} // namespace

// Rows out of order in the file: sequences follow timestamps, per user, any
// label, most recent last, capped at maxSequence; ratings >= 4 are positives.
TEST(RecboleDataset, SequencesLabelsAndFields) {
  std::string dir = writeDataset("user_id:token\titem_id:token\trating:float\ttimestamp:float\tpage:token\n"
                                 "u1\ti2\t5\t20\thome\n"
                                 "u2\ti1\t1\t5\tsearch\n"
                                 "u1\ti1\t2\t10\thome\n"
                                 "u1\ti3\t4\t30\tsearch\n",
                                 "user_id:token\tage:token\nu1\t20s\nu2\t30s\n",
                                 "item_id:token\tgenre:token\tname:token_seq\ni1\tdrama\ta b\n"
                                 "i2\tcomedy\tc\ni3\tdrama\td\n");
  recbole::Dataset d = recbole::loadDataset(dir, {2, 4});
  EXPECT_EQ(d.fieldNames, (std::vector<std::string>{"user_id", "item_id", "page", "age", "genre"}));
  ASSERT_EQ(d.examples.size(), 4u);
  // u1's rows by time: i1 (t 10), i2 (t 20), i3 (t 30); then u2's.
  const auto &e = d.examples;
  EXPECT_EQ(e[0].history, std::vector<int64_t>{});
  EXPECT_EQ(e[1].history, std::vector<int64_t>{e[0].item});
  EXPECT_EQ(e[2].history, (std::vector<int64_t>{e[0].item, e[1].item}));
  EXPECT_EQ(e[2].label, 1);
  EXPECT_EQ(e[0].label, 0);
  EXPECT_EQ(e[3].history, std::vector<int64_t>{}); // u2 has no earlier rows
  EXPECT_EQ(e[0].fields[4], e[2].fields[4]);        // i1 and i3 are both drama
  EXPECT_NE(e[0].fields[4], e[1].fields[4]);
  recbole::Dataset capped = recbole::loadDataset(dir, {1, 4});
  EXPECT_EQ(capped.examples[2].history, std::vector<int64_t>{e[1].item}); // the latest one
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

TEST(RecboleDataset, UnknownIdsAndMissingLabels) {
  std::string dir = writeDataset("user_id:token\titem_id:token\trating:float\n"
                                 "u1\ti1\t5\nu9\ti1\t3\n",
                                 "user_id:token\tage:token\nu1\t20s\n", "");
  EXPECT_EQ(errorOf([&] { recbole::loadDataset(dir); }),
            dir + "/demo.inter:3: field 'user_id': unknown id 'u9' (not in demo.user)");
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
  dir = writeDataset("user_id:token\titem_id:token\nu1\ti1\n", "", "");
  EXPECT_NE(errorOf([&] { recbole::loadDataset(dir); }).find("no label:float or rating:float"),
            std::string::npos);
  std::filesystem::remove_all(std::filesystem::path(dir).parent_path());
}

// MovieLens-100K as RecBole ships it, when MM_ML100K names the folder
// (scripts/fetch_movielens.sh prints it; the data is never in the repository).
TEST(RecboleDataset, MovieLens100kWhenFetched) {
  const char *dir = std::getenv("MM_ML100K");
  if (!dir)
    GTEST_SKIP() << "MM_ML100K is not set (bash scripts/fetch_movielens.sh)";
  recbole::Dataset d = recbole::loadDataset(dir);
  EXPECT_EQ(d.examples.size(), 100000u);
  EXPECT_EQ(d.numUsers, 944); // 943 users and padding
  EXPECT_EQ(d.numItems, 1683);
  EXPECT_EQ(d.fieldNames, (std::vector<std::string>{"user_id", "item_id", "age", "gender",
                                                    "occupation", "zip_code", "release_year"}));
  double positives = 0;
  size_t longest = 0;
  for (const auto &e : d.examples) {
    positives += e.label;
    longest = std::max(longest, e.history.size());
  }
  EXPECT_EQ(positives, 55375); // ratings of 4 and 5
  EXPECT_EQ(longest, 50u);
}
