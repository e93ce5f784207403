//===- CudaLaunchPlanTest.cpp - typed CUDA launch steps, both sides --------===//
//
// The code generator writes launch shapes as expressions
// (codegen/CudaLaunchBuilder.h); the kernel tests launch the library with the
// runtime's cuda::launch functions (runtime/cuda/LaunchShapes.h). Both read
// interface.cuh, and here they must agree at every size. Also: the
// evaluator's arithmetic and its refusals, and the validation of hostile plans.
//
//===----------------------------------------------------------------------===//
#include "runtime/executable/CudaLaunchPlan.h"
#include "codegen/CudaLaunchBuilder.h"
#include "runtime/Error.h"
#include "runtime/cuda/LaunchShapes.h"
#include "runtime/executable/ExecutableFile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

using namespace mm;
using cudagen::Int;
namespace shapes = cudagen::shapes;

namespace {

LaunchValues valuesOf(const std::map<std::string, int64_t> &symbols, int multiprocessors = 132) {
  LaunchValues v;
  v.symbol = [symbols](const std::string &name) { return symbols.at(name); };
  v.numel = [](uint32_t) -> int64_t { throw makeError("no operands here"); };
  v.multiprocessors = multiprocessors;
  return v;
}

/// The runtime's clamping of an evaluated grid (CudaBackend's gridAxis).
unsigned axis(int64_t n, int i) {
  return i == 0 ? unsigned(std::clamp<int64_t>(n, 1, 0x7fffffff))
                : unsigned(std::max<int64_t>(n, 1));
}

void expectSame(const cudagen::Shape &generated, const cuda::LaunchShape &runtime,
                const LaunchValues &v, const std::string &what) {
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(axis(evaluate(generated.grid[i].expr, v), i), runtime.grid[i])
        << what << " axis " << i;
  EXPECT_EQ(generated.block, runtime.block) << what;
  EXPECT_EQ(evaluate(generated.sharedBytes.expr, v), int64_t(runtime.sharedBytes)) << what;
}

TEST(CudaLaunchPlan, GeneratedShapesEqualTheRuntimeLaunchShapes) {
  Int B = cudagen::symbol("B"), T = cudagen::symbol("T"), S = cudagen::symbol("S");
  for (int64_t b : {1, 2, 7})
    for (int64_t t : {0, 1, 15, 16, 33, 512, 70000})
      for (int64_t s : {64, 100, 4096})
        for (int sms : {4, 132}) {
          LaunchValues v = valuesOf({{"B", b}, {"T", t}, {"S", s}}, sms);
          std::string at = "B=" + std::to_string(b) + " T=" + std::to_string(t) +
                           " S=" + std::to_string(s) + " SMs=" + std::to_string(sms);
          expectSame(shapes::rows(B * T, 96), cuda::launch::rows(b * t, 96), v, "rows " + at);
          expectSame(shapes::elementwise(B * T * 1000), cuda::launch::elementwise(b * t * 1000), v,
                     "elementwise " + at);
          for (auto [hq, hkv, d] : {std::tuple{8, 2, 64}, {48, 8, 128}, {6, 6, 32}}) {
            std::string h = " HQ=" + std::to_string(hq) + " HKV=" + std::to_string(hkv);
            expectSame(shapes::attentionPrefill(B, T, hq, hkv, d),
                       cuda::launch::attentionPrefill(b, t, hq, hkv, d), v, "prefill" + h + at);
            int splits = cuda::launch::attentionDecodeSplits(b, hkv, s, sms);
            Int splitsExpr = shapes::attentionDecodeSplits(B, hkv, S);
            EXPECT_EQ(evaluate(splitsExpr.expr, v), splits) << at;
            expectSame(shapes::attentionDecode(B, hq, hkv, d, splitsExpr),
                       cuda::launch::attentionDecode(b, hq, hkv, d, splits), v, "decode" + h + at);
            expectSame(shapes::attentionDecodeCombine(B, hq, d),
                       cuda::launch::attentionDecodeCombine(b, hq, d), v, "combine" + h + at);
          }
          for (auto [h, d, bs] : {std::tuple{4, 16, 16}, {64, 128, 256}, {8, 64, 48}}) {
            expectSame(shapes::lightningState(B, T, h, bs),
                       cuda::launch::lightningState(b, t, h, bs), v, "lightning state " + at);
            expectSame(shapes::lightningScan(B, h, d), cuda::launch::lightningScan(b, h, d), v,
                       "lightning scan " + at);
            expectSame(shapes::lightningOutput(B, T, h, d, bs),
                       cuda::launch::lightningOutput(b, t, h, d, bs), v, "lightning output " + at);
            expectSame(shapes::lightningDecode(B, h, d), cuda::launch::lightningDecode(b, h, d), v,
                       "lightning decode " + at);
          }
          expectSame(shapes::moeRouter(B * T), cuda::launch::moeRouter(b * t), v, "router " + at);
          expectSame(shapes::moeSort(), cuda::launch::moeSort(), v, "sort");
          for (auto [n, e] : {std::pair{37, 3}, {1536, 32}, {9216, 1}}) {
            expectSame(shapes::groupedGemm(B * T, n, e), cuda::launch::groupedGemm(b * t, n, e), v,
                       "grouped " + at);
            expectSame(shapes::groupedSwiglu(B * T, n, e), cuda::launch::groupedSwiglu(b * t, n, e),
                       v, "swiglu " + at);
            for (int bytes : {1, 2, 4}) {
              expectSame(shapes::groupedGemv(n, e, bytes), cuda::launch::groupedGemv(n, e, bytes),
                         v, "grouped gemv");
              expectSame(shapes::gemv(n, bytes), cuda::launch::gemv(n, bytes), v, "gemv");
            }
          }
        }
}

TEST(CudaLaunchPlan, ExpressionsFoldAndEvaluate) {
  Int T = cudagen::symbol("T");
  EXPECT_TRUE((Int(6) * 7 + 0).isConstant());
  EXPECT_EQ((Int(6) * 7).constant(), 42);
  EXPECT_EQ(cudagen::ceilDiv(Int(0), 16).constant(), 0);
  LaunchValues v = valuesOf({{"T", 33}});
  EXPECT_EQ(evaluate(cudagen::ceilDiv(T, 16).expr, v), 3);
  EXPECT_EQ(evaluate((T / 4).expr, v), 8);
  EXPECT_EQ(evaluate(cudagen::le(T, 33).expr, v), 1);
  EXPECT_EQ(evaluate(cudagen::le(T, 32).expr, v), 0);
  EXPECT_EQ(evaluate(cudagen::min(T, cudagen::max(T - 40, 5)).expr, v), 5);
  EXPECT_EQ(evaluate(cudagen::negate(cudagen::both(cudagen::le(1, T), cudagen::le(T, 16))).expr, v),
            1);
}

TEST(CudaLaunchPlan, OverflowAndZeroDivisorsAreErrors) {
  Int T = cudagen::symbol("T");
  std::string where = "loc(\"layers.3\")";
  LaunchValues v = valuesOf({{"T", int64_t(1) << 40}});
  v.location = &where;
  EXPECT_THROW(evaluate((T * T).expr, v), Error);
  try {
    evaluate((T * T).expr, v);
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("layers.3"), std::string::npos) << e.what();
  }
  LaunchValues zero = valuesOf({{"T", 0}});
  EXPECT_THROW(evaluate(cudagen::ceilDiv(16, T).expr, zero), Error);
  EXPECT_THROW(evaluate((Int(16) / T).expr, zero), Error);
}

/// A CUDA executable of one kernel with `plan`, launched with two operands.
exe::Executable oneKernel(const exe::CudaLaunchPlan &plan) {
  exe::Executable e;
  e.set_format_version(kExecutableFormatVersion);
  e.set_target(exe::TARGET_CUDA);
  e.set_cuda_scratch_slots(2);
  e.add_symbols()->set_name("T");
  e.mutable_symbols(0)->set_max(8);
  for (int i = 0; i < 2; ++i) {
    exe::Buffer *b = e.add_buffers();
    b->set_id(i);
    b->set_dtype(exe::DTYPE_F32);
    b->set_storage(i == 0 ? exe::Buffer::STORAGE_INPUT : exe::Buffer::STORAGE_ARENA);
    exe::Dim *d = b->add_shape();
    d->set_coefficient(1);
    d->add_exponents(1);
  }
  e.add_argument_buffers(0);
  e.add_input_buffers(0);
  e.add_result_buffers(1);
  exe::Kernel *k = e.add_kernels();
  k->set_name("mm_k0");
  k->set_kind("elementwise");
  k->set_location("loc(\"x.mlir\":3:5)");
  *k->mutable_cuda_launch() = plan;
  exe::Launch *l = e.add_schedule();
  l->add_operands(0);
  l->add_operands(1);
  return e;
}

std::string refusal(const exe::CudaLaunchPlan &plan) {
  try {
    parseExecutable(oneKernel(plan).SerializeAsString(), "x.mmx");
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

TEST(CudaLaunchPlan, ValidPlanLoads) {
  cudagen::LaunchPlanBuilder b;
  Int n = b.let(cudagen::numel(0));
  unsigned s = b.scratch(cudagen::ScratchSlot::RotatedQueries, n * 4);
  (void)s;
  b.kernel("ew", shapes::elementwise(n), {cudagen::Arg::i64(n)}, cudagen::le(1, n));
  EXPECT_EQ(refusal(b.take()), "");
}

TEST(CudaLaunchPlan, HostilePlansAreRefusedNamingTheKernel) {
  auto plan = [](auto build) {
    cudagen::LaunchPlanBuilder b;
    build(b);
    return b.take();
  };
  auto expectRefused = [](const exe::CudaLaunchPlan &p, const std::string &what) {
    std::string message = refusal(p);
    EXPECT_NE(message.find("x.mmx"), std::string::npos) << message;
    EXPECT_NE(message.find("x.mlir\":3:5"), std::string::npos) << message;
    EXPECT_NE(message.find(what), std::string::npos) << message;
  };
  expectRefused(exe::CudaLaunchPlan(), "has no steps");
  expectRefused(plan([](cudagen::LaunchPlanBuilder &b) {
                  b.kernel("ew", shapes::elementwise(cudagen::numel(5)), {});
                }),
                "operand 5 of 2");
  expectRefused(plan([](cudagen::LaunchPlanBuilder &b) {
                  b.kernel("ew", shapes::elementwise(cudagen::symbol("Q")), {});
                }),
                "symbol 'Q'");
  expectRefused(plan([](cudagen::LaunchPlanBuilder &b) {
                  b.scratch(cudagen::ScratchSlot::LightningWorkspace, 16);
                  b.kernel("ew", shapes::elementwise(1), {});
                }),
                "scratch slot 3 of 2");
  expectRefused(plan([](cudagen::LaunchPlanBuilder &b) {
                  b.kernel("ew", shapes::elementwise(1),
                           {cudagen::Arg::pointer(cudagen::constantPointer(0))});
                }),
                "constant 0 of 0");
  // A value read before it is defined, and an operator missing an operand.
  exe::CudaLaunchPlan forward = plan([](cudagen::LaunchPlanBuilder &b) {
    Int n = b.let(cudagen::numel(0) * 2);
    b.kernel("ew", shapes::elementwise(n), {});
  });
  *forward.mutable_values(0)->mutable_args(0) = forward.steps(0).kernel().grid(0);
  expectRefused(forward, "before it is defined");
  exe::CudaLaunchPlan unary = plan([](cudagen::LaunchPlanBuilder &b) {
    b.kernel("ew", shapes::elementwise(cudagen::numel(0)), {});
  });
  unary.mutable_steps(0)->mutable_kernel()->mutable_grid(0)->mutable_args()->RemoveLast();
  expectRefused(unary, "operands for");
  exe::CudaLaunchPlan noBlock =
      plan([](cudagen::LaunchPlanBuilder &b) { b.kernel("ew", shapes::elementwise(1), {}); });
  noBlock.mutable_steps(0)->mutable_kernel()->set_block(2048);
  expectRefused(noBlock, "2048 threads");
}

} // namespace
