//===- ElementwiseExpr.cpp ------------------------------------------------===//
#include "codegen/ElementwiseExpr.h"
#include "ir/MMOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstdio>

using namespace mlir;

namespace mm {

std::string floatLiteral(double v) {
  if (std::isinf(v))
    return v > 0 ? "(1.0f / 0.0f)" : "(-1.0f / 0.0f)";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%af", double(float(v)));
  return buffer;
}

std::string elementwiseExpr(Operation *op, ArrayRef<std::string> in, CodeTarget target) {
  bool host = target == CodeTarget::Host;
  // Library helpers: HostKernels.h (mmh::) or the CUDA prelude (mmg_).
  auto lib = [&](const char *name) { return std::string(host ? "mmh::" : "mmg_") + name; };
  auto math = [&](const char *f) {
    return std::string(host ? "std::" : "") + f + (host ? "" : "f");
  };
  bool ints = llvm::isa<IntegerType>(
      llvm::cast<RankedTensorType>(op->getResult(0).getType()).getElementType());
  std::string maxFn = host ? "std::max" : (ints ? "max" : "fmaxf");
  std::string minFn = host ? "std::min" : (ints ? "min" : "fminf");
  // NVRTC has no <cstdint>: device code spells the 64-bit integer long long.
  std::string toInt = host ? "int64_t(" : "(long long)(";
  return llvm::TypeSwitch<Operation *, std::string>(op)
      .Case([&](SiluOp) { return lib("silu") + "(" + in[0] + ")"; })
      .Case([&](SigmoidOp) { return lib("sigmoid") + "(" + in[0] + ")"; })
      .Case([&](ReluOp) { return maxFn + "(" + in[0] + ", 0.0f)"; })
      .Case([&](TanhOp) { return math("tanh") + "(" + in[0] + ")"; })
      .Case([&](ExpOp) { return math("exp") + "(" + in[0] + ")"; })
      .Case([&](LogOp) { return math("log") + "(" + in[0] + ")"; })
      .Case([&](SqrtOp) { return math("sqrt") + "(" + in[0] + ")"; })
      .Case([&](RsqrtOp) { return "(1.0f / " + math("sqrt") + "(" + in[0] + "))"; })
      .Case([&](NegOp) { return "(-" + in[0] + ")"; })
      .Case([&](GeluOp g) {
        return lib(g.getTanhApproximation() ? "gelu_tanh" : "gelu") + "(" + in[0] + ")";
      })
      .Case([&](AddOp) { return "(" + in[0] + " + " + in[1] + ")"; })
      .Case([&](SubOp) { return "(" + in[0] + " - " + in[1] + ")"; })
      .Case([&](MulOp) { return "(" + in[0] + " * " + in[1] + ")"; })
      .Case([&](DivOp) { return ints ? std::string() : "(" + in[0] + " / " + in[1] + ")"; })
      .Case([&](MaxOp) { return maxFn + "(" + in[0] + ", " + in[1] + ")"; })
      .Case([&](MinOp) { return minFn + "(" + in[0] + ", " + in[1] + ")"; })
      .Case([&](SwigluOp) { return "(" + lib("silu") + "(" + in[0] + ") * " + in[1] + ")"; })
      .Case([&](CastOp c) {
        // Narrower floats are stored as float32, rounded to the type's values.
        Type to = c.getType().getElementType();
        if (to.isBF16() || to.isF16())
          return lib(to.isBF16() ? "round_bf16" : "round_f16") + "(float(" + in[0] + "))";
        return (ints ? toInt : std::string("float(")) + in[0] + ")";
      })
      .Case([&](ZerosLikeOp) { return ints ? toInt + "0)" : std::string("0.0f"); })
      // Comparisons and selects of gradient rules (relu, max, ...): an i1 is
      // an int64 0 / 1 like every integer of the generated code.
      .Case([&](arith::CmpFOp c) {
        const char *cmp = nullptr;
        switch (c.getPredicate()) {
        case arith::CmpFPredicate::OEQ:
          cmp = " == ";
          break;
        case arith::CmpFPredicate::OGT:
          cmp = " > ";
          break;
        case arith::CmpFPredicate::OGE:
          cmp = " >= ";
          break;
        case arith::CmpFPredicate::OLT:
          cmp = " < ";
          break;
        case arith::CmpFPredicate::OLE:
          cmp = " <= ";
          break;
        case arith::CmpFPredicate::UNE:
          cmp = " != ";
          break;
        default:
          return std::string(); // NaN-aware predicates: not generated yet
        }
        return toInt + in[0] + cmp + in[1] + ")";
      })
      .Case([&](arith::SelectOp) { return "(" + in[0] + " ? " + in[1] + " : " + in[2] + ")"; })
      .Default([](Operation *) { return std::string(); });
}

} // namespace mm
