// A rank's block of a split weight read straight from the checkpoint
// (WeightLoader::loadBlock: only the block's bytes) equals the block cut from
// the whole weight (WeightShard::partOf), for every weight of the test
// checkpoints (f32, bf16, f16; one tensor per expert, packed experts, tied
// embeddings) and every dim a tensor- or expert-parallel split cuts.
#include "TestUtil.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/ModelFolder.h"
#include "runtime/dist/WeightShard.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace mm;

namespace {
class WeightBlocks : public ::testing::TestWithParam<std::string> {};

TEST_P(WeightBlocks, EqualTheBlocksOfTheWholeWeights) {
  auto folder = ModelFolder::open(test::dataDir("minimax/" + GetParam()));
  const minimax::WeightLoader &loader = *folder->weights;
  int read = 0, fallbacks = 0;
  for (const minimax::ParamSpec &spec : minimax::parameterSpecs(folder->config)) {
    Tensor whole = loader.load(spec.name, DType::F32);
    for (size_t dim = 0; dim < spec.shape.size(); ++dim) {
      if (spec.shape[dim] % 2 != 0)
        continue;
      dist::WeightShard shard{{2}, std::vector<std::vector<int64_t>>(spec.shape.size())};
      shard.splitAxes[dim] = {0};
      for (int rank = 0; rank < 2; ++rank) {
        std::optional<Tensor> block =
            loader.loadBlock(spec.name, DType::F32, shard.blockOf(spec.shape, rank));
        if (!block) { // the packed gate_up_proj layout: cut from the whole
          ++fallbacks;
          continue;
        }
        Tensor want = shard.partOf(whole, rank);
        ASSERT_EQ(block->shape(), want.shape()) << spec.name;
        EXPECT_EQ(std::memcmp(block->raw(), want.raw(), want.nbytes()), 0)
            << spec.name << " split on dim " << dim << ", rank " << rank;
        ++read;
      }
    }
  }
  EXPECT_GT(read, 20);
  // Only the packed formats fall back, and only for their gate_up weights.
  if (GetParam() == "official-bf16")
    EXPECT_EQ(fallbacks, 0);
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, WeightBlocks,
                         ::testing::Values("official-bf16", "hf-f32-packed",
                                           "hf-f16-sharded-tied"),
                         [](const auto &info) {
                           std::string n = info.param;
                           for (char &c : n)
                             if (c == '-')
                               c = '_';
                           return n;
                         });

TEST(WeightBlocks, OutsideTheTensorIsAnError) {
  auto folder = ModelFolder::open(test::dataDir("minimax/official-bf16"));
  minimax::ParamSpec spec = minimax::parameterSpecs(folder->config).front();
  WeightBlock outside{Shape(spec.shape.size(), 0), spec.shape};
  outside.offset[0] = 1;
  try {
    folder->weights->loadBlock(spec.name, DType::F32, outside);
    FAIL() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("does not lie in"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("model.safetensors"), std::string::npos) << e.what();
  }
}
} // namespace
