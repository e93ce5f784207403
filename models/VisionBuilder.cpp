//===- VisionBuilder.cpp - mm IR of the CLIP tower and projector ----------===//
#include "models/VisionBuilder.h"

#include "frontends/VisionWeights.h"
#include "ir/MMOps.h"
#include "runtime/Error.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"

#include <map>

using namespace mlir;

namespace mm {
namespace {

constexpr int64_t kDyn = ShapedType::kDynamic;

class VisionGraph {
public:
  VisionGraph(MLIRContext &ctx, const VisionLanguageConfig &config) : b(&ctx), c(config) {
    for (const auto &spec : vision::parameterSpecs(config))
      shapes[spec.name] = spec.shape;
  }

  /// Emits `name`: the tower alone, or the tower, CLS dropped, and projector.
  void function(ModuleOp module, const char *name, bool projected);

private:
  Location at(const std::string &what) { return NameLoc::get(b.getStringAttr(what)); }
  RankedTensorType f32(ArrayRef<int64_t> shape) { return RankedTensorType::get(shape, b.getF32Type()); }
  Value param(const std::string &name) {
    return ParamOp::create(b, at(name), f32(shapes.at(name)), b.getStringAttr(name));
  }
  Value reshape(Value x, ArrayRef<int64_t> spec, Location loc) {
    return ReshapeOp::create(b, loc, x, b.getDenseI64ArrayAttr(spec));
  }
  Value linear(Value x, const std::string &prefix, Location loc) {
    return LinearOp::create(b, loc, x, param(prefix + ".weight"), param(prefix + ".bias"));
  }
  Value layerNorm(Value x, const std::string &prefix, Location loc) {
    return LayerNormOp::create(b, loc, x, param(prefix + ".weight"), param(prefix + ".bias"),
                               b.getF64FloatAttr(c.vision.layerNormEps));
  }
  Value activation(Value x, VisionActivation act, Location loc);
  Value embeddings(Value pixels);
  Value encoderLayer(int64_t i, Value x);

  OpBuilder b;
  const VisionLanguageConfig &c;
  std::map<std::string, Shape> shapes;
};

Value VisionGraph::activation(Value x, VisionActivation act, Location loc) {
  if (act == VisionActivation::QuickGelu) { // x * sigmoid(1.702 x), CLIP's original
    auto type = f32({});
    Value k = arith::ConstantOp::create(b, loc, type,
                                        DenseElementsAttr::get(type, b.getF32FloatAttr(1.702f)));
    return MulOp::create(b, loc, x, SigmoidOp::create(b, loc, MulOp::create(b, loc, x, k)));
  }
  return GeluOp::create(b, loc, x,
                        act == VisionActivation::GeluTanh ? b.getUnitAttr() : UnitAttr());
}

Value VisionGraph::embeddings(Value pixels) {
  Location loc = at("vision_tower.embeddings");
  const VisionTowerConfig &v = c.vision;
  int64_t D = v.hiddenSize, g = v.patchesPerSide();
  Value patches = Conv2dOp::create(b, loc, pixels, param(vision::tower("embeddings.patch_embedding.weight")),
                                   Value(), b.getDenseI64ArrayAttr({v.patchSize, v.patchSize}),
                                   b.getDenseI64ArrayAttr({0, 0}), b.getDenseI64ArrayAttr({1, 1}));
  // [N, D, g, g] -> [N, g*g, D]: row-major patches, as CLIP's flatten(2).transpose(1, 2).
  patches = TransposeOp::create(b, loc, reshape(patches, {0, D, g * g}, loc),
                                b.getDenseI64ArrayAttr({0, 2, 1}));
  // CLS for every tile: a zero row of the batch's shape plus the embedding.
  Value zeroRow = ZerosLikeOp::create(
      b, loc,
      SliceOp::create(b, loc, patches, b.getI64IntegerAttr(1), b.getI64IntegerAttr(0),
                      b.getI64IntegerAttr(1), b.getI64IntegerAttr(1)));
  Value cls = AddOp::create(b, loc, zeroRow,
                            reshape(param(vision::tower("embeddings.class_embedding")), {1, 1, D}, loc));
  Value x = ConcatOp::create(b, loc, ValueRange{cls, patches}, b.getI64IntegerAttr(1));
  x = AddOp::create(b, loc, x, param(vision::tower("embeddings.position_embedding.weight")));
  return layerNorm(x, vision::tower("pre_layrnorm"), at("vision_tower.pre_layrnorm"));
}

Value VisionGraph::encoderLayer(int64_t i, Value x) {
  Location loc = at("vision_tower.layers." + std::to_string(i));
  int64_t H = c.vision.numHeads, Dh = c.vision.headDim(), D = c.vision.hiddenSize;
  auto name = [&](const std::string &suffix) { return vision::layer(i, suffix); };
  Value h = layerNorm(x, name("layer_norm1"), loc);
  Value q = reshape(linear(h, name("self_attn.q_proj"), loc), {0, 0, H, Dh}, loc);
  Value k = reshape(linear(h, name("self_attn.k_proj"), loc), {0, 0, H, Dh}, loc);
  Value v = reshape(linear(h, name("self_attn.v_proj"), loc), {0, 0, H, Dh}, loc);
  // Not causal, and each tile is its own batch row: attention stays in its tile.
  auto attention =
      AttentionOp::create(b, loc, q, k, v, Value(), Value(), Value(),
                          /*queryStart=*/Value(), /*keyMask=*/Value(), UnitAttr(), FloatAttr());
  Value o = linear(reshape(attention.getOutput(), {0, 0, D}, loc), name("self_attn.out_proj"), loc);
  x = AddOp::create(b, loc, x, o);
  h = layerNorm(x, name("layer_norm2"), loc);
  h = linear(activation(linear(h, name("mlp.fc1"), loc), c.vision.act, loc), name("mlp.fc2"), loc);
  return AddOp::create(b, loc, x, h);
}

void VisionGraph::function(ModuleOp module, const char *name, bool projected) {
  const VisionTowerConfig &v = c.vision;
  int64_t S = v.imageSize, g = v.patchesPerSide();
  b.setInsertionPointToEnd(module.getBody());
  Type result = projected ? f32({kDyn, g * g, c.text.hiddenSize}) : f32({kDyn, g * g + 1, v.hiddenSize});
  auto fn = func::FuncOp::create(b, at(name), name,
                                 b.getFunctionType({f32({kDyn, 3, S, S})}, {result}));
  fn.setArgAttr(0, "mm.name", b.getStringAttr("pixel_values"));
  fn.setArgAttr(0, "mm.dims", b.getArrayAttr({b.getStringAttr("N"), b.getStringAttr(""),
                                              b.getStringAttr(""), b.getStringAttr("")}));
  Block *entry = fn.addEntryBlock();
  b.setInsertionPointToStart(entry);
  Value x = embeddings(entry->getArgument(0));
  for (int64_t i = 0; i < c.featureLayers; ++i)
    x = encoderLayer(i, x);
  if (projected) {
    Location loc = at("multi_modal_projector");
    x = SliceOp::create(b, loc, x, b.getI64IntegerAttr(1), b.getI64IntegerAttr(1), IntegerAttr(),
                        b.getI64IntegerAttr(1)); // drop CLS
    x = linear(activation(linear(x, "multi_modal_projector.linear_1", loc), c.projectorAct, loc),
               "multi_modal_projector.linear_2", loc);
  }
  func::ReturnOp::create(b, at(name), x);
}

} // namespace

OwningOpRef<ModuleOp> buildVisionModule(MLIRContext &context, const VisionLanguageConfig &config) {
  context.getOrLoadDialect<MMDialect>();
  context.getOrLoadDialect<func::FuncDialect>();
  context.getOrLoadDialect<arith::ArithDialect>();
  OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&context));
  VisionGraph graph(context, config);
  graph.function(*module, kVisionTowerFunction, /*projected=*/false);
  graph.function(*module, kVisionFunction, /*projected=*/true);
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    diagnostics += d.str() + "\n";
    return success();
  });
  if (failed(verify(*module)))
    throw makeError("vision builder produced invalid IR for ", config.source, ":\n", diagnostics);
  return module;
}

} // namespace mm
