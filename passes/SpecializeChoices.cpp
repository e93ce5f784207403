//===- SpecializeChoices.cpp - supernet to child architecture -------------===//
#include "ir/MMOps.h"
#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

namespace mm {
#define GEN_PASS_DEF_SPECIALIZECHOICES
#include "passes/Passes.h.inc"
} // namespace mm

using namespace mlir;
using namespace mm;

namespace {
struct SpecializeChoicesPass : mm::impl::SpecializeChoicesBase<SpecializeChoicesPass> {
  using SpecializeChoicesBase::SpecializeChoicesBase;

  /// Parses `name=index` entries; reports malformed or repeated ones.
  LogicalResult parseChoices(llvm::StringMap<int64_t> &out) {
    for (const std::string &entry : choices) {
      auto [name, value] = StringRef(entry).rsplit('=');
      int64_t index;
      if (name.empty() || value.empty() || value.getAsInteger(10, index))
        return emitError(getOperation().getLoc())
               << "mm-specialize-choices: expected name=index, got '" << entry << "'";
      if (!out.try_emplace(name, index).second)
        return emitError(getOperation().getLoc())
               << "mm-specialize-choices: choice '" << name << "' is assigned twice";
    }
    return success();
  }

  void runOnOperation() override {
    llvm::StringMap<int64_t> assignment;
    if (failed(parseChoices(assignment)))
      return signalPassFailure();

    SmallVector<ChoiceOp> points;
    getOperation().walk([&](ChoiceOp op) { points.push_back(op); });
    llvm::StringSet<> seen;
    IRRewriter rewriter(&getContext());
    bool ok = true;
    // Post-order: inner choices are replaced before the choice holding them
    // can erase or move them, so no collected op dangles.
    for (ChoiceOp op : points) {
      seen.insert(op.getName());
      auto it = assignment.find(op.getName());
      if (it == assignment.end()) {
        if (requireAll) {
          op.emitOpError("choice '") << op.getName() << "' is not assigned";
          ok = false;
        }
        continue;
      }
      int64_t index = it->second;
      if (index < 0 || index >= static_cast<int64_t>(op.getCandidates().size())) {
        op.emitOpError("choice '") << op.getName() << "' has " << op.getCandidates().size()
                                   << " candidates; index " << index << " is out of range";
        ok = false;
        continue;
      }
      rewriter.setInsertionPoint(op);
      op.replaceWithCandidate(rewriter, static_cast<unsigned>(index));
    }
    for (auto &entry : assignment)
      if (!seen.contains(entry.getKey())) {
        emitError(getOperation().getLoc())
            << "mm-specialize-choices: no choice point named '" << entry.getKey() << "'";
        ok = false;
      }
    if (!ok)
      signalPassFailure();
  }
};
} // namespace
