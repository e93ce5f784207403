//===- FusedKernel.h - what every code generator reads out of an mm.kernel -*- C++ -*-===//
//
// The host and CUDA generators differ in what they print, not in how they
// read a kernel: which body value is which operand, how a fused operand
// broadcasts, which results are written in place, how q/k/v of lightning
// attention sit in the fused qkv input, which RoPE goes with attention. That
// reading lives here once; FusedKernelEmitter is the base of both emitters,
// and its hooks (element types, literals, loads) are where the targets part.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_FUSEDKERNEL_H
#define MM_CODEGEN_FUSEDKERNEL_H

#include "codegen/ElementwiseExpr.h"
#include "ir/MMOps.h"
#include "passes/SymbolicShapes.h"

#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>

namespace mm {

/// `op`'s location or, for an op without one (a merged constant), its first
/// located user's: where diagnostics about it point.
mlir::Location knownLocation(mlir::Operation *op);
/// knownLocation(op) as printed in diagnostics (kept in executables for errors).
std::string locationOf(mlir::Operation *op);
/// True for integer tensors (ids, positions, indices, offsets).
bool isInteger(mlir::Value v);
/// The ops of a kernel body other than constants and the terminator.
llvm::SmallVector<mlir::Operation *> bodyOps(KernelOp kernel);
/// The mm.param a kernel input is, directly or through top-level reshapes
/// (views of its buffer, so of its storage), else null.
ParamOp paramOf(mlir::Value kernelInput);

class FusedKernelEmitter {
public:
  virtual ~FusedKernelEmitter() = default;

protected:
  /// `targetName` completes "cannot generate <targetName> for this ... kernel";
  /// `indent` prefixes every generated statement of fused elementwise code.
  FusedKernelEmitter(KernelOp kernel, const SymbolicShapes &shapes, CodeTarget target,
                     std::string targetName, std::string indent)
      : kernel(kernel), shapes(shapes), target(target), targetName(std::move(targetName)),
        indent(std::move(indent)) {}

  // Where the targets part.
  virtual std::string elementType(mlir::Value v) const = 0;
  virtual std::string integerLiteral(int64_t v) const = 0;
  /// True when generated code has the shape symbols as variables (host code
  /// does; CUDA kernels get sizes as arguments instead).
  virtual bool symbolsInScope() const { return false; }
  /// Set when generated code has named a shape symbol (a dynamic broadcast).
  mutable bool readsSymbols = false;
  /// Reads body argument `v` at `index` (the host widens bf16 weights here).
  virtual std::string load(mlir::Value v, llvm::StringRef index) const {
    return pointer(v) + "[" + index.str() + "]";
  }

  mlir::LogicalResult fail(const llvm::Twine &why);

  /// The kernel input a body value is (a block argument), else null.
  mlir::Value topLevel(mlir::Value bodyValue) const;
  unsigned argIndex(mlir::Value bodyValue) const {
    return llvm::cast<mlir::BlockArgument>(bodyValue).getArgNumber();
  }
  /// The generated name of a body argument's pointer.
  std::string pointer(mlir::Value bodyValue) const {
    return "in" + std::to_string(argIndex(bodyValue));
  }
  static int64_t staticDim(mlir::Value v, int64_t d) {
    return llvm::cast<mlir::RankedTensorType>(v.getType()).getDimSize(d);
  }
  /// Which result of the kernel yields `bodyValue`.
  std::optional<unsigned> resultIndexOf(mlir::Value bodyValue) const;

  /// Straight-line code for elementwise `ops`: every value gets a name in
  /// `names`; body arguments load at flat `index` of the iteration value
  /// `iteration` with the broadcast their shape needs (`lastIndex` indexes
  /// its last dim, for row vectors).
  mlir::LogicalResult emitElementwise(llvm::ArrayRef<mlir::Operation *> ops, mlir::Value iteration,
                                      llvm::StringRef index, llvm::StringRef lastIndex,
                                      std::string &code);
  mlir::FailureOr<std::string> operand(mlir::Value v, mlir::Value iteration, llvm::StringRef index,
                                       llvm::StringRef lastIndex, std::string &code);
  /// The flat index into top-level `operand` that NumPy broadcasting reads
  /// for flat `index` of `iteration`, or nullopt when the dims do not
  /// broadcast (or need symbols the target does not have in scope).
  std::optional<std::string> broadcastIndex(mlir::Value operand, mlir::Value iteration,
                                            llvm::StringRef index) const;
  /// `out<i>[index] = <name>` for every yielded value.
  mlir::LogicalResult storeResults(std::string &code, llvm::StringRef index);

  // The typed reading of each kind's body, shared by the host and CUDA
  // generators: which op is which, the static dims, the fused prologue and
  // epilogue. Each checks what every target needs and fails with one message;
  // what only one target cannot emit stays in that target's generator.

  /// gemm: a linear layer of kernel inputs ([M, K] x [N, K]^T, bias [N]) and
  /// an elementwise epilogue of the linear's shape.
  struct GemmParts {
    LinearOp linear;
    int64_t K, N;
    llvm::SmallVector<mlir::Operation *> epilogue;
  };
  mlir::FailureOr<GemmParts> gemmParts();

  /// softmax: one mm.softmax or mm.log_softmax of a kernel input, over `dim`
  /// (non-negative) of its top-level `input` of rank `rank`.
  struct SoftmaxParts {
    mlir::Operation *op;
    mlir::Value input;
    int64_t dim, rank;
    bool log;
  };
  mlir::FailureOr<SoftmaxParts> softmaxParts();

  /// norm: an RMSNorm whose weight is a kernel input, with the elementwise
  /// ops before it (prologue) and after it (epilogue), rows of `width`.
  struct NormParts {
    RmsNormOp norm;
    int64_t width;
    llvm::SmallVector<mlir::Operation *> prologue, epilogue;
  };
  mlir::FailureOr<NormParts> normParts();

  /// embedding: one lookup of ids in a [vocab, width] table, both inputs.
  struct EmbeddingParts {
    EmbeddingOp op;
    int64_t vocab, width;
  };
  mlir::FailureOr<EmbeddingParts> embeddingParts();

  /// gather: one mm.gather of kernel inputs; `perSequenceRows` for the
  /// [B, T, width] by [B] row gather (dim 1, batch_dims 1) of decode steps.
  struct GatherParts {
    GatherOp op;
    bool perSequenceRows;
    int64_t width; // the row width of a per-sequence row gather
  };
  mlir::FailureOr<GatherParts> gatherParts();

  /// moe_router: top-k over `experts` logits; results (weights, indices).
  struct RouterParts {
    MoeRouterOp op;
    int64_t experts;
  };
  mlir::FailureOr<RouterParts> routerParts();

  /// moe_dispatch: rows of `width` sorted by expert; all three results.
  struct DispatchParts {
    MoeDispatchOp op;
    int64_t width, topK, experts;
  };
  mlir::FailureOr<DispatchParts> dispatchParts();

  /// grouped_gemm: a grouped matmul of kernel inputs (weights [E, N, K])
  /// and an elementwise epilogue.
  struct GroupedGemmParts {
    GroupedMatmulOp op;
    int64_t experts, N, K;
    llvm::SmallVector<mlir::Operation *> epilogue;
  };
  mlir::FailureOr<GroupedGemmParts> groupedGemmParts();

  /// grouped_gemm_swiglu: swiglu(gate, up) of two grouped matmuls of one input.
  struct GroupedSwigluParts {
    GroupedMatmulOp gate, up;
    int64_t experts, N, K;
  };
  mlir::FailureOr<GroupedSwigluParts> groupedSwigluParts();

  /// moe_combine: the weighted sum of each token's top-k expert rows of
  /// `width`, and an elementwise epilogue.
  struct CombineParts {
    MoeCombineOp op;
    int64_t topK, width;
    llvm::SmallVector<mlir::Operation *> epilogue;
  };
  mlir::FailureOr<CombineParts> combineParts();

  /// Cached grouped-query attention with its RoPE (if any), all operands
  /// kernel inputs and both caches updated in place.
  struct AttentionParts {
    AttentionOp op;
    RopeOp rope;      // the query's and the key's (identical), or null
    mlir::Value q, k; // body arguments (before RoPE)
    unsigned out, keyCacheOut, valueCacheOut;
    int64_t queryHeads, kvHeads, headDim, rotaryDim;
    double scale, theta;
  };
  mlir::FailureOr<AttentionParts> attentionParts();
  /// The kernel's only op when it is an mm.attention without a KV cache (the
  /// plain form both targets generate directly), else null.
  AttentionOp attentionWithoutCache() const;
  /// Where an attention's query_start comes from: a kernel input (its
  /// pointer) or a constant the kernel cloned (its value). Absent: neither set.
  struct QueryStart {
    std::string pointer;
    std::optional<int64_t> value;
  };
  mlir::FailureOr<QueryStart> queryStart(mlir::Value start);
  /// An attention's key_mask as a pointer expression: its kernel input, or
  /// "nullptr" without one.
  mlir::FailureOr<std::string> keyMaskPointer(mlir::Value mask);

  /// hadamard_interaction's groups flattened: group g's fields are
  /// members[starts[g] .. starts[g + 1]).
  struct HadamardGroups {
    std::vector<int64_t> members, starts;
  };
  static HadamardGroups hadamardGroups(HadamardInteractionOp op);

  /// Lightning attention with a carried state updated in place; q, k, v are
  /// three contiguous last-dim slices of one input (the interleaved qkv
  /// projection, read in place) or three inputs.
  struct LightningParts {
    LightningAttentionOp op;
    std::string base[3]; // "<pointer> + <offset>" of q, k, v
    int64_t offset[3];   // those offsets, in floats
    int64_t heads, headDim, blockSize;
    int64_t width; // floats per head in the input q/k/v are read from
    unsigned out;
    std::optional<unsigned> stateOut; // absent when nothing reads the final state
    bool freshState;   // no initial state: the state starts at zero
    bool stateInPlace; // the final state overwrites the initial state's buffer
  };
  mlir::FailureOr<LightningParts> lightningParts();

  mutable KernelOp kernel;
  const SymbolicShapes &shapes;
  CodeTarget target;
  std::string targetName, indent;
  llvm::DenseMap<mlir::Value, std::string> names;
  int temps = 0;
};

} // namespace mm

#endif // MM_CODEGEN_FUSEDKERNEL_H
