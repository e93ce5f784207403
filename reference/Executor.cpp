//===- Executor.cpp - the reference executor of mm IR ---------------------===//
#include "reference/Executor.h"
#include "ir/MMOps.h"
#include "reference/OpEvaluation.h"
#include "runtime/LightningDecay.h"
#include "ir/ShardCollectives.h"
#include "runtime/dist/CollectiveOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;

namespace mm {

namespace {
std::string describe(Operation *op) {
  std::string s;
  llvm::raw_string_ostream os(s);
  op->getLoc().print(os);
  os << ": '" << op->getName() << "'";
  return s;
}

/// A shard collective across the ranks of dist::world() (on one rank,
/// the identity).
Tensor runShardCollective(Operation *op, const Tensor &input) {
  llvm::Expected<dist::CollectivePlan> plan = collectivePlan(op);
  if (!plan)
    throw makeError(llvm::toString(plan.takeError()));
  std::vector<int> group = dist::groupOf(*plan);
  if (plan->kind == "all_gather") { // (the pieces may differ in length)
    std::vector<int64_t> pieces = dist::gatherPieces(*plan, group, input.shape(), describe(op));
    Shape shape = dist::gatheredShape(input.shape(), plan->axis, pieces);
    Tensor out = Tensor::empty(input.dtype(), shape);
    dist::runCollective(*plan, group, input.raw(), input.shape(), out.raw(), shape,
                        input.dtype(), describe(op), &pieces);
    return out;
  }
  Shape shape = dist::collectiveResultShape(*plan, input.shape(), group.size());
  Tensor out = Tensor::empty(input.dtype(), shape);
  dist::runCollective(*plan, group, input.raw(), input.shape(), out.raw(), shape, input.dtype(),
                      describe(op));
  return out;
}

} // namespace

struct ReferenceExecutor::Impl {
  func::FuncOp fn;
  ParamBinder binder;
  ExecutorOptions options;
  std::map<std::string, Tensor> params;
  /// Per block: the last user of each value defined in it, and the values to
  /// free after each op.
  struct BlockPlan {
    llvm::DenseMap<Operation *, SmallVector<Value>> deadAfter;
    llvm::DenseMap<Value, Operation *> lastUser;
  };
  llvm::DenseMap<Block *, BlockPlan> plans;

  using Env = llvm::DenseMap<Value, Tensor>;

  BlockPlan &planFor(Block &block);
  std::vector<Tensor> run(std::vector<Tensor> inputs);
  SmallVector<Tensor> runBlock(Block &block, Env &env);
  void execute(Operation &op, Env &env);

  Tensor get(Env &env, Value v) {
    auto it = env.find(v);
    if (it == env.end())
      throw makeError("reference executor: value used before definition");
    return it->second;
  }
  /// The tensor, handed over (not shared) when `user` is its last use, so a
  /// kernel may update it in place.
  Tensor take(Env &env, Value v, Operation *user) {
    Tensor t = get(env, v);
    BlockPlan &plan = planFor(*user->getBlock());
    auto it = plan.lastUser.find(v);
    if (it != plan.lastUser.end() && it->second == user)
      env.erase(v);
    return t;
  }
  Tensor constant(arith::ConstantOp op);
  Tensor param(ParamOp op);
  void checkResult(Operation *op, Value result, const Tensor &t);
};

ReferenceExecutor::Impl::BlockPlan &ReferenceExecutor::Impl::planFor(Block &block) {
  auto found = plans.find(&block);
  if (found != plans.end())
    return found->second;
  BlockPlan &plan = plans[&block];
  for (Operation &op : block) {
    if (op.hasTrait<OpTrait::IsTerminator>())
      continue; // yielded and returned values stay alive
    auto note = [&](Value v) {
      // Values of this block, and block arguments of an isolated body.
      if (v.getParentBlock() == &block)
        plan.lastUser[v] = &op;
    };
    for (Value v : op.getOperands())
      note(v);
    op.walk([&](Operation *nested) {
      if (nested != &op)
        for (Value v : nested->getOperands())
          note(v);
    });
  }
  for (Value v : block.getTerminator()->getOperands())
    plan.lastUser.erase(v);
  for (auto &[v, op] : plan.lastUser)
    plan.deadAfter[op].push_back(v);
  return plan;
}

Tensor ReferenceExecutor::Impl::constant(arith::ConstantOp op) {
  auto dense = llvm::dyn_cast<DenseElementsAttr>(op.getValue());
  auto type = llvm::dyn_cast<RankedTensorType>(op.getType());
  if (!dense || !type)
    throw makeError("only dense tensor constants are supported");
  Shape shape(type.getShape().begin(), type.getShape().end());
  if (llvm::isa<FloatType>(type.getElementType())) {
    std::vector<double> values;
    for (const APFloat &f : dense.getValues<APFloat>())
      values.push_back(f.convertToDouble());
    return Tensor::fromVector<double>(shape, values).to(options.precision);
  }
  std::vector<int64_t> values;
  for (const APInt &i : dense.getValues<APInt>())
    values.push_back(i.getSExtValue());
  return Tensor::fromVector<int64_t>(shape, values);
}

Tensor ReferenceExecutor::Impl::param(ParamOp op) {
  std::string name = op.getName().str();
  auto it = params.find(name);
  if (it != params.end())
    return it->second;
  auto type = op.getType();
  Shape shape(type.getShape().begin(), type.getShape().end());
  DType dtype = llvm::isa<FloatType>(type.getElementType()) ? options.precision : DType::I64;
  llvm::Expected<std::optional<dist::WeightShard>> shard = weightShardOf(op);
  if (!shard)
    throw makeError(llvm::toString(shard.takeError()));
  // A partitioned program's split weight: the rank keeps only its part.
  Tensor t = *shard ? (*shard)->bind(binder, name, shape, dtype, dist::world().rank())
                    : binder(name, shape, dtype);
  if (t.shape() != shape)
    throw makeError("weight '", name, "' was bound with shape ", formatShape(t.shape()),
                    ", expected ", formatShape(shape));
  params[name] = t;
  return t;
}

void ReferenceExecutor::Impl::checkResult(Operation *op, Value result, const Tensor &t) {
  auto type = llvm::cast<RankedTensorType>(result.getType());
  bool ok = t.rank() == type.getRank();
  for (int64_t i = 0; ok && i < type.getRank(); ++i)
    ok = type.isDynamicDim(i) || type.getDimSize(i) == t.dim(i);
  if (!ok)
    throw makeError("result has shape ", formatShape(t.shape()), " but the IR type is ", [&] {
      std::string s;
      llvm::raw_string_ostream os(s);
      os << type;
      return s;
    }());
  bool isFloat = llvm::isa<FloatType>(type.getElementType());
  if (isFloat != (t.dtype() != DType::I64))
    throw makeError("result element type does not match the IR type");
}

void ReferenceExecutor::Impl::execute(Operation &op, Env &env) {
  OpEvaluation e{op,
                 [&](Value v) { return get(env, v); },
                 [&](Value v) { return take(env, v, &op); },
                 options.precision,
                 options.lightning,
                 {}};
  SmallVector<Tensor> &results = e.results;
  bool handled = evaluateElementwise(e) || evaluateLinearAndNorm(e) || evaluateAttention(e) ||
                 evaluateMoE(e) || evaluateReduction(e) || evaluateShape(e) || evaluateLoss(e) ||
                 evaluateVisionAndRecsys(e) || evaluateGradient(e);
  // What needs the executor's own state: constants, weights, choices, kernels.
  if (!handled)
    llvm::TypeSwitch<Operation *>(&op)
        .Case([&](arith::ConstantOp c) { results.push_back(constant(c)); })
        .Case([&](ParamOp p) { results.push_back(param(p)); })
        // A sharding annotation does not change the value (before
        // shard-partition, the whole program runs on every rank).
        .Case([&](shard::ShardOp s) { results.push_back(get(env, s.getSrc())); })
        .Case<shard::AllReduceOp, shard::AllGatherOp, shard::AllSliceOp, shard::ReduceScatterOp>(
            [&](Operation *c) {
          results.push_back(runShardCollective(c, get(env, c->getOperand(0))));
        })
        .Case([&](ChoiceOp c) {
          Tensor sel = get(env, c.getSelector());
          int64_t index = sel.data<int64_t>()[0];
          if (index < 0 || index >= static_cast<int64_t>(c.getCandidates().size()))
            throw makeError("selector ", index, " is outside the ", c.getCandidates().size(),
                            " candidates");
          for (Tensor &t : runBlock(c.getCandidates()[index].front(), env))
            results.push_back(t);
        })
        .Case([&](KernelOp k) {
          // An isolated body: its arguments take the inputs (handed over when
          // this is their last use, so caches still update in place).
          Block &body = k.getBodyBlock();
          Env inner;
          for (auto [arg, input] : llvm::zip(body.getArguments(), k.getInputs()))
            inner[arg] = take(env, input, &op);
          for (Tensor &t : runBlock(body, inner))
            results.push_back(t);
        })
        .Default([&](Operation *) {
          throw makeError("the reference executor does not support this op");
        });

  if (results.size() != op.getNumResults())
    throw makeError("produced ", results.size(), " results for ", op.getNumResults());
  for (auto [v, t] : llvm::zip(op.getResults(), results)) {
    checkResult(&op, v, t);
    env[v] = t;
  }
  BlockPlan &plan = planFor(*op.getBlock());
  auto it = plan.deadAfter.find(&op);
  if (it != plan.deadAfter.end())
    for (Value v : it->second)
      env.erase(v);
}

SmallVector<Tensor> ReferenceExecutor::Impl::runBlock(Block &block, Env &env) {
  for (Operation &op : block) {
    if (isa<shard::ShardingOp>(op))
      continue; // a description of a sharding, read by shard.shard only
    if (op.hasTrait<OpTrait::IsTerminator>()) {
      SmallVector<Tensor> out;
      for (Value v : op.getOperands())
        out.push_back(get(env, v));
      return out;
    }
    try {
      execute(op, env);
    } catch (const Error &e) {
      throw makeError(describe(&op), ": ", e.what());
    }
  }
  throw makeError("reference executor: block without a terminator");
}

uint64_t ReferenceExecutor::boundWeightBytes() const {
  uint64_t bytes = 0;
  for (const auto &[name, t] : impl->params)
    bytes += t.nbytes();
  return bytes;
}

std::vector<Tensor> ReferenceExecutor::Impl::run(std::vector<Tensor> inputs) {
  Block &body = fn.getBody().front();
  if (inputs.size() != body.getNumArguments())
    throw makeError("@", fn.getName().str(), " takes ", body.getNumArguments(), " inputs, got ",
                    inputs.size());
  Env env;
  for (auto [i, arg] : llvm::enumerate(body.getArguments())) {
    auto type = llvm::cast<RankedTensorType>(arg.getType());
    bool isFloat = llvm::isa<FloatType>(type.getElementType());
    Tensor t = std::move(inputs[i]);
    if (isFloat != (t.dtype() != DType::I64))
      throw makeError("input ", i, " of @", fn.getName().str(), " must be ",
                      isFloat ? "a float" : "an integer", " tensor");
    env[arg] = isFloat ? t.to(options.precision) : t;
    try {
      checkResult(fn, arg, env[arg]);
    } catch (const Error &e) {
      throw makeError("input ", i, " of @", fn.getName().str(), ": ", e.what());
    }
  }
  inputs.clear(); // hand the caches over: kernels may then update them in place
  SmallVector<Tensor> out = runBlock(body, env);
  return {out.begin(), out.end()};
}

ReferenceExecutor::ReferenceExecutor(func::FuncOp function, ParamBinder binder,
                                     ExecutorOptions options)
    : impl(new Impl) {
  impl->fn = function;
  impl->binder = std::move(binder);
  impl->options = options;
  if (options.precision == DType::I64)
    throw makeError("reference executor: precision must be f32 or f64");
}
ReferenceExecutor::~ReferenceExecutor() = default;
ReferenceExecutor::ReferenceExecutor(ReferenceExecutor &&) noexcept = default;

std::vector<Tensor> ReferenceExecutor::run(std::vector<Tensor> inputs) {
  return impl->run(std::move(inputs));
}

void ReferenceExecutor::bindAllParams() {
  // A plain loop over the body (no walk callback): binding may throw.
  for (Operation &op : impl->fn.getBody().front())
    if (auto p = llvm::dyn_cast<ParamOp>(op)) {
      try {
        impl->param(p);
      } catch (const Error &e) {
        throw makeError(describe(&op), ": ", e.what());
      }
    }
}

const ExecutorOptions &ReferenceExecutor::options() const { return impl->options; }

} // namespace mm
