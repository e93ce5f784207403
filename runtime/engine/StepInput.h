//===- StepInput.h - the roles of a generation step's inputs ----*- C++ -*-===//
//
// Shared by the IR's declaration (ir/GenerationStep.h) and the runtime
// (StepInputs.h); no dependencies, so the IR library pulls in no runtime code.
//
//===----------------------------------------------------------------------===//
#ifndef MM_RUNTIME_ENGINE_STEPINPUT_H
#define MM_RUNTIME_ENGINE_STEPINPUT_H

namespace mm {

/// The roles, in the order of exe::GenerationStep::Input (which starts at 1):
/// token ids [B, T], their positions [B, T], the tokens already cached per
/// sequence [B], the real tokens of this step per sequence [B], and
/// (MiniMax-VL-01) the image-feature rows [I, hidden].
enum class StepInput { TokenIds, Positions, CachePositions, Lengths, ImageFeatures };

} // namespace mm

#endif // MM_RUNTIME_ENGINE_STEPINPUT_H
