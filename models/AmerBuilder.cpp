//===- AmerBuilder.cpp ----------------------------------------------------===//
#include "models/AmerBuilder.h"
#include "ir/MMOps.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <functional>
#include <set>

using namespace mlir;

namespace mm::amer {

int64_t DataShape::fieldTableRows() const {
  int64_t rows = 0;
  for (int64_t s : fieldSizes)
    rows += s;
  return rows;
}

static const char *const kSeqOpNames[] = {"conv1",       "conv3",       "conv5",
                                          "dilated_conv3", "attention1", "attention2",
                                          "attention4",  "gru",         "zero"};
static const char *const kActNames[] = {"relu", "gelu", "swish", "identity"};

const char *name(SeqOp op) { return kSeqOpNames[int(op)]; }
const char *name(Act act) { return kActNames[int(act)]; }

SeqOp parseSeqOp(const std::string &s, const std::string &where) {
  for (int i = 0; i < kNumSeqOps; ++i)
    if (s == kSeqOpNames[i])
      return SeqOp(i);
  throw makeError(where, ": unknown operation '", s,
                  "' (conv1, conv3, conv5, dilated_conv3, attention1, attention2, attention4, "
                  "gru, zero)");
}

Act parseAct(const std::string &s, const std::string &where) {
  for (int i = 0; i < kNumActs; ++i)
    if (s == kActNames[i])
      return Act(i);
  throw makeError(where, ": unknown activation '", s, "' (relu, gelu, swish, identity)");
}

bool isOrderAware(SeqOp op) {
  return op == SeqOp::Conv3 || op == SeqOp::Conv5 || op == SeqOp::DilatedConv3 ||
         op == SeqOp::Gru;
}

std::string groupName(const DataShape &shape, const FieldGroup &group) {
  std::string s = "inter.";
  for (size_t i = 0; i < group.size(); ++i)
    s += (i ? "*" : "") + shape.fieldNames.at(group[i]);
  return s;
}

namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;
constexpr int64_t kSeWidth = 16; // the squeeze-and-excitation bottleneck

std::string blockName(size_t i) { return "block" + std::to_string(i); }

/// Checks `a` fits the data and the search space.
void validate(const DataShape &s, const SearchSpace &space, const Architecture &a) {
  if (s.fieldNames.empty() || s.fieldNames.size() != s.fieldSizes.size() || s.items < 2 ||
      s.sequence < 1 || s.embed < 4)
    throw makeError("AMER builder: the data shape is incomplete (fields, items, sequence, embed)");
  if (space.ops.empty() || space.minBlocks < 1 || space.maxBlocks < space.minBlocks)
    throw makeError("AMER search space: no stage-1 operations, or blocks ", space.minBlocks, "..",
                    space.maxBlocks);
  if (int64_t(a.blocks.size()) < space.minBlocks || int64_t(a.blocks.size()) > space.maxBlocks)
    throw makeError("AMER architecture: ", a.blocks.size(), " blocks, outside ", space.minBlocks,
                    "..", space.maxBlocks);
  for (const Block &blk : a.blocks)
    if ((blk.op == SeqOp::Attention2 && s.embed % 2) || (blk.op == SeqOp::Attention4 && s.embed % 4))
      throw makeError("AMER architecture: ", name(blk.op), " needs the embedding width ", s.embed,
                      " divisible by its heads");
  if (int64_t(a.widths.size()) != space.mlpLayers)
    throw makeError("AMER architecture: ", a.widths.size(), " MLP widths, the space has ",
                    space.mlpLayers, " layers");
  for (int64_t w : a.widths)
    if (w < 1)
      throw makeError("AMER architecture: MLP width ", w, " is not positive");
  for (const FieldGroup &g : a.interactions) {
    if (g.size() < 2 || int64_t(g.size()) > space.maxOrder)
      throw makeError("AMER architecture: an interaction of ", g.size(), " fields (orders 2..",
                      space.maxOrder, ")");
    for (size_t i = 0; i < g.size(); ++i)
      if (g[i] < 0 || g[i] >= int64_t(s.fieldNames.size()) || (i && g[i] <= g[i - 1]))
        throw makeError("AMER architecture: interaction fields must be distinct field indices "
                        "in ascending order");
  }
}

/// Builds one function of the supernet or child.
class Graph {
public:
  Graph(MLIRContext &ctx, const DataShape &shape, const SearchSpace &space,
        const SupernetSpec &spec, Program program)
      : b(&ctx), s(shape), space(space), spec(spec), program(program) {}

  OwningOpRef<ModuleOp> build(const std::function<Value(Graph &)> &body);

  // ---- helpers shared with the baselines ----
  Location at(const std::string &what) { return NameLoc::get(b.getStringAttr(what)); }
  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }
  Value param(const std::string &name, ArrayRef<int64_t> shape) {
    return ParamOp::create(b, at(name), f32(shape), b.getStringAttr(name));
  }
  Value reshape(Value x, ArrayRef<int64_t> spec, Location loc) {
    return ReshapeOp::create(b, loc, x, b.getDenseI64ArrayAttr(spec));
  }
  Value slice(Value x, int64_t dim, int64_t end, Location loc) {
    if (llvm::cast<RankedTensorType>(x.getType()).getDimSize(dim) == end)
      return x;
    return SliceOp::create(b, loc, x, b.getI64IntegerAttr(dim), b.getI64IntegerAttr(0),
                           b.getI64IntegerAttr(end), b.getI64IntegerAttr(1));
  }
  /// x W^T + bias with W [outRows, in] sliced to `out` rows when larger.
  Value dense(Value x, const std::string &prefix, int64_t out, int64_t outRows, bool bias = true) {
    Location loc = at(prefix);
    int64_t in = llvm::cast<RankedTensorType>(x.getType()).getShape().back();
    return dense(x, prefix, out, outRows, in, bias, loc);
  }
  Value dense(Value x, const std::string &prefix, int64_t out, int64_t outRows, int64_t inCols,
              bool bias, Location loc) {
    int64_t in = llvm::cast<RankedTensorType>(x.getType()).getShape().back();
    Value w = slice(slice(param(prefix + ".weight", {outRows, inCols}), 0, out, loc), 1, in, loc);
    Value bv = bias ? slice(param(prefix + ".bias", {outRows}), 0, out, loc) : Value();
    return LinearOp::create(b, loc, x, w, bv);
  }
  Value activation(Act a, Value x, Location loc) {
    switch (a) {
    case Act::Relu:
      return ReluOp::create(b, loc, x);
    case Act::Gelu:
      return GeluOp::create(b, loc, x, UnitAttr());
    case Act::Swish:
      return SiluOp::create(b, loc, x);
    case Act::Identity:
      return x;
    }
    return x;
  }
  Value concat(ValueRange parts, int64_t dim, Location loc) {
    return parts.size() == 1 ? parts[0] : ConcatOp::create(b, loc, parts, b.getI64IntegerAttr(dim));
  }
  /// A supernet choice point: candidate i is `candidate(i)`.
  Value choose(const std::string &name, int64_t count, const std::function<Value(int64_t)> &candidate);

  /// The embedded history [B, L, D] (padding zeroed), the target [B, D] and
  /// the field embeddings [B, F, D].
  Value history, target, fields, mask, mask3;
  Value fieldIds; // the fields argument [B, F]

  // ---- the AMER network ----
  Value behaviour();
  Value head(Value pooled);

  OpBuilder b;
  const DataShape &s;
  const SearchSpace &space;
  const SupernetSpec &spec;
  Program program;
  std::map<std::string, Value> selectors;
  std::vector<std::string> choiceNames;

private:
  Value seqBlock(size_t i, Value x, bool searched, const Block &fixed);
  Value seqOp(size_t i, SeqOp op, Value x);
  Value firstLayer(int64_t width, int64_t rows, Value base,
                   const std::vector<std::pair<FieldGroup, Value>> &products);
  Value mlpFrom(size_t layer, Value h, int64_t prevWidth);
  Value mlpAct(Value x, Location loc);
  Value seShortcut(Value in);
};

Value Graph::choose(const std::string &name, int64_t count,
                    const std::function<Value(int64_t)> &candidate) {
  Location loc = at(name);
  std::vector<std::unique_ptr<mlir::Block>> bodies;
  Type type;
  {
    OpBuilder::InsertionGuard guard(b);
    for (int64_t i = 0; i < count; ++i) {
      bodies.push_back(std::make_unique<mlir::Block>());
      b.setInsertionPointToStart(bodies.back().get());
      Value v = candidate(i);
      if (!type)
        type = v.getType();
      else if (type != v.getType()) // dynamic dims may differ in static knowledge only
        v = reshape(v, llvm::SmallVector<int64_t>(llvm::cast<RankedTensorType>(type).getRank(), 0), loc);
      YieldOp::create(b, loc, ValueRange{v});
    }
  }
  auto op = ChoiceOp::create(b, loc, TypeRange{type}, name, selectors.at(name), unsigned(count));
  for (int64_t i = 0; i < count; ++i)
    op.getCandidates()[i].push_back(bodies[i].release());
  return op.getResult(0);
}

OwningOpRef<ModuleOp> Graph::build(const std::function<Value(Graph &)> &body) {
  Location loc = at("amer");
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  int64_t L = s.sequence, F = int64_t(s.fieldNames.size());
  auto i64 = [&](ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, b.getI64Type()); };
  SmallVector<Type> args = {i64({kDyn, L}), f32({kDyn, L}), i64({kDyn}), i64({kDyn, F})};
  SmallVector<std::string> names = {"history", "mask", "target", "fields"};
  if (program == Program::Loss) {
    args.push_back(f32({kDyn}));
    names.push_back("labels");
  }
  size_t dataArgs = args.size();
  for (const std::string &c : choiceNames) {
    args.push_back(i64({}));
    names.push_back(c);
  }
  Type result = program == Program::Loss ? Type(f32({})) : Type(f32({kDyn}));
  auto fn = func::FuncOp::create(b, loc, program == Program::Loss ? kLossFunction : kScoreFunction,
                                 b.getFunctionType(args, {result}));
  mlir::Block *entry = fn.addEntryBlock();
  for (size_t i = 0; i < args.size(); ++i) {
    fn.setArgAttr(i, "mm.name", b.getStringAttr(names[i]));
    if (i < dataArgs) {
      SmallVector<Attribute> dims = {b.getStringAttr("B")};
      for (int64_t d = 1; d < llvm::cast<RankedTensorType>(args[i]).getRank(); ++d)
        dims.push_back(b.getStringAttr(""));
      fn.setArgAttr(i, "mm.dims", b.getArrayAttr(dims));
    } else {
      fn.setArgAttr(i, "mm.selector", b.getUnitAttr());
      selectors[names[i]] = entry->getArgument(i);
    }
  }
  b.setInsertionPointToStart(entry);
  Location eloc = at("embedding");
  mask = entry->getArgument(1);
  fieldIds = entry->getArgument(3);
  mask3 = reshape(mask, {0, 0, 1}, eloc);
  history = MulOp::create(
      b, eloc, EmbeddingOp::create(b, eloc, param("item_emb", {s.items, s.embed}), entry->getArgument(0)),
      mask3);
  target = EmbeddingOp::create(b, eloc, param("item_emb", {s.items, s.embed}), entry->getArgument(2));
  fields = EmbeddingOp::create(b, eloc, param("field_emb", {s.fieldTableRows(), s.embed}),
                               entry->getArgument(3));
  Value logit = body(*this); // [B, 1]
  Location out = at("output");
  Value logits = reshape(logit, {0}, out);
  Value ret = logits;
  if (program == Program::Loss)
    ret = SigmoidBceOp::create(b, out, LossReduction::Mean, logits, entry->getArgument(4));
  func::ReturnOp::create(b, out, ValueRange{ret});
  std::string diagnostics;
  {
    ScopedDiagnosticHandler handler(module->getContext(), [&](Diagnostic &d) {
      llvm::raw_string_ostream os(diagnostics);
      os << d.getLocation() << ": " << d.str() << "\n";
      return success();
    });
    if (failed(verify(*module)))
      throw makeError("AMER builder: the generated module does not verify (a builder bug):\n",
                      diagnostics);
  }
  return module;
}

// ---- stage 1 ----

Value Graph::seqOp(size_t i, SeqOp op, Value x) {
  std::string p = blockName(i) + "." + name(op);
  Location loc = at(p);
  int64_t D = s.embed;
  auto conv = [&](int64_t k, int64_t dilation) -> Value {
    int64_t pad = dilation * (k - 1) / 2; // length-preserving
    return Conv1dOp::create(b, loc, x, param(p + ".weight", {D, D, k}), param(p + ".bias", {D}),
                            b.getI64IntegerAttr(1), b.getI64IntegerAttr(dilation),
                            b.getDenseI64ArrayAttr({pad, pad}));
  };
  auto attention = [&](int64_t heads) -> Value {
    auto proj = [&](const char *w) {
      Value y = LinearOp::create(b, loc, x, param(p + "." + w + ".weight", {D, D}), Value());
      return reshape(y, {0, 0, heads, D / heads}, loc);
    };
    // Not causal: the history is all in the past. The history mask hides the
    // padding keys, so they take no softmax weight.
    Value o = AttentionOp::create(b, loc, proj("q"), proj("k"), proj("v"), Value(), Value(),
                                  Value(), /*queryStart=*/Value(), mask, UnitAttr(), FloatAttr())
                  .getOutput();
    return LinearOp::create(b, loc, reshape(o, {0, 0, D}, loc), param(p + ".o.weight", {D, D}),
                            Value());
  };
  switch (op) {
  case SeqOp::Conv1:
    return conv(1, 1);
  case SeqOp::Conv3:
    return conv(3, 1);
  case SeqOp::Conv5:
    return conv(5, 1);
  case SeqOp::DilatedConv3:
    return conv(3, 2);
  case SeqOp::Attention1:
    return attention(1);
  case SeqOp::Attention2:
    return attention(2);
  case SeqOp::Attention4:
    return attention(4);
  case SeqOp::Gru:
    return GruOp::create(b, loc, x, param(p + ".weight_ih", {3 * D, D}),
                         param(p + ".weight_hh", {3 * D, D}), param(p + ".bias_ih", {3 * D}),
                         param(p + ".bias_hh", {3 * D}), Value())
        .getSequence();
  case SeqOp::Zero:
    return ZerosLikeOp::create(b, loc, x);
  }
  return x;
}

/// x + Act(Op(Norm(x))), padding kept at zero.
Value Graph::seqBlock(size_t i, Value x, bool searched, const Block &fixed) {
  std::string p = blockName(i);
  Location loc = at(p);
  auto norm = [&](int64_t ln) -> Value {
    if (ln != 0) // index 0 is LayerNorm, 1 none (the spec's order)
      return x;
    Value y = LayerNormOp::create(b, at(p + ".norm"), x, param(p + ".norm.gain", {s.embed}),
                                  param(p + ".norm.bias", {s.embed}), b.getF64FloatAttr(1e-5));
    return MulOp::create(b, loc, y, mask3);
  };
  Value n = searched ? choose(p + ".norm", 2, norm) : norm(fixed.layerNorm ? 0 : 1);
  Value o = searched ? choose(p + ".op", int64_t(space.ops.size()),
                              [&](int64_t k) { return seqOp(i, space.ops[k], n); })
                     : seqOp(i, fixed.op, n);
  Value a = searched ? choose(p + ".act", kNumActs,
                              [&](int64_t k) { return activation(Act(k), o, loc); })
                     : activation(fixed.act, o, loc);
  return MulOp::create(b, loc, AddOp::create(b, loc, x, a), mask3);
}

Value Graph::behaviour() {
  Value x = history;
  if (spec.stage == 1) {
    std::vector<Value> after{x};
    for (int64_t i = 0; i < space.maxBlocks; ++i)
      after.push_back(seqBlock(i, after.back(), true, Block{}));
    x = choose("blocks", space.maxBlocks - space.minBlocks + 1,
               [&](int64_t k) { return after[space.minBlocks + k]; });
  } else {
    for (size_t i = 0; i < spec.fixed.blocks.size(); ++i)
      x = seqBlock(i, x, false, spec.fixed.blocks[i]);
  }
  return TargetAttentionOp::create(b, at("pooling"), x, target, mask, FloatAttr());
}

// ---- stages 2 and 3 ----

Value Graph::mlpAct(Value x, Location loc) {
  if (spec.stage == 3)
    return choose("mlp.act", kNumActs, [&](int64_t k) { return activation(Act(k), x, loc); });
  return activation(spec.fixed.mlpAct, x, loc);
}

/// Layer 1's pre-activation as a sum of per-input linears, so each
/// interaction's weights are its own (and a stage-2 candidate simply adds
/// its term or not): W [base | products] = W_base base + sum_g W_g p_g.
Value Graph::firstLayer(int64_t width, int64_t rows, Value base,
                        const std::vector<std::pair<FieldGroup, Value>> &products) {
  Location loc = at("mlp.layer1");
  Value acc = dense(base, "mlp.layer1.base", width, rows);
  for (const auto &[group, p] : products)
    acc = AddOp::create(b, loc, acc, dense(p, "mlp.layer1." + groupName(s, group), width, rows, false));
  for (const FieldGroup &g : spec.stage == 2 ? spec.candidates : std::vector<FieldGroup>{}) {
    Value p = reshape(HadamardInteractionOp::create(
                          b, at(groupName(s, g)), fields,
                          b.getArrayAttr({b.getDenseI64ArrayAttr(g)})),
                      {0, s.embed}, loc);
    Value before = acc;
    acc = choose(groupName(s, g), 2, [&](int64_t on) -> Value {
      if (!on)
        return before;
      return AddOp::create(b, loc, before, dense(p, "mlp.layer1." + groupName(s, g), width, rows, false));
    });
  }
  return acc;
}

Value Graph::mlpFrom(size_t layer, Value h, int64_t prevWidth) {
  int64_t maxW = *std::max_element(space.widths.begin(), space.widths.end());
  bool searched = spec.stage == 3;
  std::string p = "mlp.layer" + std::to_string(layer + 1);
  if (layer == size_t(space.mlpLayers)) {
    int64_t cols = searched ? maxW : prevWidth;
    return dense(h, "mlp.output", 1, 1, cols, true, at("mlp.output"));
  }
  auto body = [&](int64_t width) {
    int64_t rows = searched ? maxW : width, cols = searched ? maxW : prevWidth;
    Value z = dense(h, p, width, rows, cols, true, at(p));
    return mlpFrom(layer + 1, mlpAct(z, at(p)), width);
  };
  if (searched)
    return choose("mlp.width" + std::to_string(layer + 1), int64_t(space.widths.size()),
                  [&](int64_t k) { return body(space.widths[k]); });
  return body(spec.fixed.widths[layer]);
}

/// The squeeze-and-excitation shortcut: the MLP input gated feature by feature
/// (x * sigmoid(W_b relu(W_a x))), then one linear to the logit.
Value Graph::seShortcut(Value in) {
  Location loc = at("se");
  int64_t n = llvm::cast<RankedTensorType>(in.getType()).getShape().back();
  Value squeeze = ReluOp::create(b, loc, dense(in, "se.squeeze", kSeWidth, kSeWidth));
  Value gate = SigmoidOp::create(b, loc, dense(squeeze, "se.excite", n, n));
  return dense(MulOp::create(b, loc, in, gate), "se.output", 1, 1, false);
}

Value Graph::head(Value pooled) {
  Location loc = at("interactions");
  int64_t F = int64_t(s.fieldNames.size()), D = s.embed;
  Value raw = reshape(fields, {0, F * D}, loc);
  Value base = concat({pooled, target, raw}, 1, loc);
  std::vector<std::pair<FieldGroup, Value>> products;
  for (const FieldGroup &g : spec.fixed.interactions)
    products.push_back({g, reshape(HadamardInteractionOp::create(
                                       b, at(groupName(s, g)), fields,
                                       b.getArrayAttr({b.getDenseI64ArrayAttr(g)})),
                                   {0, D}, loc)});
  int64_t maxW = *std::max_element(space.widths.begin(), space.widths.end());
  bool searched = spec.stage == 3;
  auto layers = [&](int64_t width) {
    Value z = firstLayer(width, searched ? maxW : width, base, products);
    return mlpFrom(1, mlpAct(z, at("mlp.layer1")), width);
  };
  Value logit = searched ? choose("mlp.width1", int64_t(space.widths.size()),
                                  [&](int64_t k) { return layers(space.widths[k]); })
                         : layers(spec.fixed.widths[0]);
  auto withShortcut = [&](int64_t on) -> Value {
    if (!on)
      return logit;
    std::vector<Value> parts{base};
    for (auto &pr : products)
      parts.push_back(pr.second);
    return AddOp::create(b, at("se"), logit, seShortcut(concat(parts, 1, loc)));
  };
  return searched ? choose("mlp.se", 2, withShortcut) : withShortcut(spec.fixed.seShortcut);
}

std::vector<std::string> choiceNamesOf(const DataShape &s, const SearchSpace &space,
                                       const SupernetSpec &spec) {
  std::vector<std::string> names;
  if (spec.stage == 1) {
    names.push_back("blocks");
    for (int64_t i = 0; i < space.maxBlocks; ++i)
      for (const char *what : {".norm", ".op", ".act"})
        names.push_back(blockName(i) + what);
  } else if (spec.stage == 2) {
    for (const FieldGroup &g : spec.candidates)
      names.push_back(groupName(s, g));
  } else if (spec.stage == 3) {
    for (int64_t l = 1; l <= space.mlpLayers; ++l)
      names.push_back("mlp.width" + std::to_string(l));
    names.push_back("mlp.act");
    names.push_back("mlp.se");
  }
  return names;
}

} // namespace

OwningOpRef<ModuleOp> buildAmer(MLIRContext &context, const DataShape &shape,
                                const SearchSpace &space, const SupernetSpec &spec,
                                Program program) {
  validate(shape, space, spec.fixed);
  if (spec.stage < 0 || spec.stage > 3)
    throw makeError("AMER builder: stage ", spec.stage, " (1, 2 or 3; 0 for a child)");
  if (spec.stage == 2 && spec.fixed.seShortcut)
    throw makeError("AMER builder: search interactions before the MLP's shortcut (stages in order)");
  if (spec.stage == 2) {
    std::set<FieldGroup> seen(spec.fixed.interactions.begin(), spec.fixed.interactions.end());
    Architecture probe = spec.fixed;
    probe.interactions = spec.candidates;
    validate(shape, space, probe);
    for (const FieldGroup &g : spec.candidates)
      if (!seen.insert(g).second)
        throw makeError("AMER builder: interaction ", groupName(shape, g), " is listed twice");
  }
  if (spec.stage == 3)
    for (int64_t w : space.widths)
      if (w < 1)
        throw makeError("AMER search space: MLP width ", w, " is not positive");
  Graph g(context, shape, space, spec, program);
  g.choiceNames = choiceNamesOf(shape, space, spec);
  return g.build([](Graph &graph) { return graph.head(graph.behaviour()); });
}

std::map<std::string, int64_t> assignment(const DataShape &shape, const SearchSpace &space,
                                          const SupernetSpec &spec, const Architecture &child) {
  std::map<std::string, int64_t> a;
  if (spec.stage == 1) {
    int64_t n = int64_t(child.blocks.size());
    if (n < space.minBlocks || n > space.maxBlocks)
      throw makeError("AMER architecture: ", n, " blocks, outside ", space.minBlocks, "..",
                      space.maxBlocks);
    a["blocks"] = n - space.minBlocks;
    for (int64_t i = 0; i < space.maxBlocks; ++i) {
      Block blk = i < n ? child.blocks[i] : Block{true, space.ops.front(), Act::Relu};
      auto op = std::find(space.ops.begin(), space.ops.end(), blk.op);
      if (op == space.ops.end())
        throw makeError("AMER architecture: operation ", name(blk.op), " is not in the search space");
      bool unused = blk.op == SeqOp::Zero || i >= n; // its norm and activation do nothing
      a[blockName(i) + ".norm"] = unused || blk.layerNorm ? 0 : 1;
      a[blockName(i) + ".op"] = i < n ? int64_t(op - space.ops.begin()) : 0;
      a[blockName(i) + ".act"] = unused ? 0 : int64_t(blk.act);
    }
  } else if (spec.stage == 2) {
    std::set<FieldGroup> chosen(child.interactions.begin(), child.interactions.end());
    for (const FieldGroup &g : spec.fixed.interactions)
      if (!chosen.erase(g))
        throw makeError("AMER architecture: the child drops the fixed interaction ",
                        groupName(shape, g));
    for (const FieldGroup &g : spec.candidates)
      a[groupName(shape, g)] = chosen.erase(g) ? 1 : 0;
    if (!chosen.empty())
      throw makeError("AMER architecture: interaction ", groupName(shape, *chosen.begin()),
                      " is not a candidate of this round");
  } else if (spec.stage == 3) {
    for (size_t l = 0; l < child.widths.size(); ++l) {
      auto it = std::find(space.widths.begin(), space.widths.end(), child.widths[l]);
      if (it == space.widths.end())
        throw makeError("AMER architecture: MLP width ", child.widths[l],
                        " is not in the search space");
      a["mlp.width" + std::to_string(l + 1)] = int64_t(it - space.widths.begin());
    }
    a["mlp.act"] = int64_t(child.mlpAct);
    a["mlp.se"] = child.seShortcut ? 1 : 0;
  }
  return a;
}

void dropUnusedSelectors(ModuleOp module) {
  for (auto fn : module.getOps<func::FuncOp>()) {
    llvm::BitVector drop(fn.getNumArguments());
    for (unsigned i = 0; i < fn.getNumArguments(); ++i)
      drop[i] = fn.getArgAttr(i, "mm.selector") && fn.getArgument(i).use_empty();
    if (failed(fn.eraseArguments(drop)))
      throw makeError("AMER: could not drop the selector arguments of @", fn.getName().str());
  }
}

// ---- baselines, from the same ops ----

namespace {

/// Mean of the embedded history over its valid positions [B, D].
Value meanHistory(Graph &g) {
  return PoolOp::create(g.b, g.at("history_mean"), PoolKind::Mean, g.history, g.mask, uint64_t(1));
}

/// ReLU MLP 256-128-64 on `x` under `prefix`.
Value deep(Graph &g, Value x, const std::string &prefix) {
  int64_t l = 0;
  for (int64_t w : {256, 128, 64}) {
    std::string p = prefix + ".layer" + std::to_string(++l);
    x = ReluOp::create(g.b, g.at(p), g.dense(x, p, w, w));
  }
  return x;
}

Value rawFields(Graph &g) {
  int64_t F = int64_t(g.s.fieldNames.size());
  return g.reshape(g.fields, {0, F * g.s.embed}, g.at("fields"));
}

/// Broadcasts the target [B, D] along the sequence: [B, L, D].
Value targetAlongSequence(Graph &g, Location loc) {
  Value t3 = g.reshape(g.target, {0, 1, g.s.embed}, loc);
  return AddOp::create(g.b, loc, ZerosLikeOp::create(g.b, loc, g.history), t3);
}

/// DIN (Zhou et al. 2018): the activation unit, an MLP over [e, t, e - t, e * t]
/// per position, weights each behaviour (no softmax), summed; then the MLP over
/// [interest, target, fields].
Value din(Graph &g) {
  Location loc = g.at("din.attention");
  Value t = targetAlongSequence(g, loc);
  Value feats = g.concat({g.history, t, SubOp::create(g.b, loc, g.history, t).getResult(),
                          MulOp::create(g.b, loc, g.history, t).getResult()},
                         2, loc);
  Value hidden = SigmoidOp::create(g.b, loc, g.dense(feats, "din.attention.layer1", 36, 36));
  Value weight = g.dense(hidden, "din.attention.layer2", 1, 1); // [B, L, 1]
  Value weighted = MulOp::create(g.b, loc, g.history, weight);
  Value interest = PoolOp::create(g.b, loc, PoolKind::Sum, weighted, g.mask, uint64_t(1));
  Value x = g.concat({interest, g.target, rawFields(g)}, 1, loc);
  return g.dense(deep(g, x, "din.mlp"), "din.output", 1, 1);
}

/// SASRec (Kang & McAuley 2018): learned positions, two causal one-head
/// self-attention blocks with a ReLU feed-forward, pre-LayerNorm as the
/// reference code; the last position's state dotted with the target item.
Value sasrec(Graph &g) {
  int64_t L = g.s.sequence, D = g.s.embed;
  Location loc = g.at("sasrec");
  Value x = MulOp::create(g.b, loc, AddOp::create(g.b, loc, g.history, g.param("sasrec.position_emb", {L, D})),
                          g.mask3);
  auto ln = [&](Value v, const std::string &p) -> Value {
    return LayerNormOp::create(g.b, g.at(p), v, g.param(p + ".gain", {D}), g.param(p + ".bias", {D}),
                               g.b.getF64FloatAttr(1e-8));
  };
  for (int blk = 0; blk < 2; ++blk) {
    std::string p = "sasrec.block" + std::to_string(blk);
    Location bl = g.at(p);
    Value q = ln(x, p + ".attention_norm");
    auto proj = [&](const char *w, Value v) {
      return g.reshape(g.dense(v, p + "." + w, D, D), {0, 0, 1, D}, bl);
    };
    Value o =
        AttentionOp::create(g.b, bl, proj("q", q), proj("k", x), proj("v", x), Value(), Value(),
                            Value(), /*queryStart=*/Value(), g.mask, g.b.getUnitAttr(), FloatAttr())
            .getOutput();
    x = AddOp::create(g.b, bl, q, g.dense(g.reshape(o, {0, 0, D}, bl), p + ".o", D, D));
    Value f = ln(x, p + ".ffn_norm");
    Value h = g.dense(ReluOp::create(g.b, bl, g.dense(f, p + ".ffn1", D, D)), p + ".ffn2", D, D);
    x = MulOp::create(g.b, bl, AddOp::create(g.b, bl, f, h), g.mask3);
  }
  x = ln(x, "sasrec.final_norm");
  Value last = g.reshape(SliceOp::create(g.b, loc, x, g.b.getI64IntegerAttr(1), g.b.getI64IntegerAttr(L - 1),
                                         g.b.getI64IntegerAttr(L), g.b.getI64IntegerAttr(1)),
                         {0, D}, loc);
  Value dot = ReduceOp::create(g.b, loc, ReduceKind::Sum, MulOp::create(g.b, loc, last, g.target),
                               ArrayRef<int64_t>{1}, true);
  return dot; // [B, 1]
}

/// All field-like embeddings as [B, F + 2, D]: the fields, the target, the
/// mean history (DeepFM and DCN see the sequence through its mean).
Value stackedFields(Graph &g, Location loc) {
  int64_t D = g.s.embed;
  return g.concat({g.fields, g.reshape(g.target, {0, 1, D}, loc),
                   g.reshape(meanHistory(g), {0, 1, D}, loc)},
                  1, loc);
}

/// DeepFM (Guo et al. 2017): first-order weights, the FM second-order term
/// 1/2 sum_d ((sum_f e)^2 - sum_f e^2), and a deep MLP over the same embeddings.
Value deepfm(Graph &g) {
  Location loc = g.at("deepfm");
  int64_t F = int64_t(g.s.fieldNames.size()), D = g.s.embed;
  Value e = stackedFields(g, loc);
  Value sum = ReduceOp::create(g.b, loc, ReduceKind::Sum, e, ArrayRef<int64_t>{1}, false);
  Value sumSq = ReduceOp::create(g.b, loc, ReduceKind::Sum, MulOp::create(g.b, loc, e, e),
                                 ArrayRef<int64_t>{1}, false);
  Value diff = SubOp::create(g.b, loc, MulOp::create(g.b, loc, sum, sum), sumSq);
  Value fm = ReduceOp::create(g.b, loc, ReduceKind::Sum, diff, ArrayRef<int64_t>{1}, true);
  Value half = arith::ConstantOp::create(g.b, loc, g.f32({}),
                                         DenseElementsAttr::get(g.f32({}), g.b.getF32FloatAttr(0.5f)));
  fm = MulOp::create(g.b, loc, fm, half);
  Value firstOrder = ReduceOp::create(
      g.b, loc, ReduceKind::Sum,
      EmbeddingOp::create(g.b, loc, g.param("deepfm.first_order_emb", {g.s.fieldTableRows(), 1}),
                          g.fieldIds),
      ArrayRef<int64_t>{1}, false); // [B, 1]
  Value dnn = g.dense(deep(g, g.reshape(e, {0, (F + 2) * D}, loc), "deepfm.mlp"), "deepfm.output", 1, 1);
  return AddOp::create(g.b, loc, AddOp::create(g.b, loc, fm, firstOrder), dnn);
}

/// DCN (Wang et al. 2017): three cross layers x_{l+1} = x0 (x_l . w_l) + b_l
/// + x_l beside a deep MLP, both over the stacked embeddings, then a linear.
Value dcn(Graph &g) {
  Location loc = g.at("dcn");
  int64_t F = int64_t(g.s.fieldNames.size()), D = g.s.embed, n = (F + 2) * D;
  Value x0 = g.reshape(stackedFields(g, loc), {0, n}, loc), x = x0;
  for (int l = 0; l < 3; ++l) {
    std::string p = "dcn.cross" + std::to_string(l);
    Value s = g.dense(x, p, 1, 1, n, false, g.at(p)); // [B, 1]
    x = AddOp::create(g.b, loc, AddOp::create(g.b, loc, MulOp::create(g.b, loc, x0, s),
                                              g.param(p + ".bias", {n})),
                      x);
  }
  Value both = g.concat({x, deep(g, x0, "dcn.mlp")}, 1, loc);
  return g.dense(both, "dcn.output", 1, 1);
}

Value mlpBaseline(Graph &g) {
  Location loc = g.at("mlp");
  Value x = g.concat({meanHistory(g), g.target, rawFields(g)}, 1, loc);
  return g.dense(deep(g, x, "mlp"), "mlp.output", 1, 1);
}

} // namespace

const std::vector<std::string> &baselineNames() {
  static const std::vector<std::string> names{"din", "sasrec", "deepfm", "dcn", "mlp"};
  return names;
}

OwningOpRef<ModuleOp> buildBaseline(MLIRContext &context, const DataShape &shape,
                                    const std::string &baseline, Program program) {
  SearchSpace space;
  SupernetSpec spec;
  validate(shape, space, spec.fixed);
  std::function<Value(Graph &)> body;
  if (baseline == "din")
    body = din;
  else if (baseline == "sasrec")
    body = sasrec;
  else if (baseline == "deepfm")
    body = deepfm;
  else if (baseline == "dcn")
    body = dcn;
  else if (baseline == "mlp")
    body = mlpBaseline;
  else
    throw makeError("unknown baseline '", baseline, "' (din, sasrec, deepfm, dcn, mlp)");
  Graph g(context, shape, space, spec, program);
  return g.build(body);
}

} // namespace mm::amer
