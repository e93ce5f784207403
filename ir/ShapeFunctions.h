//===- ShapeFunctions.h - helpers for mm shape functions --------*- C++ -*-===//
//
// Every mm op with inferred result types computes them in one static function
// that also rejects invalid operands. These helpers keep those functions short
// and make their diagnostics read like verifier errors ("'mm.op' op ...").
//
//===----------------------------------------------------------------------===//
#ifndef MM_IR_SHAPEFUNCTIONS_H
#define MM_IR_SHAPEFUNCTIONS_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"

#include <optional>

namespace mm::shape {

using mlir::LogicalResult;
using mlir::RankedTensorType;
constexpr int64_t kDynamic = mlir::ShapedType::kDynamic;

/// Emits an error at the op's location, prefixed with the op name as the
/// verifier does. Silent when there is no location (speculative inference).
class OpDiag {
public:
  OpDiag(std::optional<mlir::Location> loc, llvm::StringRef opName) : loc(loc), opName(opName) {}

  template <typename... Args> LogicalResult error(Args &&...args) const {
    return mlir::emitOptionalError(loc, "'", opName, "' op ", std::forward<Args>(args)...);
  }

  /// The ranked tensor type of an operand or a failure naming it.
  mlir::FailureOr<RankedTensorType> ranked(mlir::Type type, llvm::StringRef what) const;

  /// Fails unless `type` has exactly `rank` dimensions.
  LogicalResult expectRank(RankedTensorType type, int64_t rank, llvm::StringRef what) const;

  /// Fails unless the two dimension sizes can be equal ("?" matches anything).
  LogicalResult expectDim(int64_t actual, int64_t expected, llvm::StringRef what) const;

  /// `dim` of `type` with negative values counted from the back, or a
  /// failure saying it is out of range.
  mlir::FailureOr<int64_t> dimIndex(int64_t dim, RankedTensorType type) const;

  LogicalResult expectSameElementType(RankedTensorType a, RankedTensorType b, llvm::StringRef whatA,
                                      llvm::StringRef whatB) const;

private:
  std::optional<mlir::Location> loc;
  llvm::StringRef opName;
};

/// True if two dimension sizes can be equal at run time.
inline bool compatible(int64_t a, int64_t b) { return a == kDynamic || b == kDynamic || a == b; }

/// The more static of two compatible sizes.
inline int64_t refine(int64_t a, int64_t b) { return a == kDynamic ? b : a; }

/// NumPy broadcasting of two shapes; nullopt if they cannot broadcast.
std::optional<llvm::SmallVector<int64_t>> broadcastShapes(llvm::ArrayRef<int64_t> a,
                                                          llvm::ArrayRef<int64_t> b);

/// `dim` in [-rank, rank) mapped to [0, rank); nullopt if out of range.
std::optional<int64_t> normalizeDim(int64_t dim, int64_t rank);

/// a * b for sizes: dynamic if either is, nullopt on overflow.
std::optional<int64_t> mulSizes(int64_t a, int64_t b);

/// Product of all sizes (dynamic if any is, nullopt on overflow).
std::optional<int64_t> numElements(llvm::ArrayRef<int64_t> shape);

/// "4x?x512" for diagnostics.
std::string formatShape(llvm::ArrayRef<int64_t> shape);

/// A lightning op's `head_index` (`[heads]` i64, a rank's heads' places
/// among all) and `total_heads` come together, and the total covers the
/// local heads.
mlir::LogicalResult checkHeadIndex(const OpDiag &d, mlir::Value headIndex,
                                   std::optional<uint64_t> totalHeads, int64_t heads);

/// The causal lengths of an attention (or its gradient) without a cache:
/// equal query and key lengths, or with `queryStart` (`[1]` integer, causal
/// only) a query no longer than the keys.
mlir::LogicalResult checkCausalLengths(const OpDiag &d, mlir::Value queryStart, bool causal,
                                       int64_t querySeq, int64_t keySeq);

/// An attention's `key_mask` (or its gradient's): `[batch, kv_len]`, float.
mlir::LogicalResult checkKeyMask(const OpDiag &d, mlir::Value keyMask, int64_t batch,
                                 int64_t keySeq);

/// Lightning attention's per-head decay exponents of `heads` heads; empty
/// when the head count is dynamic.
llvm::SmallVector<double> lightningSlopesOf(int64_t heads, int64_t layerIndex, int64_t numLayers);

} // namespace mm::shape

#endif // MM_IR_SHAPEFUNCTIONS_H
