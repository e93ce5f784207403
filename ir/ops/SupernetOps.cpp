//===- SupernetOps.cpp - choice points of one-shot NAS supernets ----------===//
#include "ir/MMOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mm;

/// The constant value of a choice selector, if it is one.
static std::optional<int64_t> constantSelector(Value selector) {
  DenseIntElementsAttr attr;
  if (!matchPattern(selector, m_Constant(&attr)) || attr.getNumElements() != 1)
    return std::nullopt;
  return attr.getValues<APInt>()[0].getSExtValue();
}

LogicalResult ChoiceOp::verify() {
  if (getCandidates().empty())
    return emitOpError("needs at least one candidate region");
  if (getName().empty())
    return emitOpError("name must not be empty");
  for (auto [i, region] : llvm::enumerate(getCandidates())) {
    auto yield = llvm::dyn_cast<YieldOp>(region.front().getTerminator());
    if (!yield)
      return emitOpError("candidate ") << i << " must end with mm.yield";
    if (yield.getValues().getTypes() != getResultTypes())
      return emitOpError("candidate ") << i << " yields (" << yield.getValues().getTypes()
                                       << ") but the choice produces (" << getResultTypes() << ")";
  }
  if (auto index = constantSelector(getSelector()))
    if (*index < 0 || *index >= static_cast<int64_t>(getCandidates().size()))
      return emitOpError("selector ")
             << *index << " is outside the " << getCandidates().size() << " candidates";
  return success();
}

void ChoiceOp::getSuccessorRegions(RegionBranchPoint point,
                                   SmallVectorImpl<RegionSuccessor> &regions) {
  if (point.isParent()) {
    for (Region &r : getCandidates())
      regions.push_back(RegionSuccessor(&r));
    return;
  }
  regions.push_back(RegionSuccessor(getOperation(), getResults()));
}

void ChoiceOp::replaceWithCandidate(RewriterBase &rewriter, unsigned index) {
  Block &body = getCandidates()[index].front();
  auto yield = llvm::cast<YieldOp>(body.getTerminator());
  SmallVector<Value> results(yield.getValues());
  rewriter.eraseOp(yield);
  rewriter.inlineBlockBefore(&body, *this);
  rewriter.replaceOp(*this, results);
}

namespace {
/// A choice whose selector is a constant becomes the chosen candidate's body.
struct InlineConstantChoice : OpRewritePattern<ChoiceOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ChoiceOp op, PatternRewriter &rewriter) const override {
    auto index = constantSelector(op.getSelector());
    if (!index || *index < 0 || *index >= static_cast<int64_t>(op.getCandidates().size()))
      return failure();
    op.replaceWithCandidate(rewriter, static_cast<unsigned>(*index));
    return success();
  }
};
} // namespace

void ChoiceOp::getCanonicalizationPatterns(RewritePatternSet &results, MLIRContext *context) {
  results.add<InlineConstantChoice>(context);
}
