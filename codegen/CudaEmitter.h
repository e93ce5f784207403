//===- CudaEmitter.h - the CUDA generator of one mm.kernel (private) ------===//
//
// Shared by the CUDA generator's source files (CudaCodegen.cpp: the MiniMax
// kinds, copies, reductions; CudaIndexingKinds.cpp, CudaLossKinds.cpp,
// CudaVisionRecsysKinds.cpp: the training, vision and recommender kinds).
// Each kind writes `__global__` wrappers around the kernel library's
// mm_*_kernel functions and the typed launch steps that run them.
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_CUDAEMITTER_H
#define MM_CODEGEN_CUDAEMITTER_H

#include "codegen/CudaCodegen.h"
#include "codegen/CudaLaunchBuilder.h"
#include "codegen/FusedKernel.h"
#include "ir/MMOps.h"

#include "llvm/Support/FormatVariadic.h"

namespace mm {

namespace cudaemit {
using cudagen::Arg;
using cudagen::Int;
using cudagen::ScratchSlot;
namespace shapes = cudagen::shapes;
using llvm::ArrayRef;
using llvm::StringRef;
using mlir::failure;
using mlir::FailureOr;
using mlir::LogicalResult;
using mlir::Operation;
using mlir::success;
using mlir::Value;

class CudaEmitter : public FusedKernelEmitter {
public:
  CudaEmitter(KernelOp kernel, size_t index, const SymbolicShapes &shapes,
              const WeightTypes &weightTypes)
      : FusedKernelEmitter(kernel, shapes, CodeTarget::Cuda, "CUDA", "    "),
        weightTypes(weightTypes), prefix("mm_k" + std::to_string(index)) {}

  FailureOr<CudaKernelPlan> emit();

private:
  /// Launch operands are the inputs, then the results.
  unsigned resultOperand(unsigned r) const { return kernel.getInputs().size() + r; }
  /// Dim `axis` of a top-level operand or result of the kernel, as an
  /// expression of the call's shape symbols.
  Int dimOf(Value topLevel, unsigned axis) const;
  /// Bytes per stored weight of input `i` (4, 2 or 1).
  int storedBytes(unsigned i) const {
    std::string s = storageOf(i);
    return s == "int8" ? 1 : s == "bf16" ? 2 : 4;
  }
  std::string elementType(Value v) const override { return isInteger(v) ? "mm_i64" : "float"; }
  std::string integerLiteral(int64_t v) const override { return "(mm_i64)" + std::to_string(v); }
  /// Elementwise wrappers take the shape symbols as parameters when a
  /// broadcast needs them (inElementwiseKernel); other kinds size by arguments.
  bool symbolsInScope() const override { return inElementwiseKernel; }
  bool inElementwiseKernel = false;
  /// "f32", "bf16" or "int8": how input `i` is stored (weights.cuh's float,
  /// mm_bf16, mm_q8); activations and non-weights are f32.
  std::string storageOf(unsigned i) const;
  /// The element type a wrapper declares input `i` with.
  std::string inputType(unsigned i) const;
  /// Elementwise code reads stored weights widened (bf16 only: int8 weights
  /// are gemm matrices by construction, and mm_widen has no int8 overload).
  std::string load(Value v, StringRef index) const override {
    std::string plain = FusedKernelEmitter::load(v, index);
    return storageOf(argIndex(v)) == "f32" ? plain : "mm_widen(" + plain + ")";
  }
  /// The operand pointer parameters of every wrapper of this kernel.
  std::string operandParams() const;
  /// Opens a wrapper `<prefix>_<step>` taking the operands then `extra`.
  std::string wrapper(StringRef step, StringRef extra) const {
    return ("MM_KERNEL(" + prefix + "_" + step + ", (" + operandParams() +
            (extra.empty() ? "" : ", ") + extra + ")) {\n")
        .str();
  }
  static std::string gridStride(StringRef n) {
    return ("  for (mm_i64 i = (mm_i64)blockIdx.x * blockDim.x + threadIdx.x; i < " + n +
            "; i += (mm_i64)gridDim.x * blockDim.x) {\n")
        .str();
  }

  /// A wrapper `<prefix>_epi` applying the ops after `anchor` to result 0 in
  /// place (`acc` is the anchor's value), over n = rows * N elements, and its
  /// launch over `count` elements when `guard` holds.
  LogicalResult emitEpilogue(Value anchor, ArrayRef<Operation *> epilogue, int64_t N,
                             const Int &count, const Int &guard);
  void launchEpilogue(const Int &count, const Int &guard) {
    launch.kernel("epi", shapes::elementwise(count), {Arg::i64(count)}, guard);
  }

  LogicalResult emitElementwiseKernel();
  LogicalResult emitGemm();
  LogicalResult emitNorm();
  LogicalResult emitEmbedding();
  LogicalResult emitGather();
  LogicalResult emitRouter();
  LogicalResult emitDispatch();
  LogicalResult emitGroupedGemm();
  LogicalResult emitGroupedSwiglu();
  LogicalResult emitCombine();
  LogicalResult emitAttention();
  LogicalResult emitAttentionWithoutCache(AttentionOp op);
  LogicalResult emitLightning();
  LogicalResult emitSoftmax();
  LogicalResult emitLayerNorm();
  LogicalResult emitRope();
  LogicalResult emitCopy();
  LogicalResult emitReduce();
  LogicalResult emitMatmul();
  // The training, vision and recommender kinds (CudaIndexingKinds.cpp,
  // CudaLossKinds.cpp, CudaVisionRecsysKinds.cpp).
  LogicalResult emitSoftmaxLanes(Operation *op, Value in, int64_t dim, int64_t rank, bool log);
  LogicalResult emitArgmax();
  LogicalResult emitTopK();
  LogicalResult emitGeneralGather();
  LogicalResult emitScatterAdd();
  LogicalResult emitLoss();
  LogicalResult emitConv();
  LogicalResult emitPool();
  LogicalResult emitMergeImageFeatures();
  LogicalResult emitGru();
  LogicalResult emitTargetAttention();
  LogicalResult emitHadamard();
  /// An attention's query_start in a wrapper: the pointer expression ("nullptr"
  /// without one) and the declaration of a constant one, to put first.
  struct QueryStartCode {
    std::string pointer, declaration;
  };
  FailureOr<QueryStartCode> queryStartCode(Value start);
  /// "out<i>" for a value the kernel returns as result i, else "nullptr" (a
  /// result nothing reads is not written).
  std::string resultOrNull(Value v) const;
  // Backward kinds (CudaBackwardKinds.cpp).
  LogicalResult emitLossBackward();
  LogicalResult emitGroupedGemmWeightGrad();
  LogicalResult emitConvBackward();
  LogicalResult emitAttentionBackward();
  LogicalResult emitGruBackward();
  LogicalResult emitLightningBackward();
  /// The product of dims [from, to) of a top-level value (1 when empty).
  Int span(Value topLevel, unsigned from, unsigned to) const {
    Int v = 1;
    for (unsigned k = from; k < to; ++k)
      v = v * dimOf(topLevel, k);
    return v;
  }
  /// The dim attribute of an op on a rank-`rank` operand, made non-negative.
  static int64_t normalizedDim(int64_t dim, int64_t rank) { return dim < 0 ? dim + rank : dim; }
  /// Fails naming the op unless body value `v` is stored as float32 (a bf16
  /// or int8 weight feeds only the kinds that widen it).
  LogicalResult requireF32Storage(Value v, StringRef what) {
    if (isInteger(v) || storageOf(argIndex(v)) == "f32")
      return success();
    return fail(
        (what + " stored as " + storageOf(argIndex(v)) + " has no CUDA template (only float32)")
            .str());
  }
  /// A wrapper `<prefix>_<entry>` and its launch copying every element of an
  /// index space `dims` from input `src` to result 0: source offset srcBase +
  /// sum idx_k srcStrides_k, destination dstBase + sum idx_k dstStrides_k.
  void emitStridedCopy(const std::string &entry, Value src, const std::vector<Int> &dims,
                       const std::vector<Int> &srcStrides, const Int &srcBase,
                       const std::vector<Int> &dstStrides, const Int &dstBase);
  /// The single op of a kernel whose operands are all kernel inputs.
  Operation *singleOpOnInputs() const {
    auto ops = bodyOps(kernel);
    if (ops.size() != 1)
      return nullptr;
    for (Value v : ops.front()->getOperands())
      if (!topLevel(v))
        return nullptr;
    return ops.front();
  }

  /// A grouped GEMM's steps: GEMV form for decode-sized row counts, tiled
  /// otherwise; its row count.
  Int launchGrouped(unsigned xIndex, unsigned wIndex, int64_t N, int64_t K, int64_t E,
                    const char *gemvEntry, const char *tiledEntry,
                    cudagen::Shape (*tiledShape)(const Int &, int, int));
  void launchAttention(const AttentionParts &p, int valueDim);
  /// bf16 and int8 weight rows are read 4 weights at a time (K % 4 == 0);
  /// float32 rows of any K.
  LogicalResult checkStoredRows(unsigned weightIndex, int64_t K);
  void launchLightning(const LightningParts &p, int64_t blockSize, const Arg &slopes);
  /// The slopes argument of a lightning kernel's steps: its heads' decay
  /// slopes as a device constant or, with a head_index (a rank's block of the
  /// heads), a first step that selects them among all `all` at run time.
  Arg lightningSlopes(ArrayRef<double> all, int64_t heads, Value headIndex);

  const WeightTypes &weightTypes;
  std::string prefix;
  std::string code;
  cudagen::LaunchPlanBuilder launch;
};

} // namespace cudaemit

} // namespace mm

#endif // MM_CODEGEN_CUDAEMITTER_H
