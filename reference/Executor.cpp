//===- Executor.cpp - the reference executor of mm IR ---------------------===//
#include "reference/Executor.h"
#include "ir/MMOps.h"
#include "runtime/LightningDecay.h"

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

ref::ReduceKind toRef(ReduceKind k) {
  switch (k) {
  case ReduceKind::Sum:
    return ref::ReduceKind::Sum;
  case ReduceKind::Mean:
    return ref::ReduceKind::Mean;
  case ReduceKind::Max:
    return ref::ReduceKind::Max;
  case ReduceKind::Min:
    return ref::ReduceKind::Min;
  case ReduceKind::Prod:
    return ref::ReduceKind::Prod;
  }
  return ref::ReduceKind::Sum;
}

ref::LossReduction toRef(LossReduction r) {
  return r == LossReduction::None  ? ref::LossReduction::None
         : r == LossReduction::Sum ? ref::LossReduction::Sum
                                   : ref::LossReduction::Mean;
}

std::vector<int64_t> vec(ArrayRef<int64_t> a) { return {a.begin(), a.end()}; }
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
  Tensor t = llvm::isa<FloatType>(type.getElementType()) ? binder(name, shape, options.precision)
                                                         : binder(name, shape, DType::I64);
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
  auto in = [&](Value v) { return get(env, v); };
  auto opt = [&](Value v) -> std::optional<Tensor> {
    return v ? std::optional<Tensor>(get(env, v)) : std::nullopt;
  };
  auto ptr = [](std::optional<Tensor> &t) { return t ? &*t : nullptr; };
  SmallVector<Tensor> results;
  auto unary = [&](ref::UnaryKind k) { results.push_back(ref::unary(k, in(op.getOperand(0)))); };
  auto binary = [&](ref::BinaryKind k) {
    results.push_back(ref::binary(k, in(op.getOperand(0)), in(op.getOperand(1))));
  };

  llvm::TypeSwitch<Operation *>(&op)
      .Case([&](arith::ConstantOp c) { results.push_back(constant(c)); })
      .Case([&](ParamOp p) { results.push_back(param(p)); })
      .Case([&](SiluOp) { unary(ref::UnaryKind::Silu); })
      .Case([&](SigmoidOp) { unary(ref::UnaryKind::Sigmoid); })
      .Case([&](ReluOp) { unary(ref::UnaryKind::Relu); })
      .Case([&](TanhOp) { unary(ref::UnaryKind::Tanh); })
      .Case([&](ExpOp) { unary(ref::UnaryKind::Exp); })
      .Case([&](LogOp) { unary(ref::UnaryKind::Log); })
      .Case([&](SqrtOp) { unary(ref::UnaryKind::Sqrt); })
      .Case([&](RsqrtOp) { unary(ref::UnaryKind::Rsqrt); })
      .Case([&](NegOp) { unary(ref::UnaryKind::Neg); })
      .Case([&](GeluOp g) {
        unary(g.getTanhApproximation() ? ref::UnaryKind::GeluTanh : ref::UnaryKind::Gelu);
      })
      .Case([&](AddOp) { binary(ref::BinaryKind::Add); })
      .Case([&](SubOp) { binary(ref::BinaryKind::Sub); })
      .Case([&](MulOp) { binary(ref::BinaryKind::Mul); })
      .Case([&](DivOp) { binary(ref::BinaryKind::Div); })
      .Case([&](MaxOp) { binary(ref::BinaryKind::Max); })
      .Case([&](MinOp) { binary(ref::BinaryKind::Min); })
      .Case([&](SwigluOp s) { results.push_back(ref::swiglu(in(s.getGate()), in(s.getUp()))); })
      .Case([&](CastOp c) {
        bool toFloat = llvm::isa<FloatType>(c.getType().getElementType());
        Tensor converted = in(c.getInput()).to(toFloat ? options.precision : DType::I64);
        Type to = c.getType().getElementType();
        if (to.isBF16() || to.isF16()) // stored wide, rounded to the format's values
          converted = ref::roundToFormat(converted, to.isBF16() ? ref::NarrowFloat::BF16
                                                                : ref::NarrowFloat::F16);
        results.push_back(converted);
      })
      .Case([&](RmsNormOp n) {
        results.push_back(
            ref::rmsNorm(in(n.getInput()), in(n.getWeight()), n.getEpsilon().convertToDouble()));
      })
      .Case([&](LayerNormOp n) {
        results.push_back(ref::layerNorm(in(n.getInput()), in(n.getWeight()), in(n.getBias()),
                                         n.getEpsilon().convertToDouble()));
      })
      .Case([&](LinearOp l) {
        auto bias = opt(l.getBias());
        results.push_back(ref::linear(in(l.getInput()), in(l.getWeight()), ptr(bias)));
      })
      .Case([&](MatmulOp m) {
        results.push_back(
            ref::matmul(in(m.getLhs()), in(m.getRhs()), m.getTransposeLhs(), m.getTransposeRhs()));
      })
      .Case([&](EmbeddingOp e) {
        results.push_back(ref::embedding(in(e.getTable()), in(e.getIds())));
      })
      .Case([&](RopeOp r) {
        results.push_back(ref::rope(in(r.getInput()), in(r.getPositions()),
                                    static_cast<int64_t>(r.getRotaryDim()),
                                    r.getTheta().convertToDouble()));
      })
      .Case([&](AttentionOp a) {
        Tensor q = in(a.getQuery());
        double scale =
            a.getScale() ? a.getScale()->convertToDouble() : 1.0 / std::sqrt(double(q.dim(3)));
        std::optional<Tensor> kc, vc, pos = opt(a.getCachePositions());
        if (a.hasCache()) {
          kc = take(env, a.getKeyCache(), &op);
          // One tensor as both caches: each result is that tensor updated
          // with its own rows (value semantics), so they cannot share storage.
          vc = a.getValueCache() == a.getKeyCache() ? kc->clone()
                                                    : take(env, a.getValueCache(), &op);
        }
        auto r = ref::attention(q, in(a.getKey()), in(a.getValue()), a.getCausal(), scale,
                                std::move(kc), std::move(vc), ptr(pos));
        results.push_back(r.output);
        if (r.keyCache) {
          results.push_back(*r.keyCache);
          results.push_back(*r.valueCache);
        }
      })
      .Case([&](LightningAttentionOp la) {
        Tensor q = in(la.getQuery());
        std::vector<double> slopes =
            lightningDecaySlopes(q.dim(2), static_cast<int64_t>(la.getLayerIndex()),
                                 static_cast<int64_t>(la.getNumLayers()));
        std::optional<Tensor> state, lengths = opt(la.getLengths());
        if (la.getInitialState())
          state = take(env, la.getInitialState(), &op).to(options.precision);
        auto r = ref::lightningAttention(
            q, in(la.getKey()), in(la.getValue()), ptr(state), ptr(lengths), slopes,
            static_cast<int64_t>(la.getBlockSize()), options.lightning);
        results.push_back(r.output);
        results.push_back(r.finalState);
      })
      .Case([&](MoeRouterOp r) {
        auto out = ref::moeRouter(in(r.getLogits()), static_cast<int64_t>(r.getTopK()),
                                  r.getRenormalize());
        results.push_back(out.weights);
        results.push_back(out.indices);
      })
      .Case([&](MoeDispatchOp d) {
        auto out = ref::moeDispatch(in(d.getInput()), in(d.getExpertIndices()),
                                    static_cast<int64_t>(d.getNumExperts()));
        results.append({out.dispatched, out.groupOffsets, out.tokenOrder});
      })
      .Case([&](GroupedMatmulOp g) {
        results.push_back(
            ref::groupedMatmul(in(g.getInput()), in(g.getWeight()), in(g.getGroupOffsets())));
      })
      .Case([&](MoeCombineOp c) {
        results.push_back(
            ref::moeCombine(in(c.getExpertOutput()), in(c.getTokenOrder()), in(c.getWeights())));
      })
      .Case([&](SoftmaxOp s) {
        results.push_back(ref::softmax(in(s.getInput()), static_cast<int64_t>(s.getDim()), false));
      })
      .Case([&](LogSoftmaxOp s) {
        results.push_back(ref::softmax(in(s.getInput()), static_cast<int64_t>(s.getDim()), true));
      })
      .Case([&](ReduceOp r) {
        results.push_back(
            ref::reduce(toRef(r.getKind()), in(r.getInput()), vec(r.getDims()), r.getKeepDims()));
      })
      .Case([&](TopKOp t) {
        auto [v, i] = ref::topK(in(t.getInput()), static_cast<int64_t>(t.getK()));
        results.append({v, i});
      })
      .Case([&](ArgmaxOp a) {
        results.push_back(
            ref::argmax(in(a.getInput()), static_cast<int64_t>(a.getDim()), a.getKeepDims()));
      })
      .Case([&](ReshapeOp r) {
        results.push_back(ref::reshape(in(r.getInput()), vec(r.getShape())));
      })
      .Case([&](TransposeOp t) {
        results.push_back(ref::transpose(in(t.getInput()), vec(t.getPermutation())));
      })
      .Case([&](ConcatOp c) {
        std::vector<Tensor> inputs;
        for (Value v : c.getInputs())
          inputs.push_back(in(v));
        results.push_back(ref::concat(inputs, static_cast<int64_t>(c.getDim())));
      })
      .Case([&](SliceOp s) {
        std::optional<int64_t> end;
        if (auto e = s.getEnd())
          end = static_cast<int64_t>(*e);
        results.push_back(ref::slice(in(s.getInput()), static_cast<int64_t>(s.getDim()),
                                     static_cast<int64_t>(s.getStart()), end,
                                     static_cast<int64_t>(s.getStep())));
      })
      .Case([&](GatherOp g) {
        results.push_back(ref::gather(in(g.getInput()), in(g.getIndices()),
                                      static_cast<int64_t>(g.getDim()),
                                      static_cast<int64_t>(g.getBatchDims())));
      })
      .Case([&](ScatterAddOp s) {
        results.push_back(ref::scatterAdd(in(s.getDest()), in(s.getIndices()), in(s.getUpdates()),
                                          static_cast<int64_t>(s.getDim())));
      })
      .Case([&](CrossEntropyOp c) {
        results.push_back(ref::crossEntropy(in(c.getLogits()), in(c.getLabels()),
                                            static_cast<int64_t>(c.getIgnoreIndex()),
                                            toRef(c.getReduction())));
      })
      .Case([&](PolicyLossOp p) {
        results.push_back(ref::policyLoss(
            p.getKind() == PolicyLossKind::CISPO ? ref::PolicyLossKind::CISPO
                                                 : ref::PolicyLossKind::PPOClip,
            in(p.getLogprobs()), in(p.getOldLogprobs()), in(p.getAdvantages()), in(p.getMask()),
            p.getEpsLow().convertToDouble(), p.getEpsHigh().convertToDouble(),
            p.getLogRatioClamp().convertToDouble()));
      })
      .Case([&](SigmoidBceOp s) {
        results.push_back(
            ref::sigmoidBce(in(s.getLogits()), in(s.getLabels()), toRef(s.getReduction())));
      })
      .Case([&](Conv2dOp c) {
        auto bias = opt(c.getBias());
        results.push_back(ref::conv2d(in(c.getInput()), in(c.getWeight()), ptr(bias),
                                      vec(c.getStrides()), vec(c.getPadding()),
                                      vec(c.getDilation())));
      })
      .Case([&](MergeImageFeaturesOp m) {
        results.push_back(ref::mergeImageFeatures(in(m.getEmbeddings()), in(m.getIds()),
                                                  in(m.getImageFeatures()),
                                                  static_cast<int64_t>(m.getImageTokenId())));
      })
      .Case([&](Conv1dOp c) {
        auto bias = opt(c.getBias());
        ArrayRef<int64_t> pad = c.getPadding();
        results.push_back(ref::conv1d(in(c.getInput()), in(c.getWeight()), ptr(bias),
                                      static_cast<int64_t>(c.getStride()),
                                      static_cast<int64_t>(c.getDilation()), pad[0], pad[1]));
      })
      .Case([&](GruOp g) {
        auto h0 = opt(g.getInitialState());
        auto [seq, last] = ref::gru(in(g.getInput()), in(g.getWeightIh()), in(g.getWeightHh()),
                                    in(g.getBiasIh()), in(g.getBiasHh()), ptr(h0));
        results.append({seq, last});
      })
      .Case([&](PoolOp p) {
        auto mask = opt(p.getMask());
        ref::PoolKind kind = p.getKind() == PoolKind::Sum    ? ref::PoolKind::Sum
                             : p.getKind() == PoolKind::Mean ? ref::PoolKind::Mean
                                                             : ref::PoolKind::Max;
        results.push_back(
            ref::pool(kind, in(p.getInput()), ptr(mask), static_cast<int64_t>(p.getDim())));
      })
      .Case([&](TargetAttentionOp t) {
        auto mask = opt(t.getMask());
        std::optional<double> scale;
        if (auto s = t.getScale())
          scale = s->convertToDouble();
        results.push_back(
            ref::targetAttention(in(t.getSequence()), in(t.getTarget()), ptr(mask), scale));
      })
      .Case([&](HadamardInteractionOp h) {
        std::vector<std::vector<int64_t>> groups;
        for (Attribute g : h.getGroups())
          groups.push_back(vec(llvm::cast<DenseI64ArrayAttr>(g).asArrayRef()));
        results.push_back(ref::hadamardInteraction(in(h.getFields()), groups));
      })
      .Case([&](ChoiceOp c) {
        Tensor sel = in(c.getSelector());
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
      .Default(
          [&](Operation *) { throw makeError("the reference executor does not support this op"); });

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
