//===- AmerTest.cpp - AMER supernets, children, data and architecture files ---===//
//
// A specialised supernet must compute exactly what the child built directly
// computes: both run on the reference executor (float64) with the same
// weights and inputs. Stage 3's supernet slices its widest weights, so the
// child's weights are embedded in the top-left corner of zero tensors.
//
//===----------------------------------------------------------------------===//
#include "ir/InitDialects.h"
#include "ir/MMOps.h"
#include "reference/Executor.h"
#include "runtime/Error.h"
#include "training/amer/AmerData.h"
#include "training/amer/Planted.h"
#include "training/amer/Search.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <unistd.h>

using namespace mm;
using namespace mm::amer;

namespace {

std::string errorOf(const std::function<void()> &f) {
  try {
    f();
  } catch (const mm::Error &e) {
    return e.what();
  }
  return "";
}

DataShape smallShape() {
  DataShape s;
  s.items = 30;
  s.fieldNames = {"user_id", "item_id", "page", "age"};
  s.fieldSizes = {10, 30, 5, 4};
  s.sequence = 6;
  s.embed = 8;
  return s;
}

SearchSpace smallSpace() {
  SearchSpace space;
  space.widths = {8, 16};
  return space;
}

/// Deterministic values for a weight, from its name.
Tensor weightFor(const std::string &name, const Shape &shape) {
  Tensor t = Tensor::zeros(DType::F64, shape);
  std::mt19937_64 rng(std::hash<std::string>{}(name));
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<double>()[i] = 0.4 * (double(rng() >> 11) * 0x1.0p-53 - 0.5);
  return t;
}

/// The child's weight placed in the corner of the (possibly wider) supernet weight.
Tensor embedded(const Tensor &small, const Shape &shape) {
  Tensor big = Tensor::zeros(DType::F64, shape);
  std::vector<int64_t> index(shape.size());
  for (int64_t i = 0; i < small.numel(); ++i) {
    int64_t rest = i, offset = 0, stride = 1;
    for (int64_t d = int64_t(shape.size()) - 1; d >= 0; --d) {
      int64_t k = rest % small.shape()[d];
      rest /= small.shape()[d];
      offset += k * stride;
      stride *= shape[d];
    }
    big.data<double>()[offset] = small.data<double>()[i];
  }
  return big;
}

std::vector<Tensor> inputs(const DataShape &s) {
  int64_t B = 3, L = s.sequence;
  std::vector<int64_t> history(B * L), target(B), fields(B * 4);
  std::vector<float> mask(B * L);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < L; ++t) {
      bool valid = t >= b; // row b has b padding positions
      history[b * L + t] = valid ? 1 + (7 * b + 3 * t) % (s.items - 1) : 0;
      mask[b * L + t] = valid ? 1.0f : 0.0f;
    }
    target[b] = 1 + (5 * b + 2) % (s.items - 1);
    int64_t offset = 0;
    for (int64_t f = 0; f < 4; ++f) {
      fields[b * 4 + f] = offset + 1 + (b + f) % (s.fieldSizes[f] - 1);
      offset += s.fieldSizes[f];
    }
  }
  return {Tensor::fromVector<int64_t>({B, L}, history), Tensor::fromVector<float>({B, L}, mask),
          Tensor::fromVector<int64_t>({B}, target), Tensor::fromVector<int64_t>({B, 4}, fields)};
}

/// Logits of @score on the reference executor in float64.
std::vector<double> logits(mlir::ModuleOp module, const std::map<std::string, Tensor> &childWeights) {
  auto fn = module.lookupSymbol<mlir::func::FuncOp>(kScoreFunction);
  EXPECT_TRUE(fn);
  ReferenceExecutor exec(
      fn,
      [&](const std::string &name, const Shape &shape, DType) {
        auto it = childWeights.find(name);
        if (it == childWeights.end())
          return weightFor(name, shape);
        return it->second.shape() == shape ? it->second : embedded(it->second, shape);
      },
      ExecutorOptions{DType::F64});
  std::vector<Tensor> out = exec.run(inputs(smallShape()));
  const double *p = out[0].data<double>();
  return std::vector<double>(p, p + out[0].numel());
}

/// Every weight of the directly built child, by name.
std::map<std::string, Tensor> weightsOf(mlir::ModuleOp module) {
  std::map<std::string, Tensor> w;
  module.walk([&](ParamOp p) {
    Shape shape(p.getType().getShape().begin(), p.getType().getShape().end());
    w.emplace(p.getName().str(), weightFor(p.getName().str(), shape));
  });
  return w;
}

class AmerChild : public ::testing::Test {
protected:
  void SetUp() override {
    mlir::DialectRegistry registry;
    registerDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }

  /// The stage-`stage` supernet specialised to `arch` equals `arch` built directly.
  void expectSameAsDirect(int stage, const Architecture &arch, const SupernetSpec &base = {}) {
    SupernetSpec spec = base;
    spec.stage = stage;
    auto direct = specialisedChild(context, shape, space, SupernetSpec{0, arch, {}}, arch, Program::Score);
    auto child = specialisedChild(context, shape, space, spec, arch, Program::Score);
    bool choices = false;
    child->walk([&](ChoiceOp) { choices = true; });
    EXPECT_FALSE(choices) << "a choice point survived specialisation";
    auto fn = child->lookupSymbol<mlir::func::FuncOp>(kScoreFunction);
    EXPECT_EQ(fn.getNumArguments(), 4u) << "the selectors must be dropped";
    std::vector<double> want = logits(*direct, weightsOf(*direct)), got = logits(*child, weightsOf(*direct));
    ASSERT_EQ(want.size(), got.size());
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 1e-12 * (1 + std::abs(want[i]))) << "logit " << i;
  }

  mlir::MLIRContext context;
  DataShape shape = smallShape();
  SearchSpace space = smallSpace();
};

} // namespace

TEST_F(AmerChild, StageOneChildrenMatchTheirDirectBuild) {
  for (int64_t n = 2; n <= 4; ++n)
    for (int k = 0; k < kNumSeqOps; ++k) {
      Architecture a;
      a.widths = {16, 8, 8};
      a.blocks.clear();
      for (int64_t i = 0; i < n; ++i)
        a.blocks.push_back({(k + i) % 2 == 0, SeqOp((k + 3 * i) % kNumSeqOps), Act((k + i) % kNumActs)});
      SCOPED_TRACE("blocks " + std::to_string(n) + " first op " + name(a.blocks[0].op));
      expectSameAsDirect(1, a);
    }
}

TEST_F(AmerChild, StageTwoChildrenMatchTheirDirectBuild) {
  Architecture fixed;
  fixed.widths = {16, 8, 8};
  fixed.interactions = {{0, 2}};
  SupernetSpec spec;
  spec.fixed = fixed;
  spec.candidates = {{1, 3}, {2, 3}, {0, 1, 3}};
  for (int mask = 0; mask < 8; ++mask) {
    Architecture a = fixed;
    for (int c = 0; c < 3; ++c)
      if (mask & (1 << c))
        a.interactions.push_back(spec.candidates[c]);
    std::sort(a.interactions.begin(), a.interactions.end());
    SCOPED_TRACE("candidates " + std::to_string(mask));
    expectSameAsDirect(2, a, spec);
  }
}

TEST_F(AmerChild, StageThreeChildrenMatchTheirDirectBuildOnSlicedWeights) {
  Architecture base;
  base.interactions = {{0, 3}};
  for (int k = 0; k < 8; ++k) {
    Architecture a = base;
    a.widths = {k & 1 ? 16 : 8, k & 2 ? 16 : 8, k & 4 ? 8 : 16};
    a.mlpAct = Act(k % kNumActs);
    a.seShortcut = k % 3 == 0;
    SCOPED_TRACE("child " + std::to_string(k));
    SupernetSpec spec;
    spec.fixed = base;
    expectSameAsDirect(3, a, spec);
  }
}

TEST_F(AmerChild, EqualChildrenHaveEqualAssignments) {
  SupernetSpec spec;
  spec.stage = 1;
  Architecture a, b;
  a.blocks = {{true, SeqOp::Zero, Act::Gelu}, {false, SeqOp::Conv3, Act::Relu}};
  b.blocks = {{false, SeqOp::Zero, Act::Swish}, {false, SeqOp::Conv3, Act::Relu}};
  // A zero block's norm and activation do nothing: one key.
  EXPECT_EQ(assignment(shape, space, spec, a), assignment(shape, space, spec, b));
  b.blocks[1].act = Act::Gelu;
  EXPECT_NE(assignment(shape, space, spec, a), assignment(shape, space, spec, b));
}

TEST_F(AmerChild, RefusesArchitecturesOutsideTheSpace) {
  Architecture a;
  a.blocks.assign(5, Block{});
  EXPECT_NE(errorOf([&] { buildAmer(context, shape, space, SupernetSpec{0, a, {}}, Program::Loss); })
                .find("5 blocks, outside 2..4"),
            std::string::npos);
  Architecture w;
  w.widths = {8, 16, 24};
  SupernetSpec three{3, w, {}};
  EXPECT_NE(errorOf([&] { assignment(shape, space, three, w); }).find("MLP width 24 is not in the search space"),
            std::string::npos);
  Architecture g;
  g.interactions = {{2, 1}};
  EXPECT_NE(errorOf([&] { buildAmer(context, shape, space, SupernetSpec{0, g, {}}, Program::Loss); })
                .find("ascending"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { buildBaseline(context, shape, "xdeepfm", Program::Loss); }).find("unknown baseline"),
            std::string::npos);
}

TEST_F(AmerChild, ArchitectureFileRoundTripsAndNamesBadFields) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("mm-amer-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Architecture a;
  a.blocks = {{true, SeqOp::Gru, Act::Swish}, {false, SeqOp::Attention2, Act::Identity},
              {true, SeqOp::DilatedConv3, Act::Gelu}};
  a.interactions = {{0, 2}, {1, 2, 3}};
  a.widths = {16, 8, 16};
  a.mlpAct = Act::Gelu;
  a.seShortcut = true;
  std::string path = (dir / "architecture.json").string();
  std::ofstream(path) << architectureJson(a, shape, space, "ctr");
  EXPECT_TRUE(readArchitecture(path, shape, space) == a);

  std::ofstream(path) << R"({"behaviour": {"blocks": [{"norm": "none", "op": "conv7", "activation": "relu"}]},
                             "interactions": [], "mlp": {"widths": [8, 8, 8], "activation": "relu", "se_shortcut": false}})";
  std::string e = errorOf([&] { readArchitecture(path, shape, space); });
  EXPECT_NE(e.find(path), std::string::npos) << e;
  EXPECT_NE(e.find("behaviour.blocks[0].op"), std::string::npos) << e;
  EXPECT_NE(e.find("conv7"), std::string::npos) << e;

  std::ofstream(path) << R"({"behaviour": {"blocks": [{"norm": "none", "op": "zero", "activation": "relu"},
                                                      {"norm": "none", "op": "zero", "activation": "relu"}]},
                             "interactions": [["page", "height"]], "mlp": {"widths": [8, 8, 8], "activation": "relu", "se_shortcut": false}})";
  e = errorOf([&] { readArchitecture(path, shape, space); });
  EXPECT_NE(e.find("interactions[0]"), std::string::npos) << e;
  EXPECT_NE(e.find("'height' is not a field"), std::string::npos) << e;

  std::ofstream(path) << R"({"behaviour": {"blocks": []}, "mlp": {}})";
  e = errorOf([&] { readArchitecture(path, shape, space); });
  EXPECT_NE(e.find("field 'interactions' is missing"), std::string::npos) << e;
  fs::remove_all(dir);
}

TEST(AmerData, LeaveOneOutRowsAndSampledNegatives) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("mm-amer-planted-" + std::to_string(::getpid())) / "planted";
  PlantedOptions o;
  o.users = 20;
  o.items = 40;
  o.perUser = 6;
  writePlantedData(dir.string(), o);
  recbole::DatasetOptions d;
  d.maxSequence = 4;
  recbole::Dataset dataset = recbole::loadDataset(dir.string(), d);
  ASSERT_EQ(dataset.examples.size(), 120u);

  Data ctr(dataset, Task::Ctr, 0, 4);
  EXPECT_EQ(ctr.valid().count, 20); // one held-out row per user
  EXPECT_EQ(ctr.test().count, 20);
  Rows epoch = ctr.trainEpoch(0);
  EXPECT_EQ(epoch.count, 80);
  // The test row of user 1 is its last: its history is its 4 latest earlier items, right-aligned.
  const recbole::Example &last = dataset.examples[5];
  for (int64_t t = 0; t < 4; ++t) {
    EXPECT_EQ(ctr.test().history[t], last.history[last.history.size() - 4 + t]);
    EXPECT_EQ(ctr.test().mask[t], 1.0f);
  }
  EXPECT_EQ(ctr.test().target[0], last.item);
  // Field ids are offset into one table.
  EXPECT_EQ(ctr.test().fieldIds[1], dataset.fieldSizes[0] + last.item);

  Data seq(dataset, Task::Seq, 0, 4, 10);
  EXPECT_EQ(seq.groupSize(), 11);
  EXPECT_EQ(seq.valid().count, 20 * 11);
  EXPECT_EQ(seq.protocol(), "sampled-10");
  for (int64_t g = 0; g < 20; ++g) {
    int64_t user = dataset.examples[size_t(g) * 6].user;
    std::set<int64_t> seen, drawn;
    for (const recbole::Example &e : dataset.examples)
      if (e.user == user)
        seen.insert(e.item);
    EXPECT_EQ(seq.valid().labels[g * 11], 1.0f);
    for (int64_t k = 1; k < 11; ++k) {
      int64_t item = seq.valid().target[g * 11 + k];
      EXPECT_EQ(seen.count(item), 0u) << "a negative the user interacted with";
      EXPECT_TRUE(drawn.insert(item).second) << "a negative drawn twice";
      EXPECT_EQ(seq.valid().labels[g * 11 + k], 0.0f);
    }
  }
  Rows seqEpoch = seq.trainEpoch(0), again = seq.trainEpoch(0), next = seq.trainEpoch(1);
  EXPECT_EQ(seqEpoch.count, 160); // each positive with one negative
  EXPECT_EQ(seqEpoch.target, again.target) << "an epoch is a function of (seed, epoch)";
  EXPECT_NE(seqEpoch.target, next.target);
  fs::remove_all(dir.parent_path());
}

// Stage 2's decision (chooseInteractions): candidates ranked by mean gain
// over the contexts that lack them; the smallest prefix of that ranking
// within one standard error of the best is kept.
namespace {
const auto noNoise = [](int64_t, int64_t) { return 0.0; };
}

TEST(AmerStageTwo, RanksByMeanGainOverTheContextsThatLackACandidate) {
  double none = std::nan("");
  // Candidate 0 loses against the fixed set alone (context 0) but gains in
  // the random contexts; candidate 2 is part of context 1.
  std::vector<std::vector<double>> gains{
      {-0.002, 0.004, 0.001, -0.003}, {0.006, -0.001, none, -0.002}, {0.005, 0.000, 0.002, 0.001}};
  std::vector<std::vector<size_t>> asked;
  auto sets = [&](const std::vector<size_t> &prefix) {
    asked.push_back(prefix);
    return std::vector<double>{0.76, 0.75, 0.78, 0.77, 0.74}[prefix.size()];
  };
  InteractionChoice c = chooseInteractions(gains, 8, 0, sets, noNoise);
  EXPECT_NEAR(c.meanGain[0], 0.003, 1e-15);
  EXPECT_NEAR(c.meanGain[2], 0.0015, 1e-15); // over the two contexts that lack it
  EXPECT_EQ(c.ranking, (std::vector<size_t>{0, 2, 1, 3}));
  EXPECT_EQ(c.kept, (std::vector<size_t>{0, 2})); // the best prefix, 0.78
  ASSERT_EQ(asked.size(), 5u);                    // sizes 0..4 (room is capped by the pool)
  EXPECT_EQ(asked[4], (std::vector<size_t>{0, 2, 1, 3}));
}

TEST(AmerStageTwo, KeepsNothingUnlessAllowedAndASetBeatsTheFixedOne) {
  std::vector<std::vector<double>> gains{{-0.01, -0.02}};
  auto sets = [](double alone) {
    return [alone](const std::vector<size_t> &prefix) {
      return prefix.empty() ? alone : prefix.size() == 1 ? 0.70 : 0.69;
    };
  };
  EXPECT_TRUE(chooseInteractions(gains, 2, 0, sets(0.71), noNoise).kept.empty());
  EXPECT_TRUE(chooseInteractions(gains, 2, 0, sets(0.70), noNoise)
                  .kept.empty()); // a tie keeps the smaller set
  // The first round must keep a set: the best one, even below the fixed set.
  EXPECT_EQ(chooseInteractions(gains, 2, 1, sets(0.71), noNoise).kept, (std::vector<size_t>{0}));
  EXPECT_TRUE(chooseInteractions(gains, 0, 1, sets(0.71), noNoise).kept.empty()); // no room
}

// Prefix scores by size 0..3: 0.800, 0.810, 0.816, 0.813; the best is size 2.
// Size 1 is 0.006 below it: kept when that is within the paired standard
// error of sizes 1 and 2, not when the error is smaller; size 0 (the fixed
// set alone) is kept when even its 0.016 is within the noise.
TEST(AmerStageTwo, KeepsTheSmallestPrefixWithinOneStandardErrorOfTheBest) {
  std::vector<std::vector<double>> gains{{0.003, 0.002, 0.001}};
  auto sets = [](const std::vector<size_t> &prefix) {
    return std::vector<double>{0.800, 0.810, 0.816, 0.813}[prefix.size()];
  };
  std::vector<std::pair<int64_t, int64_t>> compared;
  auto error = [&](double e) {
    return [&compared, e](int64_t x, int64_t y) {
      compared.emplace_back(x, y);
      return e;
    };
  };
  EXPECT_EQ(chooseInteractions(gains, 3, 0, sets, error(0.005)).kept,
            (std::vector<size_t>{0, 1})); // 0.006 > 0.005: size 2
  EXPECT_EQ(compared, (std::vector<std::pair<int64_t, int64_t>>{{0, 2}, {1, 2}}));
  EXPECT_EQ(chooseInteractions(gains, 3, 0, sets, error(0.007)).kept, (std::vector<size_t>{0}));
  EXPECT_TRUE(chooseInteractions(gains, 3, 0, sets, error(0.02)).kept.empty());
  // The first round keeps at least one group, however large the noise.
  EXPECT_EQ(chooseInteractions(gains, 3, 1, sets, error(0.02)).kept, (std::vector<size_t>{0}));
}

TEST(AmerStageTwo, TiesRankTheLowerIndexFirst) {
  double none = std::nan("");
  InteractionChoice c = chooseInteractions(
      {{0.0, -0.01, 0.0, none}}, 4, 0,
      [](const std::vector<size_t> &prefix) { return prefix.empty() ? 0.5 : 0.4; }, noNoise);
  EXPECT_EQ(c.ranking, (std::vector<size_t>{0, 2, 1, 3})); // 3 is in every context: -inf
  EXPECT_TRUE(std::isinf(c.meanGain[3]) && c.meanGain[3] < 0);
  EXPECT_TRUE(c.kept.empty());
}

// Each model's embeddings start at the deviation its reference code uses
// (WeightStore::embeddingBoundFor): U(+-b) has std b / sqrt(3). A fresh
// 400 x 100 embedding's 40,000 draws give a sample std within about 0.4% of
// the true one (the relative error of a uniform's sample std is about
// 0.45 / sqrt(n)); 3% would fail for a bound off by the sqrt(3) factor or a
// wrong model mapping. No value may lie beyond the bound.
static void checkDeviation(WeightStore &store, double deviation, const std::string &model) {
  const Tensor &t = store.weight("item_emb", {400, 100});
  const float *p = t.data<float>();
  double sum = 0, squares = 0, largest = 0;
  for (int64_t i = 0; i < t.numel(); ++i) {
    sum += p[i];
    squares += double(p[i]) * p[i];
    largest = std::max(largest, std::fabs(double(p[i])));
  }
  double n = double(t.numel()), mean = sum / n;
  double std = std::sqrt(squares / n - mean * mean);
  EXPECT_NEAR(std / deviation, 1.0, 0.03) << "model '" << model << "'";
  EXPECT_LE(largest, deviation * std::sqrt(3.0) * (1 + 1e-6)) << "model '" << model << "'";
}

TEST(AmerInit, EmbeddingsStartAtTheirModelsDeviation) {
  std::vector<std::pair<std::string, double>> expected{
      {"sasrec", 0.02}, {"deepfm", 1e-4}, {"din", 0.02}, {"mlp", 0.02}, {"", 0.02}};
  for (const auto &[model, deviation] : expected) {
    WeightStore store(7, WeightStore::embeddingBoundFor(model));
    checkDeviation(store, deviation, model);
  }
}

TEST(AmerInit, AnEmbeddingStdAskedForOverridesTheModels) {
  for (const std::string model : {"sasrec", "deepfm", ""}) {
    WeightStore store(7, WeightStore::embeddingBoundFor(model, 0.5));
    checkDeviation(store, 0.5, model);
  }
}
