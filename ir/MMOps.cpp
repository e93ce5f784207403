//===- MMOps.cpp - tablegen'd op definitions ------------------------------===//
//
// Only the generated code lives here; shape functions, verifiers and folders
// are in ops/<Family>Ops.cpp.
//
//===----------------------------------------------------------------------===//
#include "ir/MMOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;

#include "ir/MMEnums.cpp.inc"

#define GET_OP_CLASSES
#include "ir/MMOps.cpp.inc"
