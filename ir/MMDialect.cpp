//===- MMDialect.cpp - registration of the mm dialect ---------------------===//
#include "ir/MMDialect.h"
#include "ir/MMOps.h"

using namespace mlir;

#include "ir/MMDialect.cpp.inc"

void mm::MMDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/MMOps.cpp.inc"
      >();
}
