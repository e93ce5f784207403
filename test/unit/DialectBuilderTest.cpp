// The C++ API of the mm dialect: builders infer result types, the verifier
// rejects bad ops, folds run through createOrFold, and a supernet choice can be
// specialized programmatically.
#include "ir/InitDialects.h"
#include "ir/MMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;

namespace {
class DialectBuilder : public ::testing::Test {
protected:
  DialectBuilder() : builder(&context) {
    DialectRegistry registry;
    mm::registerDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    module = ModuleOp::create(builder.getUnknownLoc());
    builder.setInsertionPointToEnd(module->getBody());
  }

  /// A function with the given argument types; the builder is left inside it.
  func::FuncOp makeFunc(TypeRange args) {
    auto fn = func::FuncOp::create(builder, builder.getUnknownLoc(), "f",
                                   builder.getFunctionType(args, {}));
    builder.setInsertionPointToEnd(fn.addEntryBlock());
    return fn;
  }

  RankedTensorType tensor(ArrayRef<int64_t> shape, Type elt = nullptr) {
    return RankedTensorType::get(shape, elt ? elt : builder.getF32Type());
  }

  MLIRContext context;
  OpBuilder builder;
  OwningOpRef<ModuleOp> module;
};
} // namespace

TEST_F(DialectBuilder, LinearInfersItsResultType) {
  auto fn = makeFunc({tensor({ShapedType::kDynamic, 16, 64}), tensor({32, 64})});
  auto linear =
      mm::LinearOp::create(builder, builder.getUnknownLoc(), fn.getArgument(0), fn.getArgument(1),
                           /*bias=*/Value());
  EXPECT_EQ(linear.getType(), tensor({ShapedType::kDynamic, 16, 32}));
  func::ReturnOp::create(builder, builder.getUnknownLoc());
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(DialectBuilder, LightningAttentionInfersStateAndSlopes) {
  auto qkv = tensor({2, 300, 4, 16}, builder.getBF16Type());
  auto fn = makeFunc({qkv});
  Value x = fn.getArgument(0);
  auto op = mm::LightningAttentionOp::create(
      builder, builder.getUnknownLoc(), x, x, x, /*initial_state=*/Value(),
      /*lengths=*/Value(), /*head_index=*/Value(), /*layer_index=*/3, /*num_layers=*/8,
      /*block_size=*/256, /*total_heads=*/nullptr);
  EXPECT_EQ(op.getOutput().getType(), qkv);
  EXPECT_EQ(op.getFinalState().getType(), tensor({2, 4, 16, 16}));
  auto slopes = op.getDecaySlopes();
  ASSERT_EQ(slopes.size(), 4u);
  EXPECT_DOUBLE_EQ(slopes[0], std::pow(2.0, -2.0) * (1.0 - 3.0 / 7.0 + 1e-5));
}

TEST_F(DialectBuilder, VerifierReportsShapeErrorsWithTheOpName) {
  auto fn = makeFunc({tensor({4, 8}), tensor({7})});
  // Build through the generic path so the invalid op exists, then verify.
  OperationState state(builder.getUnknownLoc(), mm::RmsNormOp::getOperationName());
  state.addOperands({fn.getArgument(0), fn.getArgument(1)});
  state.addTypes(tensor({4, 8}));
  Operation *op = builder.create(state);
  std::string message;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    message = d.str();
    return success();
  });
  EXPECT_TRUE(failed(verify(op)));
  EXPECT_EQ(message, "'mm.rms_norm' op weight has 7 elements but the input's "
                     "last dimension is 8");
}

TEST_F(DialectBuilder, CreateOrFoldRemovesIdentityReshape) {
  auto fn = makeFunc({tensor({ShapedType::kDynamic, 512})});
  Value x = fn.getArgument(0);
  Value r = builder.createOrFold<mm::ReshapeOp>(builder.getUnknownLoc(), x,
                                                builder.getDenseI64ArrayAttr({0, 512}));
  EXPECT_EQ(r, x);
}

TEST_F(DialectBuilder, ChoiceCanBeReplacedByACandidate) {
  auto fn = makeFunc({tensor({4, 8}), RankedTensorType::get({}, builder.getI64Type())});
  Value x = fn.getArgument(0);
  auto choice = mm::ChoiceOp::create(builder, builder.getUnknownLoc(), TypeRange{tensor({4, 8})},
                                     "act", fn.getArgument(1), /*candidates=*/2);
  for (unsigned i = 0; i < 2; ++i) {
    Block *body = builder.createBlock(&choice.getCandidates()[i]);
    builder.setInsertionPointToEnd(body);
    Value v = i == 0 ? Value(mm::ReluOp::create(builder, builder.getUnknownLoc(), x))
                     : Value(mm::TanhOp::create(builder, builder.getUnknownLoc(), x));
    mm::YieldOp::create(builder, builder.getUnknownLoc(), ValueRange{v});
  }
  builder.setInsertionPointAfter(choice);
  func::ReturnOp::create(builder, builder.getUnknownLoc());
  ASSERT_TRUE(succeeded(verify(*module)));

  IRRewriter rewriter(&context);
  rewriter.setInsertionPoint(choice);
  choice.replaceWithCandidate(rewriter, 1);
  ASSERT_TRUE(succeeded(verify(*module)));
  unsigned tanhs = 0, choices = 0;
  module->walk([&](Operation *op) {
    tanhs += isa<mm::TanhOp>(op);
    choices += isa<mm::ChoiceOp>(op);
  });
  EXPECT_EQ(tanhs, 1u);
  EXPECT_EQ(choices, 0u);
}
