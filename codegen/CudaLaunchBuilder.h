//===- CudaLaunchBuilder.h - typed launch steps for a CUDA kernel -*- C++ -*-===//
//
// The CUDA generator decides how each kernel is launched and records it as
// data (runtime/executable/CudaLaunch.proto): sizes are IntExpr trees over the
// call's shape symbols and operand sizes, built here with ordinary operators
// (constants fold), and the launch shapes of the kernel library are written
// as such expressions from the same interface.cuh constants the runtime's
// cuda::launch functions use (a unit test evaluates both and compares).
//
//===----------------------------------------------------------------------===//
#ifndef MM_CODEGEN_CUDALAUNCHBUILDER_H
#define MM_CODEGEN_CUDALAUNCHBUILDER_H

#include "CudaLaunch.pb.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mm::cudagen {

/// An integer expression of a call (wraps exe::IntExpr so operators apply).
struct Int {
  exe::IntExpr expr;
  Int(int64_t constant = 0); // NOLINT: constants convert implicitly
  explicit Int(exe::IntExpr e) : expr(std::move(e)) {}
  bool isConstant() const { return expr.op() == exe::IntExpr::CONSTANT; }
  int64_t constant() const { return expr.constant(); }
};

Int symbol(const std::string &name);
Int numel(unsigned operand);
Int multiprocessors();
Int option(exe::IntExpr::Option option);
Int operator+(const Int &a, const Int &b);
Int operator-(const Int &a, const Int &b);
Int operator*(const Int &a, const Int &b);
Int operator/(const Int &a, const Int &b); // toward zero
Int ceilDiv(const Int &a, const Int &b);
Int min(const Int &a, const Int &b);
Int max(const Int &a, const Int &b);
/// 1 if a <= b, else 0.
Int le(const Int &a, const Int &b);
/// 1 if a == b, else 0.
inline Int eq(const Int &a, const Int &b) { return le(a, b) * le(b, a); }
/// Logical and / not of 0-1 values.
inline Int both(const Int &a, const Int &b) { return a * b; }
inline Int negate(const Int &a) { return Int(1) - a; }

/// Grid (x, y, z), block and dynamic shared memory of one launch.
struct Shape {
  Int grid[3] = {1, 1, 1};
  unsigned block = 1;
  Int sharedBytes = 0;
};

/// The kernel library's launch shapes (runtime/cuda/LaunchShapes.h's
/// cuda::launch, as expressions; compile-time arguments are plain ints).
namespace shapes {
Shape rows(const Int &rowCount, int threads);
Shape elementwise(const Int &n);
Shape attentionPrefill(const Int &batch, const Int &tokens, int qHeads, int kvHeads, int headDim);
Int attentionDecodeSplits(const Int &batch, int kvHeads, const Int &capacity);
Shape attentionDecode(const Int &batch, int qHeads, int kvHeads, int headDim, const Int &splits);
Shape attentionDecodeCombine(const Int &batch, int qHeads, int headDim);
Shape lightningState(const Int &batch, const Int &tokens, int heads, int blockSize);
Shape lightningScan(const Int &batch, int heads, int headDim);
Shape lightningOutput(const Int &batch, const Int &tokens, int heads, int headDim, int blockSize);
Shape lightningDecode(const Int &batch, int heads, int headDim);
Shape moeRouter(const Int &tokens);
Shape moeSort();
Shape groupedGemm(const Int &rows, int outFeatures, int experts);
Shape groupedSwiglu(const Int &rows, int outFeatures, int experts);
Shape groupedGemv(int outFeatures, int experts, int weightBytes);
Shape gemv(int outFeatures, int weightBytes);
} // namespace shapes

/// A device pointer argument: an operand, scratch or constant, plus an offset.
exe::DevicePointer operandPointer(unsigned operand, const Int &byteOffset = 0);
exe::DevicePointer scratchPointer(unsigned scratch, const Int &byteOffset = 0);
exe::DevicePointer constantPointer(unsigned constant);

/// One argument after the operand pointers.
struct Arg {
  exe::KernelArgument arg;
  static Arg i64(const Int &v);
  static Arg i32(const Int &v);
  static Arg pointer(exe::DevicePointer p);
  static Arg errorFlag();
};

/// Scratch slots shared by every kernel of a program (Executable.cuda_scratch_slots).
enum class ScratchSlot : unsigned {
  RotatedQueries,
  RotatedKeys,
  AttentionPartials,
  LightningWorkspace,
  RowOfSlot,
  WidenedWeights,
  // per-row statistics in double: a loss's per-row (per-element) terms before
  // their sum, the cross-entropy gradient's label count, attention_grad's
  // per-row softmax max, sum and dO . O
  RowStatistics,
  ImageRows,  // the feature row of each text row (-1: text) of a merge of image features
  GruGates,   // a GRU gradient's gate gradients (input and hidden), [B, T, 3 H] each
  HeadSlopes, // the decay slopes of a rank's block of lightning heads (head_index)
  Count
};

/// Builds one kernel's exe::CudaLaunchPlan.
class LaunchPlanBuilder {
public:
  /// Names `v` as a value of the plan (evaluated once per call); constants
  /// stay inline.
  Int let(const Int &v);
  unsigned scratch(ScratchSlot slot, const Int &bytes);
  unsigned constant(const std::vector<float> &values);
  /// Steps run in order, each when its guard is non-zero.
  void kernel(const std::string &entry, const Shape &shape, const std::vector<Arg> &args,
              const Int &guard = 1);
  void gemm(const Int &m, const Int &n, const Int &k, exe::DevicePointer x, exe::DevicePointer w,
            exe::DevicePointer y, const Int &ldx, const Int &ldw, const Int &ldy,
            const Int &guard = 1);
  void memset(exe::DevicePointer target, unsigned byte, const Int &bytes, const Int &guard = 1);
  /// Fails the call with `message` (and the kernel's location) unless `condition` holds.
  void require(const Int &condition, const std::string &message);
  exe::CudaLaunchPlan take() { return std::move(plan); }

private:
  exe::LaunchStep *step(const Int &guard);
  exe::CudaLaunchPlan plan;
};

} // namespace mm::cudagen

#endif // MM_CODEGEN_CUDALAUNCHBUILDER_H
