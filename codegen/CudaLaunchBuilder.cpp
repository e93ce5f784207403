//===- CudaLaunchBuilder.cpp ----------------------------------------------===//
#include "codegen/CudaLaunchBuilder.h"
#include "runtime/cuda/interface.cuh"

#include <algorithm>

namespace mm::cudagen {

namespace {
using Op = exe::IntExpr;

Int leaf(exe::IntExpr::Op op) {
  exe::IntExpr e;
  e.set_op(op);
  return Int(std::move(e));
}

Int binary(exe::IntExpr::Op op, const Int &a, const Int &b) {
  exe::IntExpr e;
  e.set_op(op);
  *e.add_args() = a.expr;
  *e.add_args() = b.expr;
  return Int(std::move(e));
}

Shape shape(const Int &x, const Int &y, const Int &z, int block, const Int &shared = 0) {
  Shape s;
  s.grid[0] = x;
  s.grid[1] = y;
  s.grid[2] = z;
  s.block = static_cast<unsigned>(block);
  s.sharedBytes = shared;
  return s;
}
} // namespace

Int::Int(int64_t constant) {
  expr.set_op(Op::CONSTANT);
  expr.set_constant(constant);
}

Int symbol(const std::string &name) {
  Int v = leaf(Op::SYMBOL);
  v.expr.set_symbol(name);
  return v;
}
Int numel(unsigned operand) {
  Int v = leaf(Op::NUMEL);
  v.expr.set_index(operand);
  return v;
}
Int multiprocessors() { return leaf(Op::MULTIPROCESSORS); }
Int option(exe::IntExpr::Option option) {
  Int v = leaf(Op::OPTION);
  v.expr.set_index(static_cast<uint32_t>(option));
  return v;
}

// Constants fold, and the identities that keep plans readable (x * 1, x + 0).
Int operator+(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant())
    return a.constant() + b.constant();
  if (b.isConstant() && b.constant() == 0)
    return a;
  if (a.isConstant() && a.constant() == 0)
    return b;
  return binary(Op::ADD, a, b);
}
Int operator-(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant())
    return a.constant() - b.constant();
  if (b.isConstant() && b.constant() == 0)
    return a;
  return binary(Op::SUB, a, b);
}
Int operator*(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant())
    return a.constant() * b.constant();
  if (b.isConstant() && b.constant() == 1)
    return a;
  if (a.isConstant() && a.constant() == 1)
    return b;
  return binary(Op::MUL, a, b);
}
Int operator/(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant() && b.constant() != 0)
    return a.constant() / b.constant();
  if (b.isConstant() && b.constant() == 1)
    return a;
  return binary(Op::DIV, a, b);
}
Int ceilDiv(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant() && b.constant() > 0 && a.constant() >= 0)
    return mmk::ceilDiv(a.constant(), b.constant());
  if (b.isConstant() && b.constant() == 1)
    return a;
  return binary(Op::CEIL_DIV, a, b);
}
Int min(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant())
    return std::min(a.constant(), b.constant());
  return binary(Op::MIN, a, b);
}
Int max(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant())
    return std::max(a.constant(), b.constant());
  return binary(Op::MAX, a, b);
}
Int le(const Int &a, const Int &b) {
  if (a.isConstant() && b.isConstant())
    return a.constant() <= b.constant() ? 1 : 0;
  return binary(Op::LE, a, b);
}

namespace shapes {
Shape rows(const Int &rowCount, int threads) { return shape(rowCount, 1, 1, threads); }

Shape elementwise(const Int &n) {
  // mmk::elementwiseBlocks: the grid-stride loops cap the grid at 65536.
  return shape(min(ceilDiv(n, mmk::kElementwiseThreads), 65536), 1, 1, mmk::kElementwiseThreads);
}

Shape attentionPrefill(const Int &batch, const Int &tokens, int qHeads, int kvHeads, int headDim) {
  int group = qHeads / kvHeads, tile = mmk::attentionQueryTile(group);
  return shape(ceilDiv(tokens, tile), kvHeads, batch, mmk::kAttentionThreads,
               int64_t(mmk::attentionSharedBytes(tile * group, headDim, mmk::kAttentionKeyTile)));
}

Int attentionDecodeSplits(const Int &batch, int kvHeads, const Int &capacity) {
  // Enough CTAs for four per multiprocessor, no more splits than key tiles.
  Int ctas = max(1, batch * kvHeads);
  Int wanted = ceilDiv(multiprocessors() * 4, ctas);
  Int maxUseful = max(1, ceilDiv(capacity, mmk::kAttentionKeyTile));
  return max(1, min(wanted, min(maxUseful, 1024)));
}

Shape attentionDecode(const Int &batch, int qHeads, int kvHeads, int headDim, const Int &splits) {
  int group = qHeads / kvHeads;
  return shape(splits, kvHeads, batch, mmk::attentionDecodeThreads(group),
               int64_t(mmk::attentionSharedBytes(group, headDim, mmk::kAttentionKeyTile)));
}

Shape attentionDecodeCombine(const Int &batch, int qHeads, int headDim) {
  return shape(qHeads, batch, 1, std::min(headDim, 1024));
}

Shape lightningState(const Int &batch, const Int &tokens, int heads, int blockSize) {
  return shape(ceilDiv(tokens, blockSize), heads, batch, mmk::kLightningThreads);
}

Shape lightningScan(const Int &batch, int heads, int headDim) {
  return shape(mmk::ceilDiv(mmk::ceilDiv(headDim * headDim, 4), mmk::kLightningScanThreads), heads,
               batch, mmk::kLightningScanThreads);
}

Shape lightningOutput(const Int &batch, const Int &tokens, int heads, int headDim, int blockSize) {
  int tiles = blockSize / mmk::lightningRowTile(blockSize);
  return shape(ceilDiv(tokens, blockSize) * tiles, heads, batch, mmk::kLightningThreads,
               int64_t(mmk::lightningOutputSharedBytes(headDim, blockSize)));
}

Shape lightningDecode(const Int &batch, int heads, int headDim) {
  return shape(headDim / mmk::lightningDecodeColTile(headDim), heads, batch,
               mmk::lightningDecodeThreads(headDim));
}

Shape moeRouter(const Int &tokens) {
  return shape(ceilDiv(tokens, mmk::kRouterThreads / 32), 1, 1, mmk::kRouterThreads);
}

Shape moeSort() { return shape(1, 1, 1, mmk::kMoeSortThreads); }

Shape groupedGemm(const Int &rows, int outFeatures, int experts) {
  return shape(ceilDiv(rows, mmk::kGroupedGemmRowTile) + experts,
               mmk::ceilDiv(outFeatures, mmk::groupedGemmColTile(outFeatures)), 1,
               mmk::kGroupedGemmThreads);
}

Shape groupedSwiglu(const Int &rows, int outFeatures, int experts) {
  return shape(ceilDiv(rows, mmk::kGroupedGemmRowTile) + experts,
               mmk::ceilDiv(outFeatures, mmk::groupedSwigluColTile(outFeatures)), 1,
               mmk::kGroupedGemmThreads);
}

Shape groupedGemv(int outFeatures, int experts, int weightBytes) {
  const int columnsPerBlock = mmk::kGroupedGemvThreads / 32 * mmk::gemvColumnsPerWarp(weightBytes);
  return shape(mmk::ceilDiv(outFeatures, columnsPerBlock), experts, 1, mmk::kGroupedGemvThreads);
}

Shape gemv(int outFeatures, int weightBytes) { return groupedGemv(outFeatures, 1, weightBytes); }
} // namespace shapes

exe::DevicePointer operandPointer(unsigned operand, const Int &byteOffset) {
  exe::DevicePointer p;
  p.set_operand(operand);
  if (!(byteOffset.isConstant() && byteOffset.constant() == 0))
    *p.mutable_byte_offset() = byteOffset.expr;
  return p;
}
exe::DevicePointer scratchPointer(unsigned scratch, const Int &byteOffset) {
  exe::DevicePointer p;
  p.set_scratch(scratch);
  if (!(byteOffset.isConstant() && byteOffset.constant() == 0))
    *p.mutable_byte_offset() = byteOffset.expr;
  return p;
}
exe::DevicePointer constantPointer(unsigned constant) {
  exe::DevicePointer p;
  p.set_constant(constant);
  return p;
}

Arg Arg::i64(const Int &v) {
  Arg a;
  *a.arg.mutable_i64() = v.expr;
  return a;
}
Arg Arg::i32(const Int &v) {
  Arg a;
  *a.arg.mutable_i32() = v.expr;
  return a;
}
Arg Arg::pointer(exe::DevicePointer p) {
  Arg a;
  *a.arg.mutable_pointer() = std::move(p);
  return a;
}
Arg Arg::errorFlag() {
  Arg a;
  a.arg.set_error_flag(true);
  return a;
}

Int LaunchPlanBuilder::let(const Int &v) {
  if (v.isConstant() || v.expr.op() == Op::SYMBOL || v.expr.op() == Op::VALUE)
    return v;
  *plan.add_values() = v.expr;
  Int ref = leaf(Op::VALUE);
  ref.expr.set_index(static_cast<uint32_t>(plan.values_size() - 1));
  return ref;
}

unsigned LaunchPlanBuilder::scratch(ScratchSlot slot, const Int &bytes) {
  exe::ScratchBuffer *s = plan.add_scratch();
  s->set_slot(static_cast<uint32_t>(slot));
  *s->mutable_bytes() = bytes.expr;
  return static_cast<unsigned>(plan.scratch_size() - 1);
}

unsigned LaunchPlanBuilder::constant(const std::vector<float> &values) {
  exe::DeviceConstant *c = plan.add_constants();
  for (float v : values)
    c->add_values(v);
  return static_cast<unsigned>(plan.constants_size() - 1);
}

exe::LaunchStep *LaunchPlanBuilder::step(const Int &guard) {
  if (guard.isConstant() && guard.constant() == 0)
    return nullptr; // never runs
  exe::LaunchStep *s = plan.add_steps();
  if (!guard.isConstant())
    *s->mutable_guard() = guard.expr;
  return s;
}

void LaunchPlanBuilder::kernel(const std::string &entry, const Shape &shape,
                               const std::vector<Arg> &args, const Int &guard) {
  exe::LaunchStep *s = step(guard);
  if (!s)
    return;
  exe::KernelCall *k = s->mutable_kernel();
  k->set_entry(entry);
  for (const Int &g : shape.grid)
    *k->add_grid() = g.expr;
  k->set_block(shape.block);
  *k->mutable_shared_bytes() = shape.sharedBytes.expr;
  for (const Arg &a : args)
    *k->add_args() = a.arg;
}

void LaunchPlanBuilder::gemm(const Int &m, const Int &n, const Int &k, exe::DevicePointer x,
                             exe::DevicePointer w, exe::DevicePointer y, const Int &ldx,
                             const Int &ldw, const Int &ldy, const Int &guard) {
  exe::LaunchStep *s = step(guard);
  if (!s)
    return;
  exe::GemmCall *g = s->mutable_gemm();
  *g->mutable_m() = m.expr;
  *g->mutable_n() = n.expr;
  *g->mutable_k() = k.expr;
  *g->mutable_x() = std::move(x);
  *g->mutable_w() = std::move(w);
  *g->mutable_y() = std::move(y);
  *g->mutable_ldx() = ldx.expr;
  *g->mutable_ldw() = ldw.expr;
  *g->mutable_ldy() = ldy.expr;
}

void LaunchPlanBuilder::memset(exe::DevicePointer target, unsigned byte, const Int &bytes,
                               const Int &guard) {
  exe::LaunchStep *s = step(guard);
  if (!s)
    return;
  exe::MemsetCall *m = s->mutable_memset();
  *m->mutable_target() = std::move(target);
  m->set_byte(byte);
  *m->mutable_bytes() = bytes.expr;
}

void LaunchPlanBuilder::require(const Int &condition, const std::string &message) {
  if (condition.isConstant() && condition.constant() != 0)
    return; // holds for every call
  exe::LaunchStep *s = plan.add_steps();
  *s->mutable_require()->mutable_condition() = condition.expr;
  s->mutable_require()->set_message(message);
}

} // namespace mm::cudagen
