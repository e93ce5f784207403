//===- VisionBuilder.h - mm IR of MiniMax-VL-01's vision side ---*- C++ -*-===//
//
// Two functions over a batch of preprocessed tiles (frontends/image/AnyRes):
//
//   @vision_tower(%pixel_values: [N, 3, S, S] f32) -> [N, 1 + g*g, D]
//     CLIP's hidden_states[vision_feature_layer]: patch conv (stride = patch,
//     no bias), CLS prepended, learned positions, pre_layrnorm, then pre-norm
//     encoder layers (non-causal attention within each tile, GELU MLP).
//   @vision(%pixel_values: [N, 3, S, S] f32) -> [N, g*g, E]
//     the same, CLS dropped, through the projector linear_1 -> act -> linear_2
//     into the text model's hidden size E.
//
// Weights are mm.param ops named as the released checkpoint names them
// (frontends/VisionWeights.h). Packing the tile features into the prompt's
// token layout is a gather over a pure function of the image size, done by
// the runtime (frontends/image/AnyRes.h: packImageFeatures).
//
//===----------------------------------------------------------------------===//
#ifndef MM_MODELS_VISIONBUILDER_H
#define MM_MODELS_VISIONBUILDER_H

#include "frontends/VisionLanguageConfig.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace mm {

constexpr const char *kVisionFunction = "vision";
constexpr const char *kVisionTowerFunction = "vision_tower";

/// Builds and verifies both functions; throws mm::Error on a builder bug.
mlir::OwningOpRef<mlir::ModuleOp> buildVisionModule(mlir::MLIRContext &context,
                                                    const VisionLanguageConfig &config);

} // namespace mm

#endif // MM_MODELS_VISIONBUILDER_H
