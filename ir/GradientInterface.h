//===- GradientInterface.h - vector-Jacobian rules of mm ops ----*- C++ -*-===//
#ifndef MM_IR_GRADIENTINTERFACE_H
#define MM_IR_GRADIENTINTERFACE_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpDefinition.h"

#include "ir/GradientInterface.h.inc"

#endif // MM_IR_GRADIENTINTERFACE_H
