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

#define GET_OP_CLASSES
#include "ir/MMOps.h.inc"

#endif // MM_IR_MMOPS_H
