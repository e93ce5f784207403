//===- AmerBuilder.h - AMER recommender supernets and baselines as mm IR -*- C++ -*-===//
//
// The AMER search space (../shared/spec/amer.md) as one graph with an
// `mm.choice` at every choice point of the stage being searched, the other
// stages fixed at their chosen (or default) values:
//   stage 1, behaviour: N residual blocks x + Act(Op(Norm(x))) over the
//     embedded sequence, then target-attention pooling against the target;
//   stage 2, interactions: Hadamard products of groups of field embeddings,
//     each candidate group a choice point (in or out);
//   stage 3, MLP: widths, activation, and the squeeze-and-excitation shortcut.
// A child architecture is the supernet specialised by -mm-specialize-choices
// with `assignment()`; `buildAmer` with no searched stage builds the same
// child directly. The baselines (DIN, SASRec, DeepFM, DCN, MLP) are built
// from the same ops.
//
// Every program has the same arguments, batch dim "B":
//   history [B, L] i64 (item ids, 0 padding, most recent last),
//   mask [B, L] f32 (1 where history holds an item), target [B] i64,
//   fields [B, F] i64 (ids into the one field table: field f's id plus the
//   sizes of the fields before it), then labels [B] f32 for @loss;
// then one `tensor<i64>` selector per choice name (mm.selector) in supernets.
// @loss returns the mean sigmoid BCE; @score returns the logits [B].
//
//===----------------------------------------------------------------------===//
#ifndef MM_MODELS_AMERBUILDER_H
#define MM_MODELS_AMERBUILDER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mm::amer {

/// The data's dimensions.
struct DataShape {
  int64_t items = 0;                   // item vocabulary, padding (id 0) included
  std::vector<std::string> fieldNames; // the non-sequential fields
  std::vector<int64_t> fieldSizes;     // their vocabularies, padding included
  int64_t sequence = 50;               // L
  int64_t embed = 16;                  // D
  int64_t fieldTableRows() const;
};

/// Stage-1 operations, in choice-index order.
enum class SeqOp { Conv1, Conv3, Conv5, DilatedConv3, Attention1, Attention2, Attention4, Gru, Zero };
inline constexpr int kNumSeqOps = 9;
/// Activations, in choice-index order.
enum class Act { Relu, Gelu, Swish, Identity };
inline constexpr int kNumActs = 4;

const char *name(SeqOp op);
const char *name(Act act);
/// Parses what name() prints; throws mm::Error naming `where`.
SeqOp parseSeqOp(const std::string &s, const std::string &where);
Act parseAct(const std::string &s, const std::string &where);
/// True for the operations that see the order of the sequence (convolutions
/// of width > 1 and the GRU); self-attention and zero do not.
bool isOrderAware(SeqOp op);

struct Block {
  bool layerNorm = true;
  SeqOp op = SeqOp::Zero;
  Act act = Act::Relu;
  bool operator==(const Block &o) const {
    return layerNorm == o.layerNorm && op == o.op && act == o.act;
  }
};

using FieldGroup = std::vector<int64_t>; // field indices, ascending

/// One child architecture. The default is stage 1 at two zero blocks (DIN:
/// target attention over the embeddings), no interactions, MLP 256-128-64
/// ReLU without the shortcut.
struct Architecture {
  std::vector<Block> blocks{2};
  std::vector<FieldGroup> interactions;
  std::vector<int64_t> widths{256, 128, 64};
  Act mlpAct = Act::Relu;
  bool seShortcut = false;
  bool operator==(const Architecture &o) const {
    return blocks == o.blocks && interactions == o.interactions && widths == o.widths &&
           mlpAct == o.mlpAct && seShortcut == o.seShortcut;
  }
};

/// The search space's ranges (the spec's defaults).
struct SearchSpace {
  int64_t minBlocks = 2, maxBlocks = 4;
  /// Stage 1's candidate operations, in choice-index order (default: all).
  std::vector<SeqOp> ops{SeqOp::Conv1,      SeqOp::Conv3,      SeqOp::Conv5,
                         SeqOp::DilatedConv3, SeqOp::Attention1, SeqOp::Attention2,
                         SeqOp::Attention4, SeqOp::Gru,        SeqOp::Zero};
  std::vector<int64_t> widths{64, 128, 256, 512};
  int64_t mlpLayers = 3;
  int64_t maxOrder = 4;
};

/// What to build: the stage whose choices become mm.choice points (0: none,
/// a child), the architecture of the other stages, and for stage 2 the
/// candidate groups (`fixed.interactions` stay in every child).
struct SupernetSpec {
  int stage = 0;
  Architecture fixed;
  std::vector<FieldGroup> candidates;
};

enum class Program { Loss, Score };
inline constexpr const char *kLossFunction = "loss";
inline constexpr const char *kScoreFunction = "score";

/// The supernet (or child) as a module holding one function. Throws
/// mm::Error on an architecture outside `space` or `shape`.
mlir::OwningOpRef<mlir::ModuleOp> buildAmer(mlir::MLIRContext &context, const DataShape &shape,
                                            const SearchSpace &space, const SupernetSpec &spec,
                                            Program program);

/// The `name=index` list that specialises the stage-`spec.stage` supernet to
/// `child` (which must agree with `spec.fixed` outside that stage). Choice
/// points a child does not use (blocks past its N, the norm and activation of
/// a zero block) get index 0, so equal children have equal assignments.
std::map<std::string, int64_t> assignment(const DataShape &shape, const SearchSpace &space,
                                          const SupernetSpec &spec, const Architecture &child);

/// A stage-2 interaction choice point's name: "inter." + field names joined by '*'.
std::string groupName(const DataShape &shape, const FieldGroup &group);

/// Baselines: "din", "sasrec", "deepfm", "dcn", "mlp".
const std::vector<std::string> &baselineNames();
mlir::OwningOpRef<mlir::ModuleOp> buildBaseline(mlir::MLIRContext &context,
                                                const DataShape &shape,
                                                const std::string &baseline, Program program);

/// Erases the selector arguments nothing uses any more (after specialisation).
void dropUnusedSelectors(mlir::ModuleOp module);

} // namespace mm::amer

#endif // MM_MODELS_AMERBUILDER_H
