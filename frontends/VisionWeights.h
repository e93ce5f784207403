//===- VisionWeights.h - MiniMax-VL-01's vision weights ---------*- C++ -*-===//
//
// The builder (models/VisionBuilder) names the vision tower, projector and
// image_newline weights with the released checkpoint's names; the loader binds
// those names in either layout that exists:
//   * released:      vision_tower.vision_model.*, multi_modal_projector.*,
//                    image_newline, language_model.{model.*, lm_head.weight}
//   * transformers:  model.vision_tower.*, model.multi_modal_projector.*,
//                    model.image_newline, model.language_model.*, lm_head.weight
// `textView` gives the text loader (MiniMaxWeights) its own names in either.
//
//===----------------------------------------------------------------------===//
#ifndef MM_FRONTENDS_VISIONWEIGHTS_H
#define MM_FRONTENDS_VISIONWEIGHTS_H

#include "frontends/Checkpoint.h"
#include "frontends/MiniMaxWeights.h"
#include "frontends/VisionLanguageConfig.h"

namespace mm::vision {

std::string tower(const std::string &suffix); // vision_tower.vision_model.<suffix>
std::string layer(int64_t i, const std::string &suffix);
std::string projector(int which, const std::string &suffix); // linear_<which>.<suffix>
std::string imageNewline();

/// Every vision weight with its shape, in a stable order (only the encoder
/// layers up to the feature layer: the rest never run).
std::vector<minimax::ParamSpec> parameterSpecs(const VisionLanguageConfig &config);

enum class Layout { Released, Transformers };
/// Which layout `files` holds; throws naming the folder when neither.
Layout detectLayout(const Checkpoint &files);
/// The text model's tensors under MiniMaxWeights' names.
Checkpoint textView(const Checkpoint &files, Layout layout);

class WeightLoader {
public:
  WeightLoader(const VisionLanguageConfig &config, const Checkpoint &files);
  /// The weight as F32 / F64; errors name the tensor, the folder and the shape.
  Tensor load(const std::string &name, DType dtype) const;
  WeightBinder binder() const {
    return [this](const std::string &name, const Shape &, DType dtype) { return load(name, dtype); };
  }
  void validate() const;

private:
  const StTensor &tensor(const std::string &name) const;
  Checkpoint files_;
  std::map<std::string, Shape> shapes_;
};

} // namespace mm::vision

#endif // MM_FRONTENDS_VISIONWEIGHTS_H
