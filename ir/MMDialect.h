//===- MMDialect.h - the mm dialect -----------------------------*- C++ -*-===//
#ifndef MM_IR_MMDIALECT_H
#define MM_IR_MMDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "ir/MMDialect.h.inc"

#endif // MM_IR_MMDIALECT_H
