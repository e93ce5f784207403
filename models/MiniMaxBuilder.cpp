//===- MiniMaxBuilder.cpp -------------------------------------------------===//
#include "models/MiniMaxBuilder.h"
#include "frontends/MiniMaxWeights.h"
#include "ir/MMOps.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include <map>
#include <optional>

using namespace mlir;

namespace mm {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

class Builder {
public:
  Builder(MLIRContext &ctx, const MiniMaxConfig &config, const MiniMaxGraphOptions &options)
      : b(&ctx), c(config), opts(options) {
    elt = options.elementType == MiniMaxGraphOptions::ElementType::BF16 ? Type(b.getBF16Type())
                                                                        : Type(b.getF32Type());
    for (const auto &spec : minimax::parameterSpecs(config))
      paramShapes[spec.name] = spec.shape;
  }

  OwningOpRef<ModuleOp> build();
  OwningOpRef<ModuleOp> buildTraining();
  /// The RL objective of sampled tokens and their log-probs (see the header).
  std::pair<Value, Value> policyObjective(Value logits, Value labels, ArrayRef<BlockArgument> args);

private:
  void declareGenerationStep(func::FuncOp fn);
  RankedTensorType tensor(ArrayRef<int64_t> shape, Type t = {}) {
    return RankedTensorType::get(shape, t ? t : elt);
  }
  Location at(const std::string &what) { return NameLoc::get(b.getStringAttr(what)); }

  /// `tpDim`: the dim tensor parallelism splits (Megatron's column-parallel
  /// 0, row-parallel 1), read by -mm-model-parallel.
  Value param(const std::string &name, std::optional<int64_t> tpDim = std::nullopt) {
    auto it = paramShapes.find(name);
    if (it == paramShapes.end())
      throw makeError("MiniMax builder: no weight spec for '", name, "'");
    auto op = ParamOp::create(b, at(name), tensor(it->second), b.getStringAttr(name));
    if (tpDim)
      op->setAttr("mm.tp_dim", b.getI64IntegerAttr(*tpDim));
    return op;
  }
  /// A scalar constant of the activation type, for the residual scaling.
  Value scalar(double v, Location loc) {
    auto type = tensor({});
    return arith::ConstantOp::create(b, loc, type,
                                     DenseElementsAttr::get(type, b.getFloatAttr(elt, v)));
  }
  Value rmsNorm(Value x, const std::string &weight, double eps, Location loc) {
    return RmsNormOp::create(b, loc, x, param(weight), b.getF64FloatAttr(eps));
  }
  Value linear(Value x, const std::string &weight, Location loc,
               std::optional<int64_t> tpDim = std::nullopt) {
    return LinearOp::create(b, loc, x, param(weight, tpDim), Value());
  }
  // Megatron's attention split: the projections into heads are column
  // parallel (each rank computes its heads), the projection out of them row
  // parallel (a partial sum, reduced once).
  Value columnParallel(Value x, const std::string &weight, Location loc) {
    return linear(x, weight, loc, 0);
  }
  Value rowParallel(Value x, const std::string &weight, Location loc) {
    return linear(x, weight, loc, 1);
  }
  /// [vocab, hidden] (the embedding, the LM head): tensor parallelism splits
  /// the vocabulary where it divides (Megatron's vocab-parallel layers).
  Value vocabParallel(Value table) {
    table.getDefiningOp()->setAttr("mm.vocab_dim", b.getI64IntegerAttr(0));
    return table;
  }
  /// [experts, out, in]: expert parallelism splits the experts, expert
  /// tensor parallelism each expert's FFN width (`widthDim`: out of w1 / w3,
  /// in of w2, as Megatron's column- / row-parallel expert linears).
  Value experts(const std::string &name, int64_t widthDim) {
    Value w = param(name);
    w.getDefiningOp()->setAttr("mm.ep_dim", b.getI64IntegerAttr(0));
    w.getDefiningOp()->setAttr("mm.etp_dim", b.getI64IntegerAttr(widthDim));
    return w;
  }
  /// [B, T, KV, D] -> [B, T, KV * r, D], head j a copy of head j / r.
  Value repeatKvHeads(Value x, Location loc) {
    int64_t r = opts.kvHeadReplicas, KV = c.numKvHeads;
    SmallVector<int64_t> source;
    for (int64_t j = 0; j < KV * r; ++j)
      source.push_back(j / r);
    auto type = tensor({KV * r}, b.getI64Type());
    auto heads = arith::ConstantOp::create(
        b, loc, type, DenseElementsAttr::get(type, ArrayRef<int64_t>(source)));
    heads->setAttr("mm.tp_dim", b.getI64IntegerAttr(0)); // each rank gathers its copies
    return GatherOp::create(b, loc, x, heads, b.getI64IntegerAttr(2), b.getI64IntegerAttr(0));
  }
  Value reshape(Value x, ArrayRef<int64_t> spec, Location loc) {
    return ReshapeOp::create(b, loc, x, b.getDenseI64ArrayAttr(spec));
  }
  /// alpha * residual + beta * branch
  Value scaledResidual(Value residual, Value branch, double alpha, double beta, Location loc) {
    Value r = MulOp::create(b, loc, residual, scalar(alpha, loc));
    Value y = MulOp::create(b, loc, branch, scalar(beta, loc));
    return AddOp::create(b, loc, r, y);
  }

  /// One decoder layer (attention, then MoE, each with its scaled residual);
  /// the caches or the state (null in training) are replaced by their updates.
  Value decoderLayer(int64_t layer, Value h, Value &kCache, Value &vCache, Value &state);
  Value softmaxAttention(int64_t layer, Value u, Value &kCache, Value &vCache);
  Value lightningAttention(int64_t layer, Value u, Value &state);
  Value moe(int64_t layer, Value w);

  OpBuilder b;
  const MiniMaxConfig &c;
  MiniMaxGraphOptions opts;
  Type elt;
  std::map<std::string, Shape> paramShapes;
  Value positions, cachePositions, lengths;
  // Training: the load-balancing statistics summed over layers.
  Value routedSlots, routerProbabilities;
};

Value Builder::decoderLayer(int64_t l, Value h, Value &kCache, Value &vCache, Value &state) {
  Location lloc = at("layers." + std::to_string(l));
  bool softmax = c.layerKinds[l] == LayerKind::Softmax;
  Value u = rmsNorm(h, minimax::inputNorm(l), c.rmsNormEps, lloc);
  Value attn = softmax ? softmaxAttention(l, u, kCache, vCache) : lightningAttention(l, u, state);
  Value residual = c.postnorm ? u : h;
  h = softmax ? scaledResidual(residual, attn, c.fullAlpha, c.fullBeta, lloc)
              : scaledResidual(residual, attn, c.linearAlpha, c.linearBeta, lloc);
  Value w = rmsNorm(h, minimax::postAttentionNorm(l), c.rmsNormEps, lloc);
  Value m = moe(l, w);
  return scaledResidual(c.postnorm ? w : h, m, c.mlpAlpha, c.mlpBeta, lloc);
}

Value Builder::softmaxAttention(int64_t l, Value u, Value &kCache, Value &vCache) {
  Location loc = at("layers." + std::to_string(l) + ".self_attn");
  int64_t H = c.numHeads, KV = c.numKvHeads, D = c.headDim;
  Value q = reshape(columnParallel(u, minimax::qProj(l), loc), {0, 0, H, D}, loc);
  // Replicated KV heads: every rank projects all of them (too few to split)
  // and keeps its copy, a split gather of the repeated heads.
  bool replicated = opts.kvHeadReplicas > 1;
  auto kvProjection = [&](const std::string &weight) {
    return replicated ? linear(u, weight, loc) : columnParallel(u, weight, loc);
  };
  Value k = reshape(kvProjection(minimax::kProj(l)), {0, 0, KV, D}, loc);
  Value v = reshape(kvProjection(minimax::vProj(l)), {0, 0, KV, D}, loc);
  if (replicated) { // before RoPE, which acts on each head alike, so that it fuses into attention
    k = repeatKvHeads(k, loc);
    v = repeatKvHeads(v, loc);
  }
  auto ropeAttrs = [&](Value x) {
    return RopeOp::create(b, loc, x, positions, b.getI64IntegerAttr(c.rotaryDim),
                          b.getF64FloatAttr(c.ropeTheta));
  };
  q = ropeAttrs(q);
  k = ropeAttrs(k);
  auto attn = AttentionOp::create(b, loc, q, k, v, kCache, vCache, cachePositions,
                                  /*queryStart=*/Value(), /*keyMask=*/Value(),
                                  /*causal=*/b.getUnitAttr(), /*scale=*/FloatAttr());
  if (kCache) {
    kCache = attn.getUpdatedCache()[0];
    vCache = attn.getUpdatedCache()[1];
  }
  Value o = reshape(attn.getOutput(), {0, 0, c.attentionWidth()}, loc);
  return rowParallel(o, minimax::oProj(l), loc);
}

Value Builder::lightningAttention(int64_t l, Value u, Value &state) {
  Location loc = at("layers." + std::to_string(l) + ".self_attn");
  int64_t H = c.numHeads, D = c.headDim;
  // qkv_proj rows are per-head interleaved [q | k | v], and SiLU applies to all three.
  Value qkv = SiluOp::create(b, loc, columnParallel(u, minimax::qkvProj(l), loc));
  qkv = reshape(qkv, {0, 0, H, 3 * D}, loc);
  auto part = [&](int64_t i) -> Value {
    return SliceOp::create(b, loc, qkv, b.getI64IntegerAttr(3), b.getI64IntegerAttr(i * D),
                           b.getI64IntegerAttr((i + 1) * D), b.getI64IntegerAttr(1));
  };
  auto la = LightningAttentionOp::create(b, loc, part(0), part(1), part(2), state, lengths,
                                         /*head_index=*/Value(), b.getI64IntegerAttr(l),
                                         b.getI64IntegerAttr(c.numLayers),
                                         b.getI64IntegerAttr(c.blockSize), IntegerAttr());
  state = la.getFinalState();
  Value o = reshape(la.getOutput(), {0, 0, c.attentionWidth()}, loc);
  o = rmsNorm(o, minimax::lightningNorm(l), c.lightningNormEps, loc);
  Value gate = SigmoidOp::create(b, loc, columnParallel(u, minimax::outputGate(l), loc));
  return rowParallel(MulOp::create(b, loc, gate, o), minimax::outProj(l), loc);
}

Value Builder::moe(int64_t l, Value w) {
  Location loc = at("layers." + std::to_string(l) + ".block_sparse_moe");
  Value logits = linear(w, minimax::router(l), loc);
  auto route =
      MoeRouterOp::create(b, loc, logits, b.getI64IntegerAttr(c.topK), b.getBoolAttr(true));
  auto dispatch =
      MoeDispatchOp::create(b, loc, w, route.getIndices(), b.getI64IntegerAttr(c.numExperts));
  Value rows = dispatch.getDispatched(), offsets = dispatch.getGroupOffsets();
  Value gate = GroupedMatmulOp::create(b, loc, rows, experts(minimax::expertsW1(l), 1), offsets);
  Value up = GroupedMatmulOp::create(b, loc, rows, experts(minimax::expertsW3(l), 1), offsets);
  Value act = SwigluOp::create(b, loc, gate, up);
  Value down = GroupedMatmulOp::create(b, loc, act, experts(minimax::expertsW2(l), 2), offsets);
  if (opts.training) {
    // Load-balancing statistics: routed slots per expert and summed router
    // probabilities (the gradient reaches the router through the latter).
    Value probs = SoftmaxOp::create(b, loc, logits, b.getI64IntegerAttr(-1));
    Value probSum = ReduceOp::create(b, loc, ReduceKindAttr::get(b.getContext(), ReduceKind::Sum),
                                     probs, b.getDenseI64ArrayAttr({0, 1}), UnitAttr());
    Value slots = reshape(route.getIndices(), {-1}, loc);
    Value ones = CastOp::create(b, loc, tensor({kDyn}), slots);
    ones = AddOp::create(b, loc, ZerosLikeOp::create(b, loc, ones), scalar(1.0, loc));
    Value counts = ScatterAddOp::create(b, loc, ZerosLikeOp::create(b, loc, probSum), slots, ones,
                                        b.getI64IntegerAttr(0), b.getI64IntegerAttr(0));
    routedSlots = routedSlots ? AddOp::create(b, loc, routedSlots, counts).getResult() : counts;
    routerProbabilities =
        routerProbabilities ? AddOp::create(b, loc, routerProbabilities, probSum).getResult()
                            : probSum;
  }
  Value weights = route.getWeights();
  if (weights.getType() != tensor({kDyn, kDyn, c.topK}))
    weights = CastOp::create(b, loc, tensor({kDyn, kDyn, c.topK}), weights);
  return MoeCombineOp::create(b, loc, down, dispatch.getTokenOrder(), weights);
}

/// What an inference engine needs to drive @forward, declared here and not
/// assumed by the compiler or the runtime: the role of each step input (the
/// other arguments are the caches and lightning states, updated in place),
/// which shape symbols are the batch, the step's tokens and the cache
/// capacity, and which result holds the logits.
void Builder::declareGenerationStep(func::FuncOp fn) {
  SmallVector<StringRef> roles{"token_ids", "positions", "cache_positions", "lengths"};
  for (auto [i, role] : llvm::enumerate(roles))
    fn.setArgAttr(i, "mm.step_input", b.getStringAttr(role));
  SmallVector<NamedAttribute> step{b.getNamedAttr("batch", b.getStringAttr("B")),
                                   b.getNamedAttr("tokens", b.getStringAttr("T")),
                                   b.getNamedAttr("capacity", b.getStringAttr("S")),
                                   b.getNamedAttr("logits", b.getI64IntegerAttr(0)),
                                   b.getNamedAttr("all_logits", b.getBoolAttr(opts.allLogits))};
  if (opts.imageTokenId) {
    fn.setArgAttr(fn.getNumArguments() - 1, "mm.step_input", b.getStringAttr("image_features"));
    step.push_back(b.getNamedAttr("image_tokens", b.getStringAttr("I")));
  }
  fn->setAttr("mm.generation_step", b.getDictionaryAttr(step));
}

OwningOpRef<ModuleOp> Builder::build() {
  Location loc = at(c.source.empty() ? "minimax" : c.source);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());

  auto i64 = b.getI64Type();
  int64_t KV = c.numKvHeads, D = c.headDim, H = c.numHeads;
  SmallVector<Type> inputs{tensor({kDyn, kDyn}, i64), tensor({kDyn, kDyn}, i64),
                           tensor({kDyn}, i64), tensor({kDyn}, i64)};
  SmallVector<std::string> names{"ids", "positions", "cache_positions", "lengths"};
  // The run-time sizes behind each dynamic dim: batch B, tokens per step T,
  // cache capacity S (SymbolicShapes and memory planning read these).
  SmallVector<SmallVector<StringRef>> dims{{"B", "T"}, {"B", "T"}, {"B"}, {"B"}};
  SmallVector<int64_t> softmaxLayers, lightningLayers;
  for (int64_t l = 0; l < c.numLayers; ++l)
    (c.layerKinds[l] == LayerKind::Softmax ? softmaxLayers : lightningLayers).push_back(l);
  for (int64_t l : softmaxLayers) {
    inputs.push_back(tensor({kDyn, kDyn, KV * opts.kvHeadReplicas, D}));
    inputs.push_back(tensor({kDyn, kDyn, KV * opts.kvHeadReplicas, D}));
    names.push_back("k_cache." + std::to_string(l));
    names.push_back("v_cache." + std::to_string(l));
    dims.push_back({"B", "S", "", ""});
    dims.push_back({"B", "S", "", ""});
  }
  for (int64_t l : lightningLayers) {
    inputs.push_back(tensor({kDyn, H, D, D}, b.getF32Type()));
    names.push_back("state." + std::to_string(l));
    dims.push_back({"B", "", "", ""});
  }
  auto logitsType =
      opts.allLogits ? tensor({kDyn, kDyn, c.vocabSize}) : tensor({kDyn, c.vocabSize});
  SmallVector<Type> results{logitsType};
  results.append(inputs.begin() + 4, inputs.end());
  if (opts.imageTokenId) { // after the state, so the state keeps its place
    inputs.push_back(tensor({kDyn, c.hiddenSize}));
    names.push_back("image_features");
    dims.push_back({"I", ""});
  }
  auto fn = func::FuncOp::create(b, loc, kForwardFunction, b.getFunctionType(inputs, results));
  for (auto [i, name] : llvm::enumerate(names)) {
    fn.setArgAttr(i, "mm.name", b.getStringAttr(name));
    fn.setArgAttr(i, "mm.dims", b.getStrArrayAttr(dims[i]));
  }
  declareGenerationStep(fn);
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  Value ids = entry->getArgument(0);
  positions = entry->getArgument(1);
  cachePositions = entry->getArgument(2);
  lengths = entry->getArgument(3);
  std::map<int64_t, std::pair<Value, Value>> caches;
  std::map<int64_t, Value> states;
  unsigned arg = 4;
  for (int64_t l : softmaxLayers) {
    caches[l].first = entry->getArgument(arg++);
    caches[l].second = entry->getArgument(arg++);
  }
  for (int64_t l : lightningLayers)
    states[l] = entry->getArgument(arg++);

  Value table = vocabParallel(param(minimax::embedTokens()));
  Value h = EmbeddingOp::create(b, at("embed_tokens"), table, ids);
  if (opts.imageTokenId)
    h = MergeImageFeaturesOp::create(b, at("merge_image_features"), h, ids, entry->getArgument(arg),
                                     b.getI64IntegerAttr(*opts.imageTokenId));
  for (int64_t l = 0; l < c.numLayers; ++l)
    h = decoderLayer(l, h, caches[l].first, caches[l].second, states[l]);
  Location head = at("lm_head");
  if (!opts.allLogits) {
    // The last real token of each right-padded sequence: h[b, lengths[b] - 1].
    auto idxType = tensor({}, i64);
    Value one = arith::ConstantOp::create(b, head, idxType,
                                          DenseElementsAttr::get(idxType, b.getI64IntegerAttr(1)));
    Value last = SubOp::create(b, head, lengths, one);
    h = GatherOp::create(b, head, h, last, b.getI64IntegerAttr(1), b.getI64IntegerAttr(1));
  }
  h = rmsNorm(h, minimax::finalNorm(), c.rmsNormEps, head);
  // The LM head splits its vocabulary over the tensor-parallel ranks where it
  // divides (Megatron's vocab-parallel output layer); every rank returns the
  // whole logits.
  Value lmHead = vocabParallel(param(minimax::lmHead()));
  SmallVector<Value> outs{LinearOp::create(b, head, h, lmHead, Value())};
  fn.setResultAttr(0, "mm.replicated", b.getUnitAttr());
  for (int64_t l : softmaxLayers) {
    outs.push_back(caches[l].first);
    outs.push_back(caches[l].second);
  }
  for (int64_t l : lightningLayers)
    outs.push_back(states[l]);
  func::ReturnOp::create(b, head, outs);
  return module;
}

} // namespace

OwningOpRef<ModuleOp> Builder::buildTraining() {
  Location loc = at(c.source.empty() ? "minimax" : c.source);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto tokens = tensor({kDyn, kDyn}, b.getI64Type());
  // Arguments: name, type and shape symbols.
  struct Argument {
    const char *name;
    Type type;
    SmallVector<StringRef> dims;
  };
  SmallVector<Argument> arguments{
      {"ids", tokens, {"B", "T"}}, {"labels", tokens, {"B", "T"}}, {"positions", tokens, {"B", "T"}}};
  SmallVector<Type> resultTypes{tensor({})};
  const auto &policy = opts.policy;
  if (policy) {
    auto f32 = [&](ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, b.getF32Type()); };
    arguments.push_back({"old_logprobs", f32({kDyn, kDyn}), {"B", "T"}});
    arguments.push_back({"advantages", f32({kDyn}), {"B"}});
    arguments.push_back({"mask", f32({kDyn, kDyn}), {"B", "T"}});
    arguments.push_back({"normalizer", f32({}), {}});
    if (policy->klCoef > 0)
      arguments.push_back({"ref_logprobs", f32({kDyn, kDyn}), {"B", "T"}});
    resultTypes.push_back(f32({kDyn, kDyn}));
  }
  SmallVector<Type> argumentTypes;
  for (const Argument &a : arguments)
    argumentTypes.push_back(a.type);
  auto fn = func::FuncOp::create(b, loc, kLossFunction,
                                 b.getFunctionType(argumentTypes, resultTypes));
  for (auto [i, a] : llvm::enumerate(arguments)) {
    fn.setArgAttr(i, "mm.name", b.getStringAttr(a.name));
    fn.setArgAttr(i, "mm.dims", b.getStrArrayAttr(a.dims));
    // The tokens' dim: context parallelism splits it (-mm-model-parallel cp=N).
    if (a.dims.size() > 1 && a.dims[1] == "T")
      fn.setArgAttr(i, "mm.cp_dim", b.getI64IntegerAttr(1));
  }
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToEnd(entry);
  Value ids = entry->getArgument(0), labels = entry->getArgument(1);
  positions = entry->getArgument(2);
  Value table = vocabParallel(param(minimax::embedTokens()));
  Value h = EmbeddingOp::create(b, at("embed_tokens"), table, ids);
  for (int64_t l = 0; l < c.numLayers; ++l) {
    Value noKeyCache, noValueCache, noState; // training attends without caches or states
    h = decoderLayer(l, h, noKeyCache, noValueCache, noState);
  }
  Location head = at("lm_head");
  h = rmsNorm(h, minimax::finalNorm(), c.rmsNormEps, head);
  // Vocab-parallel under tp: the cross-entropy and its gradient partition
  // over the split vocabulary (ir/LossShardingModels.cpp), no logits gathered.
  Value lmHead = vocabParallel(param(minimax::lmHead()));
  Value logits = LinearOp::create(b, head, h, lmHead, Value());
  SmallVector<Value> results;
  Value loss;
  if (policy) {
    results.push_back(Value()); // the loss, below
    auto [policyLoss, logprobs] = policyObjective(logits, labels, entry->getArguments());
    loss = policyLoss;
    results.push_back(logprobs);
  } else {
    loss = CrossEntropyOp::create(b, head, LossReductionAttr::get(b.getContext(),
                                                                  LossReduction::Mean),
                                  logits, labels, b.getI64IntegerAttr(-100));
    results.push_back(Value());
  }
  if (c.outputRouterLogits && c.routerAuxLossCoef > 0) {
    // aux = E sum_e (slots_e / (L N)) (probs_e / (L N)), N the tokens per layer.
    Location aux = at("router_aux_loss");
    Value product = MulOp::create(b, aux, routedSlots, routerProbabilities);
    Value total = ReduceOp::create(b, aux, ReduceKindAttr::get(b.getContext(), ReduceKind::Sum),
                                   product, b.getDenseI64ArrayAttr({0}), UnitAttr());
    Value idsAsFloat = CastOp::create(b, aux, tensor({kDyn, kDyn}), ids);
    Value ones = AddOp::create(b, aux, ZerosLikeOp::create(b, aux, idsAsFloat), scalar(1.0, aux));
    Value tokensN = ReduceOp::create(b, aux, ReduceKindAttr::get(b.getContext(), ReduceKind::Sum),
                                     ones, b.getDenseI64ArrayAttr({0, 1}), UnitAttr());
    Value layerTokens = MulOp::create(b, aux, tokensN, scalar(double(c.numLayers), aux));
    Value normalised = DivOp::create(b, aux, DivOp::create(b, aux, total, layerTokens),
                                     layerTokens);
    Value weighted =
        MulOp::create(b, aux, normalised, scalar(c.routerAuxLossCoef * c.numExperts, aux));
    loss = AddOp::create(b, aux, loss, weighted);
  }
  results.front() = loss;
  func::ReturnOp::create(b, head, results);
  return module;
}

std::pair<Value, Value> Builder::policyObjective(Value logits, Value labels,
                                                 ArrayRef<BlockArgument> args) {
  const auto &p = *opts.policy;
  Location loc = at("policy_loss");
  MLIRContext *ctx = b.getContext();
  if (p.temperature != 1)
    logits = MulOp::create(b, loc, logits, scalar(1.0 / p.temperature, loc));
  // log pi(label) = -cross_entropy; ignored positions give 0.
  Value nll = CrossEntropyOp::create(b, loc, LossReductionAttr::get(ctx, LossReduction::None),
                                     logits, labels, b.getI64IntegerAttr(-100));
  Value logprobs = NegOp::create(b, loc, nll);
  Value old = args[3], advantages = args[4], mask = args[5], normalizer = args[6];
  auto policyLoss = PolicyLossOp::create(
      b, loc, PolicyLossKindAttr::get(ctx, p.cispo ? PolicyLossKind::CISPO : PolicyLossKind::PPOClip),
      logprobs, old, advantages, mask, normalizer, b.getF64FloatAttr(p.epsLow),
      b.getF64FloatAttr(p.epsHigh), b.getF64FloatAttr(p.logRatioClamp),
      p.ratioCap ? b.getF64FloatAttr(*p.ratioCap) : FloatAttr(),
      p.dualClip ? b.getF64FloatAttr(*p.dualClip) : FloatAttr(),
      PolicyLossNormalizationAttr::get(ctx, p.perSequence ? PolicyLossNormalization::Sequence
                                                          : PolicyLossNormalization::Token));
  Value loss = policyLoss;
  if (p.klCoef > 0) {
    // k3 = exp(ref - lp) - (ref - lp) - 1 >= 0, the low-variance KL estimate.
    Location kl = at("kl_penalty");
    auto sum = [&](Value v, ArrayRef<int64_t> dims, bool keep) -> Value {
      return ReduceOp::create(b, kl, ReduceKindAttr::get(ctx, ReduceKind::Sum), v,
                              b.getDenseI64ArrayAttr(dims), keep ? b.getUnitAttr() : UnitAttr());
    };
    Value diff = SubOp::create(b, kl, args[7], logprobs);
    Value k3 = SubOp::create(b, kl, SubOp::create(b, kl, ExpOp::create(b, kl, diff), diff),
                             scalar(1.0, kl));
    Value masked = MulOp::create(b, kl, k3, mask);
    Value total;
    if (p.perSequence) {
      Value rowTokens = MaxOp::create(b, kl, sum(mask, {1}, true), scalar(1.0, kl));
      total = sum(DivOp::create(b, kl, masked, rowTokens), {0, 1}, false);
    } else {
      total = sum(masked, {0, 1}, false);
    }
    Value mean = DivOp::create(b, kl, total, MaxOp::create(b, kl, normalizer, scalar(1.0, kl)));
    loss = AddOp::create(b, kl, loss, MulOp::create(b, kl, mean, scalar(p.klCoef, kl)));
  }
  return {loss, logprobs};
}

int64_t minimaxKvHeadReplicas(const MiniMaxConfig &c, int64_t tp) {
  if (tp <= c.numKvHeads || c.numKvHeads < 1)
    return 1;
  if (tp % c.numKvHeads != 0)
    throw makeError(c.source, ": field 'num_key_value_heads' = ", c.numKvHeads, ": tp = ", tp,
                    " exceeds it and is not a multiple of it, so the KV heads cannot be "
                    "replicated evenly");
  return tp / c.numKvHeads;
}

OwningOpRef<ModuleOp> buildMiniMaxModule(MLIRContext &context, const MiniMaxConfig &config,
                                         const MiniMaxGraphOptions &options) {
  context.getOrLoadDialect<MMDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  context.getOrLoadDialect<arith::ArithDialect>();
  if (options.kvHeadReplicas < 1)
    throw makeError("MiniMax builder: kvHeadReplicas must be positive, got ",
                    options.kvHeadReplicas);
  Builder builder(context, config, options);
  OwningOpRef<ModuleOp> module = options.training ? builder.buildTraining() : builder.build();
  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      diagnostics += d.str() + "\n";
      return success();
    });
    if (failed(verify(*module)))
      throw makeError("MiniMax builder produced invalid IR for ", config.source, ":\n",
                      diagnostics);
  }
  return module;
}

} // namespace mm
