// Invariants of the MiniMax graph on a checkpoint with both layer kinds
// (hf-f32-packed: lightning and softmax layers, block size 16):
// prefill(n) then decode(1) equals prefill(n + 1) at the last position, for n
// inside a block, at a block edge and past it. In float64 the two paths differ
// only in summation order, O(1e-15) relative; 1e-10 is a bug detector.
#include "TestUtil.h"
#include "frontends/ModelFolder.h"
#include "reference/ReferenceBackend.h"
#include "runtime/engine/Engine.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

using namespace mm;

namespace {
class EngineInvariant : public ::testing::Test {
protected:
  void SetUp() override {
    folder = ModelFolder::open(test::dataDir("minimax/hf-f32-packed"));
    std::ifstream in(test::dataDir("minimax/hf-f32-packed/expected.json"));
    prompt = nlohmann::json::parse(in)["prompt"].get<std::vector<int64_t>>();
    backend = std::make_unique<ReferenceBackend>(folder->config, *folder->weights,
                                                 ExecutorOptions{DType::F64}, false);
  }

  /// Runs tokens [start, end) of the prompt on the backend's current caches.
  Tensor step(int64_t start, int64_t end) {
    std::vector<int64_t> ids(prompt.begin() + start, prompt.begin() + end), pos;
    for (int64_t t = start; t < end; ++t)
      pos.push_back(t);
    int64_t n = end - start;
    return backend->step(
        Tensor::fromVector<int64_t>({1, n}, ids), Tensor::fromVector<int64_t>({1, n}, pos),
        Tensor::fromVector<int64_t>({1}, {start}), Tensor::fromVector<int64_t>({1}, {n}));
  }

  std::unique_ptr<ModelFolder> folder;
  std::unique_ptr<ReferenceBackend> backend;
  std::vector<int64_t> prompt;
};
} // namespace

TEST_F(EngineInvariant, PrefillThenDecodeEqualsLongerPrefill) {
  for (int64_t n : {1, 7, 15, 16, 17, 32, 39}) {
    backend->reset(1, n + 1);
    step(0, n);
    Tensor decoded = step(n, n + 1);
    backend->reset(1, n + 1);
    Tensor whole = step(0, n + 1);
    EXPECT_LT(test::relError(decoded, whole), 1e-10) << "n = " << n;
  }
}

// Prefill in two chunks (a carried lightning state and a KV cache that is half
// full) equals one prefill.
TEST_F(EngineInvariant, ChunkedPrefillEqualsOnePrefill) {
  int64_t n = static_cast<int64_t>(prompt.size());
  backend->reset(1, n);
  step(0, 23);
  Tensor chunked = step(23, n);
  backend->reset(1, n);
  Tensor whole = step(0, n);
  EXPECT_LT(test::relError(chunked, whole), 1e-10);
}
