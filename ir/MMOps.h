//===- MMOps.h - ops of the mm dialect --------------------------*- C++ -*-===//
#ifndef MM_IR_MMOPS_H
#define MM_IR_MMOPS_H

#include "ir/MMDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "ir/GradientInterface.h"
#include "ir/MMEnums.h.inc"
#include "ir/ShapeCheckedTrait.h"

#include <optional>

namespace mm {
/// An attention op's scale: `scale` if given, else 1/sqrt(headDim), or 0 for
/// a dynamic head dim (the ops' getScaleOrDefault).
double attentionScaleOrDefault(std::optional<llvm::APFloat> scale, int64_t headDim);
} // namespace mm

#define GET_OP_CLASSES
#include "ir/MMOps.h.inc"

#endif // MM_IR_MMOPS_H
