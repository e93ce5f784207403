//===- InitDialects.h - every dialect mmc tools accept ----------*- C++ -*-===//
#ifndef MM_IR_INITDIALECTS_H
#define MM_IR_INITDIALECTS_H

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace mm {
/// mm plus the upstream dialects mm graphs use: func, arith, tensor, linalg,
/// math, scf, shard (collectives and sharding) and emitc.
void registerDialects(mlir::DialectRegistry &registry);
} // namespace mm

#endif // MM_IR_INITDIALECTS_H
