//===- ModuleFile.h - reading an mm module from a .mlir file ----*- C++ -*-===//
//
// What every tool that takes a .mlir file does first: guard against input
// that would exhaust the parser, parse, verify, and pick the function to run.
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_MODULEFILE_H
#define MM_IR_MODULEFILE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>

namespace mm {

/// Parses and verifies `path` ("-" for stdin) in `context` (which must have
/// the mm dialects registered). Throws mm::Error with every diagnostic and
/// its location.
mlir::OwningOpRef<mlir::ModuleOp> loadModuleFile(mlir::MLIRContext &context,
                                                 const std::string &path);

/// The function `name` of `module`; with an empty name, the module's only
/// function with a body. Throws mm::Error listing the functions otherwise.
mlir::func::FuncOp selectFunction(mlir::ModuleOp module, const std::string &name,
                                  const std::string &path);

} // namespace mm

#endif // MM_IR_MODULEFILE_H
