//===- Passes.h - mm passes and pipelines -----------------------*- C++ -*-===//
#ifndef MM_PASSES_PASSES_H
#define MM_PASSES_PASSES_H

#include "ir/MMDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mm {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

/// Registers every mm pass and the named pipelines (passes/Pipelines.cpp).
void registerAllPassesAndPipelines();

} // namespace mm

#endif // MM_PASSES_PASSES_H
