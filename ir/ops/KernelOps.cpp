//===- KernelOps.cpp - fused kernels --------------------------------------===//
#include "ir/MMOps.h"

using namespace mlir;
using namespace mm;

LogicalResult KernelOp::verify() {
  Block &body = getBodyBlock();
  if (body.getNumArguments() != getInputs().size())
    return emitOpError("body has ")
           << body.getNumArguments() << " arguments for " << getInputs().size() << " inputs";
  for (auto [i, pair] : llvm::enumerate(llvm::zip(body.getArgumentTypes(), getInputs().getTypes())))
    if (std::get<0>(pair) != std::get<1>(pair))
      return emitOpError("body argument ") << i << " has type " << std::get<0>(pair)
                                           << " but input " << i << " is " << std::get<1>(pair);
  auto yield = llvm::dyn_cast<YieldOp>(body.getTerminator());
  if (!yield)
    return emitOpError("body must end with mm.yield");
  if (yield.getValues().getTypes() != getResultTypes())
    return emitOpError("body yields (") << yield.getValues().getTypes()
                                        << ") but the kernel produces (" << getResultTypes() << ")";
  if (auto inPlace = getInPlace()) {
    if (inPlace->size() != getNumResults())
      return emitOpError("in_place has ")
             << inPlace->size() << " entries for " << getNumResults() << " results";
    for (auto [r, in] : llvm::enumerate(*inPlace)) {
      if (in == -1)
        continue;
      if (in < 0 || in >= static_cast<int64_t>(getInputs().size()))
        return emitOpError("in_place entry ")
               << r << " names input " << in << ", which does not exist";
      if (llvm::count(*inPlace, in) > 1)
        return emitOpError("in_place names input ") << in << " for more than one result";
      if (getInputs()[in].getType() != getResult(r).getType())
        return emitOpError("result ")
               << r << " cannot overwrite input " << in << " of another type";
    }
  }
  return success();
}
