//===- OpEvaluation.cpp - the reference executor's op families -------------===//
#include "reference/OpEvaluation.h"
#include "ir/MMOps.h"
#include "runtime/LightningDecay.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <cstring>

using namespace mlir;

namespace mm {

namespace {
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

Tensor *ptr(std::optional<Tensor> &t) { return t ? &*t : nullptr; }

/// The decay slopes of a lightning op's `heads` local heads: all of them, or
/// (with a head_index) those of the rank's heads among the op's slope heads.
template <typename LightningOp>
std::vector<double> lightningSlopes(OpEvaluation &e, LightningOp op, int64_t heads) {
  auto layer = static_cast<int64_t>(op.getLayerIndex());
  auto layers = static_cast<int64_t>(op.getNumLayers());
  if (!op.getHeadIndex())
    return lightningDecaySlopes(heads, layer, layers);
  Tensor index = e.in(op.getHeadIndex());
  int64_t bad = 0;
  std::vector<double> slopes = lightningDecaySlopesOfHeads(
      op.getSlopeHeads(), layer, layers, index.template data<int64_t>(), heads, &bad);
  if (slopes.empty() && heads > 0)
    throw makeError(op->getName().getStringRef().str(), ": head_index ", bad, " is outside [0, ",
                    op.getSlopeHeads(), ")");
  return slopes;
}
} // namespace

bool evaluateElementwise(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](SiluOp) { e.unary(ref::UnaryKind::Silu); })
      .Case([&](SigmoidOp) { e.unary(ref::UnaryKind::Sigmoid); })
      .Case([&](ReluOp) { e.unary(ref::UnaryKind::Relu); })
      .Case([&](TanhOp) { e.unary(ref::UnaryKind::Tanh); })
      .Case([&](ExpOp) { e.unary(ref::UnaryKind::Exp); })
      .Case([&](LogOp) { e.unary(ref::UnaryKind::Log); })
      .Case([&](SqrtOp) { e.unary(ref::UnaryKind::Sqrt); })
      .Case([&](RsqrtOp) { e.unary(ref::UnaryKind::Rsqrt); })
      .Case([&](NegOp) { e.unary(ref::UnaryKind::Neg); })
      .Case([&](GeluOp g) {
        e.unary(g.getTanhApproximation() ? ref::UnaryKind::GeluTanh : ref::UnaryKind::Gelu);
      })
      .Case([&](AddOp) { e.binary(ref::BinaryKind::Add); })
      .Case([&](SubOp) { e.binary(ref::BinaryKind::Sub); })
      .Case([&](MulOp) { e.binary(ref::BinaryKind::Mul); })
      .Case([&](DivOp) { e.binary(ref::BinaryKind::Div); })
      .Case([&](MaxOp) { e.binary(ref::BinaryKind::Max); })
      .Case([&](MinOp) { e.binary(ref::BinaryKind::Min); })
      .Case(
          [&](SwigluOp s) { e.results.push_back(ref::swiglu(e.in(s.getGate()), e.in(s.getUp()))); })
      .Case([&](CastOp c) {
        bool toFloat = llvm::isa<FloatType>(c.getType().getElementType());
        Tensor converted = e.in(c.getInput()).to(toFloat ? e.precision : DType::I64);
        Type to = c.getType().getElementType();
        if (to.isBF16() || to.isF16()) // stored wide, rounded to the format's values
          converted = ref::roundToFormat(converted, to.isBF16() ? ref::NarrowFloat::BF16
                                                                : ref::NarrowFloat::F16);
        e.results.push_back(converted);
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

bool evaluateLinearAndNorm(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](RmsNormOp n) {
        e.results.push_back(ref::rmsNorm(e.in(n.getInput()), e.in(n.getWeight()),
                                         n.getEpsilon().convertToDouble()));
      })
      .Case([&](LayerNormOp n) {
        e.results.push_back(ref::layerNorm(e.in(n.getInput()), e.in(n.getWeight()),
                                           e.in(n.getBias()), n.getEpsilon().convertToDouble()));
      })
      .Case([&](LinearOp l) {
        auto bias = e.opt(l.getBias());
        e.results.push_back(ref::linear(e.in(l.getInput()), e.in(l.getWeight()), ptr(bias)));
      })
      .Case([&](MatmulOp m) {
        e.results.push_back(ref::matmul(e.in(m.getLhs()), e.in(m.getRhs()), m.getTransposeLhs(),
                                        m.getTransposeRhs()));
      })
      .Case([&](EmbeddingOp emb) {
        std::optional<std::pair<int64_t, int64_t>> part;
        if (emb.getRowsFrom())
          part = {e.in(emb.getRowsFrom()).data<int64_t>()[0],
                  static_cast<int64_t>(*emb.getVocabSize())};
        e.results.push_back(ref::embedding(e.in(emb.getTable()), e.in(emb.getIds()), part));
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

bool evaluateAttention(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](RopeOp r) {
        e.results.push_back(ref::rope(e.in(r.getInput()), e.in(r.getPositions()),
                                      static_cast<int64_t>(r.getRotaryDim()),
                                      r.getTheta().convertToDouble()));
      })
      .Case([&](AttentionOp a) {
        Tensor q = e.in(a.getQuery());
        double scale =
            a.getScale() ? a.getScale()->convertToDouble() : 1.0 / std::sqrt(double(q.dim(3)));
        std::optional<Tensor> kc, vc, pos = e.opt(a.getCachePositions()),
                                      start = e.opt(a.getQueryStart()),
                                      keyMask = e.opt(a.getKeyMask());
        if (a.hasCache()) {
          kc = e.take(a.getKeyCache());
          // One tensor as both caches: each result is that tensor updated
          // with its own rows (value semantics), so they cannot share storage.
          vc = a.getValueCache() == a.getKeyCache() ? kc->clone() : e.take(a.getValueCache());
        }
        auto r = ref::attention(q, e.in(a.getKey()), e.in(a.getValue()), a.getCausal(), scale,
                                std::move(kc), std::move(vc), ptr(pos), ptr(start), ptr(keyMask));
        e.results.push_back(r.output);
        if (r.keyCache) {
          e.results.push_back(*r.keyCache);
          e.results.push_back(*r.valueCache);
        }
      })
      .Case([&](LightningAttentionOp la) {
        Tensor q = e.in(la.getQuery());
        std::vector<double> slopes = lightningSlopes(e, la, q.dim(2));
        std::optional<Tensor> state, lengths = e.opt(la.getLengths());
        if (la.getInitialState())
          state = e.take(la.getInitialState()).to(e.precision);
        auto r = ref::lightningAttention(q, e.in(la.getKey()), e.in(la.getValue()), ptr(state),
                                         ptr(lengths), slopes,
                                         static_cast<int64_t>(la.getBlockSize()), e.lightning);
        e.results.push_back(r.output);
        e.results.push_back(r.finalState);
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

bool evaluateMoE(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](MoeRouterOp r) {
        auto out = ref::moeRouter(e.in(r.getLogits()), static_cast<int64_t>(r.getTopK()),
                                  r.getRenormalize());
        e.results.push_back(out.weights);
        e.results.push_back(out.indices);
      })
      .Case([&](MoeDispatchOp d) {
        auto out = ref::moeDispatch(e.in(d.getInput()), e.in(d.getExpertIndices()),
                                    static_cast<int64_t>(d.getNumExperts()));
        e.results.append({out.dispatched, out.groupOffsets, out.tokenOrder});
      })
      .Case([&](GroupedMatmulOp g) {
        e.results.push_back(
            ref::groupedMatmul(e.in(g.getInput()), e.in(g.getWeight()), e.in(g.getGroupOffsets())));
      })
      .Case([&](MoeCombineOp c) {
        e.results.push_back(ref::moeCombine(e.in(c.getExpertOutput()), e.in(c.getTokenOrder()),
                                            e.in(c.getWeights())));
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

bool evaluateReduction(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](SoftmaxOp s) {
        e.results.push_back(
            ref::softmax(e.in(s.getInput()), static_cast<int64_t>(s.getDim()), false));
      })
      .Case([&](LogSoftmaxOp s) {
        e.results.push_back(
            ref::softmax(e.in(s.getInput()), static_cast<int64_t>(s.getDim()), true));
      })
      .Case([&](ReduceOp r) {
        e.results.push_back(
            ref::reduce(toRef(r.getKind()), e.in(r.getInput()), vec(r.getDims()), r.getKeepDims()));
      })
      .Case([&](TopKOp t) {
        auto [v, i] = ref::topK(e.in(t.getInput()), static_cast<int64_t>(t.getK()));
        e.results.append({v, i});
      })
      .Case([&](ArgmaxOp a) {
        e.results.push_back(
            ref::argmax(e.in(a.getInput()), static_cast<int64_t>(a.getDim()), a.getKeepDims()));
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

bool evaluateShape(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](ReshapeOp r) {
        e.results.push_back(ref::reshape(e.in(r.getInput()), vec(r.getShape())));
      })
      .Case([&](TransposeOp t) {
        e.results.push_back(ref::transpose(e.in(t.getInput()), vec(t.getPermutation())));
      })
      .Case([&](ConcatOp c) {
        std::vector<Tensor> inputs;
        for (Value v : c.getInputs())
          inputs.push_back(e.in(v));
        e.results.push_back(ref::concat(inputs, static_cast<int64_t>(c.getDim())));
      })
      .Case([&](SliceOp s) {
        std::optional<int64_t> end;
        if (auto e = s.getEnd())
          end = static_cast<int64_t>(*e);
        e.results.push_back(ref::slice(e.in(s.getInput()), static_cast<int64_t>(s.getDim()),
                                       static_cast<int64_t>(s.getStart()), end,
                                       static_cast<int64_t>(s.getStep())));
      })
      .Case([&](GatherOp g) {
        e.results.push_back(ref::gather(e.in(g.getInput()), e.in(g.getIndices()),
                                        static_cast<int64_t>(g.getDim()),
                                        static_cast<int64_t>(g.getBatchDims())));
      })
      .Case([&](ScatterAddOp s) {
        e.results.push_back(ref::scatterAdd(e.in(s.getDest()), e.in(s.getIndices()),
                                            e.in(s.getUpdates()), static_cast<int64_t>(s.getDim()),
                                            static_cast<int64_t>(s.getBatchDims())));
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

bool evaluateLoss(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](CrossEntropyOp c) {
        e.results.push_back(ref::crossEntropy(e.in(c.getLogits()), e.in(c.getLabels()),
                                              static_cast<int64_t>(c.getIgnoreIndex()),
                                              toRef(c.getReduction())));
      })
      .Case([&](PolicyLossOp p) {
        ref::PolicyLossParams params;
        params.kind = p.getKind() == PolicyLossKind::CISPO ? ref::PolicyLossKind::CISPO
                                                          : ref::PolicyLossKind::PPOClip;
        params.epsLow = p.getEpsLow().convertToDouble();
        params.epsHigh = p.getEpsHigh().convertToDouble();
        params.logRatioClamp = p.getLogRatioClamp().convertToDouble();
        if (p.getRatioCapAttr())
          params.ratioCap = p.getRatioCapAttr().getValueAsDouble();
        if (p.getDualClipAttr())
          params.dualClip = p.getDualClipAttr().getValueAsDouble();
        params.perSequence = p.getNormalization() == PolicyLossNormalization::Sequence;
        Tensor normalizer;
        if (p.getNormalizer())
          normalizer = e.in(p.getNormalizer());
        e.results.push_back(ref::policyLoss(params, e.in(p.getLogprobs()),
                                            e.in(p.getOldLogprobs()), e.in(p.getAdvantages()),
                                            e.in(p.getMask()),
                                            p.getNormalizer() ? &normalizer : nullptr));
      })
      .Case([&](SigmoidBceOp s) {
        e.results.push_back(
            ref::sigmoidBce(e.in(s.getLogits()), e.in(s.getLabels()), toRef(s.getReduction())));
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

bool evaluateVisionAndRecsys(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](Conv2dOp c) {
        auto bias = e.opt(c.getBias());
        e.results.push_back(ref::conv2d(e.in(c.getInput()), e.in(c.getWeight()), ptr(bias),
                                        vec(c.getStrides()), vec(c.getPadding()),
                                        vec(c.getDilation())));
      })
      .Case([&](MergeImageFeaturesOp m) {
        e.results.push_back(ref::mergeImageFeatures(e.in(m.getEmbeddings()), e.in(m.getIds()),
                                                    e.in(m.getImageFeatures()),
                                                    static_cast<int64_t>(m.getImageTokenId())));
      })
      .Case([&](MergeImageFeaturesGradOp m) {
        e.results.push_back(ref::mergeImageFeaturesGrad(
            e.in(m.getGradOutput()), e.in(m.getIds()), e.in(m.getImageFeatures()),
            static_cast<int64_t>(m.getImageTokenId())));
      })
      .Case([&](Conv1dOp c) {
        auto bias = e.opt(c.getBias());
        ArrayRef<int64_t> pad = c.getPadding();
        e.results.push_back(ref::conv1d(e.in(c.getInput()), e.in(c.getWeight()), ptr(bias),
                                        static_cast<int64_t>(c.getStride()),
                                        static_cast<int64_t>(c.getDilation()), pad[0], pad[1]));
      })
      .Case([&](GruOp g) {
        auto h0 = e.opt(g.getInitialState());
        auto [seq, last] =
            ref::gru(e.in(g.getInput()), e.in(g.getWeightIh()), e.in(g.getWeightHh()),
                     e.in(g.getBiasIh()), e.in(g.getBiasHh()), ptr(h0));
        e.results.append({seq, last});
      })
      .Case([&](PoolOp p) {
        auto mask = e.opt(p.getMask());
        ref::PoolKind kind = p.getKind() == PoolKind::Sum    ? ref::PoolKind::Sum
                             : p.getKind() == PoolKind::Mean ? ref::PoolKind::Mean
                                                             : ref::PoolKind::Max;
        e.results.push_back(
            ref::pool(kind, e.in(p.getInput()), ptr(mask), static_cast<int64_t>(p.getDim())));
      })
      .Case([&](TargetAttentionOp t) {
        auto mask = e.opt(t.getMask());
        std::optional<double> scale;
        if (auto s = t.getScale())
          scale = s->convertToDouble();
        e.results.push_back(
            ref::targetAttention(e.in(t.getSequence()), e.in(t.getTarget()), ptr(mask), scale));
      })
      .Case([&](HadamardInteractionOp h) {
        std::vector<std::vector<int64_t>> groups;
        for (Attribute g : h.getGroups())
          groups.push_back(vec(llvm::cast<DenseI64ArrayAttr>(g).asArrayRef()));
        e.results.push_back(ref::hadamardInteraction(e.in(h.getFields()), groups));
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

namespace {
bool compare(arith::CmpFPredicate p, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (p) {
  case arith::CmpFPredicate::AlwaysFalse:
    return false;
  case arith::CmpFPredicate::OEQ:
    return !unordered && a == b;
  case arith::CmpFPredicate::OGT:
    return !unordered && a > b;
  case arith::CmpFPredicate::OGE:
    return !unordered && a >= b;
  case arith::CmpFPredicate::OLT:
    return !unordered && a < b;
  case arith::CmpFPredicate::OLE:
    return !unordered && a <= b;
  case arith::CmpFPredicate::ONE:
    return !unordered && a != b;
  case arith::CmpFPredicate::ORD:
    return !unordered;
  case arith::CmpFPredicate::UEQ:
    return unordered || a == b;
  case arith::CmpFPredicate::UGT:
    return unordered || a > b;
  case arith::CmpFPredicate::UGE:
    return unordered || a >= b;
  case arith::CmpFPredicate::ULT:
    return unordered || a < b;
  case arith::CmpFPredicate::ULE:
    return unordered || a <= b;
  case arith::CmpFPredicate::UNE:
    return unordered || a != b;
  case arith::CmpFPredicate::UNO:
    return unordered;
  case arith::CmpFPredicate::AlwaysTrue:
    return true;
  }
  return false;
}

/// arith.cmpf on tensors of one shape; i1 results are stored as 0 / 1 in I64.
Tensor compareTensors(arith::CmpFPredicate p, const Tensor &a, const Tensor &b) {
  if (a.shape() != b.shape())
    throw makeError("arith.cmpf: operands ", formatShape(a.shape()), " and ",
                    formatShape(b.shape()), " differ");
  Tensor x = a.to(DType::F64), y = b.to(DType::F64);
  Tensor out = Tensor::empty(DType::I64, a.shape());
  const double *xs = x.data<double>(), *ys = y.data<double>();
  int64_t *o = out.data<int64_t>();
  for (int64_t i = 0; i < out.numel(); ++i)
    o[i] = compare(p, xs[i], ys[i]);
  return out;
}

Tensor selectTensors(const Tensor &cond, const Tensor &a, const Tensor &b) {
  if (cond.shape() != a.shape() || a.shape() != b.shape() || a.dtype() != b.dtype())
    throw makeError("arith.select: condition ", formatShape(cond.shape()), " and values ",
                    formatShape(a.shape()), ", ", formatShape(b.shape()), " must agree");
  Tensor out = Tensor::empty(a.dtype(), a.shape());
  const int64_t *c = cond.data<int64_t>();
  size_t width = dtypeSize(a.dtype());
  const char *x = static_cast<const char *>(a.raw()), *y = static_cast<const char *>(b.raw());
  char *o = static_cast<char *>(out.raw());
  for (int64_t i = 0; i < out.numel(); ++i)
    std::memcpy(o + i * width, (c[i] ? x : y) + i * width, width);
  return out;
}

ref::LossReduction lossReductionOf(LossReduction r) { return toRef(r); }
} // namespace

bool evaluateGradient(OpEvaluation &e) {
  bool handled = true;
  llvm::TypeSwitch<Operation *>(&e.op)
      .Case([&](ZerosLikeOp z) {
        Tensor x = e.in(z.getInput());
        e.results.push_back(Tensor::zeros(x.dtype(), x.shape()));
      })
      .Case([&](arith::CmpFOp c) {
        e.results.push_back(compareTensors(c.getPredicate(), e.in(c.getLhs()), e.in(c.getRhs())));
      })
      .Case([&](arith::SelectOp s) {
        e.results.push_back(selectTensors(e.in(s.getCondition()), e.in(s.getTrueValue()),
                                          e.in(s.getFalseValue())));
      })
      .Case([&](AttentionGradOp a) {
        Tensor q = e.in(a.getQuery());
        double scale =
            a.getScale() ? a.getScale()->convertToDouble() : 1.0 / std::sqrt(double(q.dim(3)));
        std::optional<Tensor> start = e.opt(a.getQueryStart()), keyMask = e.opt(a.getKeyMask());
        ref::AttentionGradResult r = ref::attentionBackward(
            q, e.in(a.getKey()), e.in(a.getValue()), e.in(a.getOutput()), e.in(a.getGradOutput()),
            a.getCausal(), scale, ptr(start), ptr(keyMask));
        e.results.append({r.query, r.key, r.value});
      })
      .Case([&](LightningAttentionGradOp l) {
        auto s0 = e.opt(l.getInitialState());
        auto lengths = e.opt(l.getLengths());
        Tensor q = e.in(l.getQuery());
        std::vector<double> slopes = lightningSlopes(e, l, q.dim(2));
        ref::LightningGradResult r = ref::lightningAttentionBackward(
            q, e.in(l.getKey()), e.in(l.getValue()), e.in(l.getGradOutput()),
            e.in(l.getGradFinalState()), ptr(s0), ptr(lengths), slopes, l.getBlockSize());
        e.results.append({r.query, r.key, r.value, r.initialState});
      })
      .Case([&](GroupedMatmulWeightGradOp g) {
        e.results.push_back(ref::groupedMatmulWeightGrad(
            e.in(g.getGradOutput()), e.in(g.getInput()), e.in(g.getGroupOffsets())));
      })
      .Case([&](Conv2dGradOp c) {
        auto [dx, dw] = ref::conv2dBackward(e.in(c.getInput()), e.in(c.getWeight()),
                                            e.in(c.getGradOutput()), vec(c.getStrides()),
                                            vec(c.getPadding()), vec(c.getDilation()));
        e.results.append({dx, dw});
      })
      .Case([&](Conv1dGradOp c) {
        auto [dx, dw] = ref::conv1dBackward(e.in(c.getInput()), e.in(c.getWeight()),
                                            e.in(c.getGradOutput()), c.getStride(),
                                            c.getDilation(), c.getPadding()[0]);
        e.results.append({dx, dw});
      })
      .Case([&](GruGradOp g) {
        for (Tensor &t : ref::gruBackward(
                 e.in(g.getInput()), e.in(g.getWeightIh()), e.in(g.getWeightHh()),
                 e.in(g.getBiasIh()), e.in(g.getBiasHh()), e.in(g.getInitialState()),
                 e.in(g.getSequence()), e.in(g.getGradSequence()), e.in(g.getGradLast())))
          e.results.push_back(std::move(t));
      })
      .Case([&](CrossEntropyGradOp c) {
        e.results.push_back(ref::crossEntropyBackward(
            e.in(c.getLogits()), e.in(c.getLabels()), e.in(c.getGradLoss()),
            c.getIgnoreIndex(), lossReductionOf(c.getReduction())));
      })
      .Default([&](Operation *) { handled = false; });
  return handled;
}

} // namespace mm
