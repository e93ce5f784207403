//===- CudaLaunchPlan.cpp -------------------------------------------------===//
#include "runtime/executable/CudaLaunchPlan.h"
#include "runtime/Error.h"

namespace mm {

namespace {

using Op = exe::IntExpr;

bool isLeaf(Op::Op op) { return op <= Op::OPTION; }
constexpr uint32_t kMaxScratchSlots = 64;

/// Checks one expression; `values` is how many plan values precede it.
class PlanChecker {
public:
  PlanChecker(const exe::Kernel &k, const exe::Executable &e, uint32_t operands)
      : kernel(k), exe(e), operands(operands) {}

  [[noreturn]] void fail(const std::string &what) const {
    throw makeError(kernel.location(), ": the CUDA launch plan of this '", kernel.kind(),
                    "' kernel (", kernel.name(), ") ", what);
  }

  void expr(const exe::IntExpr &e, int values, int depth = 0) const {
    if (depth > 64)
      fail("nests expressions deeper than 64");
    if (!exe::IntExpr::Op_IsValid(e.op()))
      fail("has an unknown expression operator " + std::to_string(e.op()));
    if (isLeaf(e.op()) != (e.args_size() == 0) || (!isLeaf(e.op()) && e.args_size() != 2))
      fail("has an expression with " + std::to_string(e.args_size()) + " operands for " +
           exe::IntExpr::Op_Name(e.op()));
    switch (e.op()) {
    case Op::SYMBOL: {
      bool found = false;
      for (const exe::Symbol &s : exe.symbols())
        found = found || s.name() == e.symbol();
      if (!found)
        fail("reads shape symbol '" + e.symbol() + "', which the executable does not have");
      break;
    }
    case Op::NUMEL:
      if (e.index() >= operands)
        fail("reads the size of operand " + std::to_string(e.index()) + " of " +
             std::to_string(operands));
      break;
    case Op::VALUE:
      if (e.index() >= uint32_t(values))
        fail("reads value " + std::to_string(e.index()) + " before it is defined");
      break;
    case Op::OPTION:
      if (!exe::IntExpr::Option_IsValid(int(e.index())))
        fail("reads unknown runtime option " + std::to_string(e.index()));
      break;
    default:
      break;
    }
    for (const exe::IntExpr &a : e.args())
      expr(a, values, depth + 1);
  }

  void pointer(const exe::DevicePointer &p, const exe::CudaLaunchPlan &plan, int values) const {
    switch (p.base_case()) {
    case exe::DevicePointer::kOperand:
      if (p.operand() >= operands)
        fail("points into operand " + std::to_string(p.operand()) + " of " +
             std::to_string(operands));
      break;
    case exe::DevicePointer::kScratch:
      if (p.scratch() >= uint32_t(plan.scratch_size()))
        fail("points into scratch " + std::to_string(p.scratch()) + " of " +
             std::to_string(plan.scratch_size()));
      break;
    case exe::DevicePointer::kConstant:
      if (p.constant() >= uint32_t(plan.constants_size()))
        fail("points at constant " + std::to_string(p.constant()) + " of " +
             std::to_string(plan.constants_size()));
      break;
    default:
      fail("has a pointer with no base");
    }
    if (p.has_byte_offset())
      expr(p.byte_offset(), values);
  }

  const exe::Kernel &kernel;
  const exe::Executable &exe;
  uint32_t operands;
};

std::string where(const LaunchValues &v) {
  return v.location ? *v.location : std::string("a CUDA launch");
}
[[noreturn]] void overflows(const LaunchValues &v) {
  throw LaunchSizeError(where(v) + ": a launch size overflows 64 bits");
}

} // namespace

void validateCudaLaunchPlan(const exe::Kernel &kernel, const exe::Executable &e,
                            uint32_t operands) {
  PlanChecker c(kernel, e, operands);
  const exe::CudaLaunchPlan &plan = kernel.cuda_launch();
  if (plan.steps_size() == 0)
    c.fail("has no steps");
  if (e.cuda_scratch_slots() > kMaxScratchSlots)
    c.fail("comes with " + std::to_string(e.cuda_scratch_slots()) + " scratch slots (at most " +
           std::to_string(kMaxScratchSlots) + ")");
  const int values = plan.values_size();
  for (int i = 0; i < values; ++i)
    c.expr(plan.values(i), i);
  for (const exe::ScratchBuffer &s : plan.scratch()) {
    if (s.slot() >= e.cuda_scratch_slots())
      c.fail("uses scratch slot " + std::to_string(s.slot()) + " of " +
             std::to_string(e.cuda_scratch_slots()));
    c.expr(s.bytes(), values);
  }
  for (const exe::LaunchStep &step : plan.steps()) {
    if (step.has_guard())
      c.expr(step.guard(), values);
    switch (step.call_case()) {
    case exe::LaunchStep::kKernel: {
      const exe::KernelCall &k = step.kernel();
      if (k.entry().empty() || k.grid_size() != 3 || k.block() < 1 || k.block() > 1024)
        c.fail("has a kernel call with no entry, a grid of " + std::to_string(k.grid_size()) +
               " axes or a block of " + std::to_string(k.block()) + " threads");
      for (const exe::IntExpr &g : k.grid())
        c.expr(g, values);
      c.expr(k.shared_bytes(), values);
      for (const exe::KernelArgument &a : k.args())
        switch (a.value_case()) {
        case exe::KernelArgument::kI64:
          c.expr(a.i64(), values);
          break;
        case exe::KernelArgument::kI32:
          c.expr(a.i32(), values);
          break;
        case exe::KernelArgument::kPointer:
          c.pointer(a.pointer(), plan, values);
          break;
        case exe::KernelArgument::kErrorFlag:
          break;
        default:
          c.fail("has a kernel argument with no value");
        }
      break;
    }
    case exe::LaunchStep::kGemm: {
      const exe::GemmCall &g = step.gemm();
      for (const exe::IntExpr *x : {&g.m(), &g.n(), &g.k(), &g.ldx(), &g.ldw(), &g.ldy()})
        c.expr(*x, values);
      for (const exe::DevicePointer *p : {&g.x(), &g.w(), &g.y()})
        c.pointer(*p, plan, values);
      break;
    }
    case exe::LaunchStep::kRequire:
      c.expr(step.require().condition(), values);
      break;
    case exe::LaunchStep::kMemset:
      if (step.memset().byte() > 255)
        c.fail("fills with byte " + std::to_string(step.memset().byte()));
      c.pointer(step.memset().target(), plan, values);
      c.expr(step.memset().bytes(), values);
      break;
    default:
      c.fail("has a step with no call");
    }
  }
}

int64_t evaluate(const exe::IntExpr &e, const LaunchValues &v) {
  switch (e.op()) {
  case Op::CONSTANT:
    return e.constant();
  case Op::SYMBOL:
    return v.symbol(e.symbol());
  case Op::NUMEL:
    return v.numel(e.index());
  case Op::VALUE:
    return v.values.at(e.index());
  case Op::MULTIPROCESSORS:
    return v.multiprocessors;
  case Op::OPTION:
    return e.index() == Op::DENSE_GEMV ? int64_t(v.denseGemv) : 0;
  default:
    break;
  }
  if (e.args_size() != 2)
    throw LaunchSizeError(where(v) + ": an expression operator without its two operands");
  const int64_t a = evaluate(e.args(0), v), b = evaluate(e.args(1), v);
  int64_t r = 0;
  switch (e.op()) {
  case Op::ADD:
    if (__builtin_add_overflow(a, b, &r))
      overflows(v);
    return r;
  case Op::SUB:
    if (__builtin_sub_overflow(a, b, &r))
      overflows(v);
    return r;
  case Op::MUL:
    if (__builtin_mul_overflow(a, b, &r))
      overflows(v);
    return r;
  case Op::DIV:
  case Op::CEIL_DIV:
    if (b == 0 || (e.op() == Op::CEIL_DIV && (a < 0 || b < 0)))
      throw LaunchSizeError(where(v) + ": a launch size divides " + std::to_string(a) + " by " +
                            std::to_string(b));
    if (e.op() == Op::DIV) {
      if (a == INT64_MIN && b == -1)
        overflows(v);
      return a / b;
    }
    return a / b + (a % b != 0);
  case Op::MIN:
    return a < b ? a : b;
  case Op::MAX:
    return a > b ? a : b;
  case Op::LE:
    return a <= b ? 1 : 0;
  default:
    throw LaunchSizeError(where(v) + ": unknown expression operator " +
                          std::to_string(int(e.op())));
  }
}

} // namespace mm
